"""Administration views (city admins only)."""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from wtforms import SelectChoice

from pb_vote import notifications
from pb_vote.blueprints.admin import audit_view
from pb_vote.blueprints.admin.forms import (
    ROLE_NAMES,
    MembershipForm,
    ResetSecondFactorForm,
    RevokeForm,
)
from pb_vote.blueprints.common import load_or_404, no_store, require
from pb_vote.blueprints.languages import localized
from pb_vote.extensions import db
from pb_vote.models import MembershipRole, Table, TableMembership
from pb_vote.services import accounts, audit, catalog, second_factor
from pb_vote.services.permissions import Action

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
