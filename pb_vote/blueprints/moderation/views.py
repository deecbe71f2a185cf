"""Moderation of a table's proposals by its members and coordinator: the queue (with bulk
accept and reject), staff proposals, the actions (accept, ask for changes, reject, hide,
merge), and the review around them: cost reviews, opinions asked of city departments,
internal notes, and each proposal's history.
Each view: load (404) -> authorize (403) -> validate -> service -> commit -> redirect."""

from datetime import timedelta

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext, ngettext
from flask_login import current_user, login_required

from pb_vote import clock, notifications
from pb_vote.blueprints.common import load_or_404, load_round, no_store, require
from pb_vote.blueprints.messages import message_for
from pb_vote.blueprints.moderation.forms import (
    BulkForm,
    CostReviewForm,
    NoteForm,
    QueueFilterForm,
    action_forms,
    ask_opinion_form,
    offered_actions,
)
from pb_vote.blueprints.proposals.forms import ImageForm, ImageRemovalForm, StaffProposalForm
from pb_vote.blueprints.staff_reports import presentation
from pb_vote.blueprints.uploads import (
    delete_files,
    image_settings,
    image_store,
    uploaded_image,
)
from pb_vote.extensions import db
from pb_vote.models import Proposal, ProposalImage, ProposalOrigin
from pb_vote.services import catalog, exports, reviews
from pb_vote.services import images as image_service
from pb_vote.services import proposals as proposal_service
from pb_vote.services import supports as support_service
from pb_vote.services.permissions import Action

bp = Blueprint("moderation", __name__, url_prefix="/manage")


@bp.get("/rounds/<int:round_id>/proposals")
@login_required
def queue(round_id: int):
    """The moderation queue with filters (status, origin, category, search)."""
    no_store()
    round_ = load_round(round_id)
    require(Action.MODERATE, round_)
    filters = QueueFilterForm(request.args).with_choices(round_)
    proposals = catalog.public_proposals(
        round_, query=filters.q.data or "", category=filters.category.data or None,
        sort="oldest", statuses=filters.statuses(), origin=filters.chosen_origin(),
    )
    return render_template("moderation/queue.html", round=round_, proposals=proposals,
                           support_counts=support_service.support_counts(round_),
                           filters=filters, bulk=BulkForm(formdata=None))


@bp.post("/rounds/<int:round_id>/proposals/bulk")
@login_required
def bulk_action(round_id: int):
    """Accept or reject the ticked proposals with one reason. Each is done by the rules of
    one at a time; those that cannot be are left as they were and listed with why, and the
    rest are done."""
    no_store()
    round_ = load_round(round_id)
    require(Action.MODERATE, round_)
    form = BulkForm()
    if not form.validate_on_submit():
        return _queue_again(round_, form)
    chosen = []
    for proposal_id in dict.fromkeys(form.proposal.data):
        proposal = db.session.get(Proposal, proposal_id)
        if proposal is None or proposal.round_id != round_.id:
            abort(404)  # a proposal of another round (or table) is no business of this form
        chosen.append((proposal, form.seen_of(proposal_id, request.form)))
    try:
        outcome = proposal_service.bulk_moderate(current_user, chosen, form.action.data,
                                                 form.reason.data)
    except proposal_service.ProposalError as error:
        db.session.rollback()
        form.submit.errors = [message_for(error)]
        return _queue_again(round_, form)
    for proposal in outcome.done:
        notifications.proposal_status_changed(proposal)
    db.session.commit()
    if outcome.done:
        flash(ngettext("%(num)d proposal done. Its author gets a mail about it.",
                       "%(num)d proposals done. Their authors get a mail about it.",
                       len(outcome.done)), "success")
    for proposal, error in outcome.refused:
        flash(gettext("#%(id)s %(title)s was not done: %(why)s", id=proposal.id,
                      title=proposal.title, why=message_for(error)), "error")
    return redirect(url_for("moderation.queue", round_id=round_.id), code=303)


def _queue_again(round_, form: BulkForm):
    """The queue again after a refused bulk form: its errors shown, the ticks kept."""
    filters = QueueFilterForm(formdata=None).with_choices(round_)
    proposals = catalog.public_proposals(round_, query="", category=None, sort="oldest",
                                         statuses=list(proposal_service.S), origin=None)
    return render_template("moderation/queue.html", round=round_, proposals=proposals,
                           support_counts=support_service.support_counts(round_),
                           filters=filters, bulk=form), 400


