"""Administration views (city admins only)."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from wtforms import SelectChoice

from pb_vote import clock, notifications
from pb_vote.blueprints.admin import audit_view
from pb_vote.blueprints.admin.forms import (
    ROLE_NAMES,
    DeleteTableForm,
    MembershipForm,
    PersonForm,
    ReinstateForm,
    ResetSecondFactorForm,
    RetireForm,
    RevokeForm,
    TableForm,
)
from pb_vote.blueprints.common import load_or_404, no_store, require
from pb_vote.blueprints.languages import localized
from pb_vote.blueprints.messages import message_for
from pb_vote.extensions import db
from pb_vote.models import MembershipRole, Table, TableMembership, User
from pb_vote.services import accounts, audit, catalog, second_factor
from pb_vote.services import tables as table_service
from pb_vote.services.permissions import Action
from pb_vote.services.rounds import sync_phase

bp = Blueprint("admin", __name__, url_prefix="/admin")
AUDIT_PAGE_SIZE = 50


@bp.route("", methods=["GET", "POST"])
@login_required
def index():
    """Tables, the people in staff roles, and a form to give a role."""
    no_store()
    require(Action.ADMINISTER)
    tables = catalog.list_tables()
    form = MembershipForm()
    form.table_id.choices = [SelectChoice(t.id, localized(t, "name")) for t in tables]
    if form.validate_on_submit():
        table = load_or_404(Table, form.table_id.data)
        user, _ = accounts.get_or_create_resident(form.email.data)
        accounts.grant_membership(current_user, user, table, MembershipRole(form.role.data))
        notifications.role_granted(user, table)
        db.session.commit()
        flash(gettext("%(email)s is now %(role)s at %(table)s.", email=user.email,
                      role=ROLE_NAMES[form.role.data], table=localized(table, "name")), "success")
        return redirect(url_for("admin.index"), code=303)
    return _index_page(tables, form, ResetSecondFactorForm(prefix="reset", formdata=None))


def _index_page(tables, form, reset_form, status: int = 200):
    memberships = db.session.execute(
        select(TableMembership)
        .options(selectinload(TableMembership.user), selectinload(TableMembership.table))
        .order_by(TableMembership.table_id, TableMembership.role, TableMembership.id)
    ).scalars()
    return render_template(
        "admin/index.html", tables=tables, form=form, memberships=list(memberships),
        revoke_form=RevokeForm(), reset_form=reset_form,
    ), status


@bp.post("/second-factor/reset")
@login_required
def reset_second_factor():
    """Remove another staff member's second factor (a lost phone), with a reason: audited;
    their sessions end and their next sign-in sets it up again."""
    no_store()
    require(Action.ADMINISTER)
    form = ResetSecondFactorForm(prefix="reset")
    if form.validate_on_submit():
        user = accounts.find_user_by_email(form.email.data)
        if user is None or not user.is_staff:
            form.email.errors.append(gettext("No staff account has this address."))
        elif user.id == current_user.id:
            form.email.errors.append(gettext(
                "Another city admin must reset your own second factor."))
        else:
            second_factor.reset(current_user, user, form.reason.data)
            notifications.second_factor_changed(user, "reset")
            db.session.commit()
            flash(gettext("The second factor of %(email)s is reset; they set it up again at "
                          "their next sign-in.", email=user.email), "success")
            return redirect(url_for("admin.index"), code=303)
    tables = catalog.list_tables()
    membership_form = MembershipForm(formdata=None)
    membership_form.table_id.choices = [SelectChoice(t.id, localized(t, "name")) for t in tables]
    return _index_page(tables, membership_form, form, 400)


@bp.post("/memberships/<int:membership_id>/revoke")
@login_required
def revoke(membership_id: int):
    """Remove one role."""
    membership = load_or_404(TableMembership, membership_id)
    require(Action.ADMINISTER)
    if RevokeForm().validate_on_submit():
        accounts.revoke_membership(current_user, membership)
        db.session.commit()
        flash(gettext("The role is removed."), "success")
    return redirect(url_for("admin.index"), code=303)


@bp.get("/audit")
@login_required
def audit_trail():
    """The staff actions, newest first, in plain words with their reasons, filtered by
    table, round, person, action and dates (GET, so a filtered view can be bookmarked),
    a page at a time; and whether the hash chain is intact."""
    no_store()
    require(Action.ADMINISTER)
    asked = audit_view.read_filters(request.args)
    found = audit.event_page(asked.wanted, asked.page, AUDIT_PAGE_SIZE)
    return render_template(
        "admin/audit.html", found=found, asked=asked, check=audit.verify_chain(),
        tables=catalog.list_tables(), rounds=audit.every_round(),
        actors=audit.recorded_actors(), actions=audit.recorded_actions(),
        action_label=audit_view.action_label, role_labels=audit_view.ROLE_LABELS,
        details_of=audit_view.details_of,
    ), 400 if asked.errors else 200


# --- Partnership tables: set up, changed, retired, deleted ------------------------------


@bp.get("/tables")
@login_required
def tables():
    """Every partnership table, in use and retired, with its area and people."""
    no_store()
    require(Action.ADMINISTER)
    return render_template("admin/tables.html", tables=catalog.list_tables())


@bp.route("/tables/new", methods=["GET", "POST"])
@login_required
def new_table():
    """Create a partnership table with its area."""
    no_store()
    require(Action.ADMINISTER)
    form = TableForm()
    if form.validate_on_submit():
        try:
            table = table_service.create_table(current_user, form.details())
        except table_service.TableError as error:
            db.session.rollback()
            form.show_refusal(error)
        else:
            db.session.commit()
            flash(gettext("The table %(table)s is created. Next, add its coordinator and "
                          "members.", table=table.name), "success")
            return redirect(url_for("admin.edit_table", table_id=table.id), code=303)
    return render_template("admin/table_form.html", form=form, table=None), (
        400 if form.errors else 200)


def _table_page(table: Table, form: TableForm, person_form: PersonForm, status: int = 200,
                delete_form: DeleteTableForm | None = None):
    """The page of one table (its form, its people, retiring and deleting)."""
    now = clock.utcnow()
    # Its rounds caught up with their schedules first (and kept), as a round's page does.
    if [round_ for round_ in table.rounds if sync_phase(round_, now)]:
        db.session.commit()
    staff = db.session.execute(
        select(User.email).where(User.id.in_(select(TableMembership.user_id))
                                 | User.is_city_admin).order_by(User.email)).scalars()
    return render_template(
        "admin/table_form.html", table=table, form=form, person_form=person_form,
        revoke_form=RevokeForm(), retire_form=RetireForm(), reinstate_form=ReinstateForm(),
        delete_form=delete_form or DeleteTableForm(formdata=None), staff_emails=list(staff),
        voting=table_service.round_in_voting(table, now),
    ), status


@bp.route("/tables/<int:table_id>", methods=["GET", "POST"])
@login_required
def edit_table(table_id: int):
    """A table's details, its people, and retiring or deleting it."""
    no_store()
    table = load_or_404(Table, table_id)
    require(Action.ADMINISTER)
    form = TableForm()
    if not form.is_submitted():
        form.show(table)
    if form.validate_on_submit():
        try:
            changed = table_service.update_table(current_user, table, form.details(),
                                                 clock.utcnow())
        except table_service.TableError as error:
            db.session.rollback()
            form.show_refusal(error)
        else:
            db.session.commit()
            flash(gettext("The table is saved.") if changed
                  else gettext("Nothing was changed."), "success")
            return redirect(url_for("admin.edit_table", table_id=table.id), code=303)
    return _table_page(table, form, PersonForm(formdata=None),
                       400 if form.is_submitted() else 200)