@bp.route("/rounds/<int:round_id>/proposals/new", methods=["GET", "POST"])
@login_required
def add_proposal(round_id: int):
    """Staff add a proposal on behalf of the table or the city."""
    no_store()
    round_ = load_round(round_id)
    require(Action.MODERATE, round_)
    form = StaffProposalForm().with_categories(round_)
    if form.validate_on_submit():
        try:
            upload = uploaded_image(form)
            proposal = proposal_service.submit_proposal(
                current_user, round_, form.draft(), origin=ProposalOrigin(form.origin.data)
            )
            if upload:
                image_service.add_image(current_user, proposal, upload, form.image_alt.data,
                                        image_store(), image_settings(), proposal.language)
        except image_service.ImageError as error:
            db.session.rollback()
            form.image.errors = [message_for(error)]
        except proposal_service.ProposalError as error:
            db.session.rollback()
            form.submit.errors = [message_for(error)]
        else:
            db.session.commit()
            flash(gettext("The proposal is added."), "success")
            return redirect(url_for("moderation.moderate", proposal_id=proposal.id), code=303)
    return render_template("proposals/form.html", form=form, round=round_,
                           window_open=round_.phase.moderation_open, editing=None,
                           images_allowed=image_settings().per_proposal)


@bp.get("/proposals/<int:proposal_id>")
@login_required
def moderate(proposal_id: int):
    """A proposal from the moderators' side: the actions that fit its status, the other
    ones still possible behind a disclosure, and its review: opinions, notes, history."""
    no_store()
    proposal = load_or_404(Proposal, proposal_id)
    load_round(proposal.round_id)
    require(Action.MODERATE, proposal)
    return _moderate_page(proposal, action_forms(proposal))


def _moderate_page(proposal: Proposal, forms: dict, *, failed: str | None = None,
                   status: int = 200, images: dict | None = None, **review_forms):
    """The moderation page of ``proposal`` with ``forms`` (and any review form given;
    ``images`` is the images section when one of its forms was refused)."""
    review = {"cost": CostReviewForm(prefix="cost", formdata=None),
              "opinion": ask_opinion_form(proposal) if "opinion" not in review_forms else None,
              "note": NoteForm(prefix="note", formdata=None)}
    review.update(review_forms)
    return render_template(
        "moderation/moderate.html", proposal=proposal, forms=forms,
        offered=offered_actions(proposal, forms), failed=failed, review=review,
        cost_reviewable=proposal.status in proposal_service.COST_REVIEWABLE,
        support_count=support_service.support_count(proposal),
        opinions=reviews.opinions_of(proposal), notes=reviews.notes_of(proposal),
        history=exports.proposal_history(proposal), step_words=presentation.step_words,
        step_who=presentation.step_who, step_details=presentation.step_details,
        ROLE_WORDS=presentation.ROLE_WORDS, **(images or _image_forms(proposal))), status


def _image_forms(proposal: Proposal, **failed) -> dict:
    """What the page's images section needs: the form to add one (when staff may) and a
    removal form for each shown image; ``failed`` replaces the one that was refused."""
    removals = {image.id: ImageRemovalForm(prefix=f"image-{image.id}")
                for image in proposal.shown_images}
    removals.update(failed.pop("removals", {}))
    return {"image_form": failed.pop("image_form", None) or ImageForm(),
            "removal_forms": removals,
            "may_add_images": image_service.may_change_images(current_user, proposal,
                                                               clock.utcnow())
            and len(proposal.shown_images) < image_settings().per_proposal,
            "failed_image": failed.pop("failed_image", None)}


def _run(action: str, proposal: Proposal, form) -> list[Proposal]:
    """Call the service for one moderation action with its form's values, from the status
    its page showed."""
    seen = form.seen_status()
    if action == "accept":
        return proposal_service.accept(current_user, proposal, form.reviewed_cost.data,
                                       form.public_note.data or "", seen=seen,
                                       support_override=form.support_override.data or "")
    if action == "merge":
        duplicates = [load_or_404(Proposal, i) for i in form.duplicates.data]
        return proposal_service.merge(current_user, duplicates, proposal, seen=seen)
    act = {"changes": proposal_service.request_changes, "reject": proposal_service.reject,
           "hide": proposal_service.hide}[action]
    return act(current_user, proposal, form.reason.data, seen=seen)


@bp.post("/proposals/<int:proposal_id>/<action>")
@login_required
def moderation_action(proposal_id: int, action: str):
    """Run one moderation action; the authors are told by mail."""
    proposal = load_or_404(Proposal, proposal_id)
    load_round(proposal.round_id)
    require(Action.MODERATE, proposal)
    forms = action_forms(proposal)
    form = forms.get(action) or abort(404)
    if form.validate_on_submit():
        try:
            changed = _run(action, proposal, form)
        except proposal_service.ProposalError as error:
            db.session.rollback()
            form.submit.errors = [message_for(error)]
        else:
            notifications.proposals_moderated(proposal, changed, merged=action == "merge")
            db.session.commit()
            flash(gettext("Done. The author gets a mail about it."), "success")
            return redirect(url_for("moderation.moderate", proposal_id=proposal.id), code=303)
    return _moderate_page(proposal, forms, failed=action, status=400)


def _reviewed(proposal: Proposal, message: str):
    flash(message, "success")
    return redirect(url_for("moderation.moderate", proposal_id=proposal.id) + "#review",
                    code=303)


@bp.post("/proposals/<int:proposal_id>/review/cost")
@login_required
def review_cost(proposal_id: int):
    """Write the reviewed cost before the decision; the status stays."""
    proposal = load_or_404(Proposal, proposal_id)
    load_round(proposal.round_id)
    require(Action.MODERATE, proposal)
    form = CostReviewForm(prefix="cost")
    if form.validate_on_submit():
        try:
            proposal_service.review_cost(current_user, proposal, form.reviewed_cost.data,
                                         form.note.data or "", seen=form.seen_status())
        except proposal_service.ProposalError as error:
            db.session.rollback()
            form.submit.errors = [message_for(error)]
        else:
            db.session.commit()
            return _reviewed(proposal, gettext("The reviewed cost is saved."))
    return _moderate_page(proposal, action_forms(proposal), failed="cost", status=400,
                          cost=form)


@bp.post("/proposals/<int:proposal_id>/review/opinion")
@login_required
def ask_opinion(proposal_id: int):
    """Ask a city department's contact for a cost and feasibility opinion: they get a
    mail with a one-time link to answer without an account."""
    proposal = load_or_404(Proposal, proposal_id)
    load_round(proposal.round_id)
    require(Action.MODERATE, proposal)
    form = ask_opinion_form(proposal)
    if form.validate_on_submit():
        asked = reviews.OpinionAsked(form.contact_name.data, form.department.data,
                                     form.contact_email.data, form.question.data or "",
                                     form.language.data)
        days = current_app.config["OPINION_LINK_DAYS"]
        try:
            opinion, token = reviews.ask_opinion(current_user, proposal, asked,
                                                 timedelta(days=days))
        except reviews.ReviewError as error:
            db.session.rollback()
            form.submit.errors = [message_for(error)]
        else:
            notifications.opinion_requested(opinion, token)
            db.session.commit()
            return _reviewed(proposal, gettext(
                "The question is sent to %(email)s. You get a mail when they answer.",
                email=opinion.contact_email))
    return _moderate_page(proposal, action_forms(proposal), failed="opinion", status=400,
                          opinion=form)


@bp.post("/proposals/<int:proposal_id>/review/note")
@login_required
def add_note(proposal_id: int):
    """Keep an internal note on the proposal (staff only, in any phase)."""
    proposal = load_or_404(Proposal, proposal_id)
    load_round(proposal.round_id)
    require(Action.MODERATE, proposal)
    form = NoteForm(prefix="note")
    if form.validate_on_submit():
        try:
            reviews.add_note(current_user, proposal, form.body.data)
        except reviews.ReviewError as error:
            db.session.rollback()
            form.submit.errors = [message_for(error)]
        else:
            db.session.commit()
            return _reviewed(proposal, gettext("The note is saved."))
    return _moderate_page(proposal, action_forms(proposal), failed="note", status=400,
                          note=form)


@bp.post("/proposals/<int:proposal_id>/images")
@login_required
def add_image(proposal_id: int):
    """Staff add an image to a proposal of their table (audited)."""
    proposal = load_or_404(Proposal, proposal_id)
    load_round(proposal.round_id)
    require(Action.MODERATE, proposal)
    form = ImageForm()
    if form.validate_on_submit():
        try:
            upload = uploaded_image(form)
            image_service.add_image(current_user, proposal, upload, form.image_alt.data,
                                    image_store(), image_settings())
        except image_service.ImageError as error:
            db.session.rollback()
            form.image.errors = [message_for(error)]
        else:
            db.session.commit()
            flash(gettext("The image is added."), "success")
            return redirect(url_for("moderation.moderate", proposal_id=proposal.id), code=303)
    no_store()
    return _moderate_page(proposal, action_forms(proposal), status=400,
                          images=_image_forms(proposal, image_form=form, failed_image="add"))


@bp.post("/images/<int:image_id>/remove")
@login_required
def remove_image(image_id: int):
    """A moderator removes an image with a reason (audited; the author sees the reason)."""
    image = load_or_404(ProposalImage, image_id)
    proposal = image.proposal
    load_round(proposal.round_id)
    require(Action.MODERATE, proposal)
    form = ImageRemovalForm(prefix=f"image-{image.id}")
    if form.validate_on_submit():
        try:
            unused = image_service.remove_image(current_user, image, form.reason.data)
        except image_service.ImageError as error:
            db.session.rollback()
            form.submit.errors = [message_for(error)]
        else:
            db.session.commit()
            delete_files(unused)
            flash(gettext("The image is removed. Its author sees the reason."), "success")
            return redirect(url_for("moderation.moderate", proposal_id=proposal.id), code=303)
    no_store()
    return _moderate_page(proposal, action_forms(proposal), status=400,
                          images=_image_forms(proposal, removals={image.id: form},
                                              failed_image=image.id))