@bp.post("/tables/<int:table_id>/people")
@login_required
def add_person(table_id: int):
    """Give a person a role at the table: someone on the staff already, or a new person
    invited by email (who gets a link to choose a password)."""
    no_store()
    table = load_or_404(Table, table_id)
    require(Action.ADMINISTER)
    form = PersonForm()
    if not form.validate_on_submit():
        table_form = TableForm(formdata=None)
        table_form.show(table)
        return _table_page(table, table_form, form, 400)
    user, _ = accounts.get_or_create_resident(form.email.data, table.main_language)
    accounts.grant_membership(current_user, user, table, MembershipRole(form.role.data))
    notifications.role_granted(user, table)
    db.session.commit()
    flash(gettext("%(email)s is now %(role)s at %(table)s.", email=user.email,
                  role=ROLE_NAMES[form.role.data], table=localized(table, "name")), "success")
    return redirect(url_for("admin.edit_table", table_id=table.id, _anchor="people"), code=303)


@bp.post("/tables/<int:table_id>/people/<int:membership_id>/remove")
@login_required
def remove_person(table_id: int, membership_id: int):
    """Remove one role at the table."""
    membership = load_or_404(TableMembership, membership_id)
    require(Action.ADMINISTER)
    if membership.table_id != table_id:
        abort(404)
    if RevokeForm().validate_on_submit():
        accounts.revoke_membership(current_user, membership)
        db.session.commit()
        flash(gettext("The role is removed."), "success")
    return redirect(url_for("admin.edit_table", table_id=table_id, _anchor="people"), code=303)


@bp.post("/tables/<int:table_id>/retire")
@login_required
def retire_table(table_id: int):
    """Retire a table (refused while one of its rounds is still going on)."""
    table = load_or_404(Table, table_id)
    require(Action.ADMINISTER)
    if RetireForm().validate_on_submit():
        try:
            table_service.retire_table(current_user, table)
        except table_service.TableError as error:
            db.session.rollback()
            flash(message_for(error), "error")
        else:
            db.session.commit()
            flash(gettext("The table is retired. Its published results stay visible."),
                  "success")
    return redirect(url_for("admin.edit_table", table_id=table.id), code=303)


@bp.post("/tables/<int:table_id>/reinstate")
@login_required
def reinstate_table(table_id: int):
    """Take a retired table back into use."""
    table = load_or_404(Table, table_id)
    require(Action.ADMINISTER)
    if ReinstateForm().validate_on_submit():
        table_service.reinstate_table(current_user, table)
        db.session.commit()
        flash(gettext("The table is in use again."), "success")
    return redirect(url_for("admin.edit_table", table_id=table.id), code=303)


@bp.post("/tables/<int:table_id>/delete")
@login_required
def delete_table(table_id: int):
    """Delete a table that never had a round (one with rounds is retired instead)."""
    no_store()
    table = load_or_404(Table, table_id)
    require(Action.ADMINISTER)
    form = DeleteTableForm()
    if not form.validate_on_submit():
        table_form = TableForm(formdata=None)
        table_form.show(table)
        return _table_page(table, table_form, PersonForm(formdata=None), 400, form)
    name = table.name
    try:
        table_service.delete_table(current_user, table)
    except table_service.TableError as error:
        db.session.rollback()
        flash(message_for(error), "error")
        return redirect(url_for("admin.edit_table", table_id=table_id), code=303)
    db.session.commit()
    flash(gettext("The table %(table)s is deleted.", table=name), "success")
    return redirect(url_for("admin.tables"), code=303)
