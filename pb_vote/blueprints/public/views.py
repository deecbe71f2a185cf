"""Public pages."""

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from flask_login import current_user

from pb_vote import clock
from pb_vote.blueprints.common import load_or_404, load_round, no_store, safe_next_url
from pb_vote.blueprints.languages import LANGUAGE_COOKIE
from pb_vote.blueprints.proposal_page import render_proposal_page
from pb_vote.extensions import db
from pb_vote.mail import outbox
from pb_vote.models import LANGUAGES, Proposal, ProposalStatus
from pb_vote.services import catalog, voting
from pb_vote.services import images as image_service
from pb_vote.services import proposals as proposal_service
from pb_vote.services import supports as support_service
from pb_vote.services.permissions import can_see_round
from pb_vote.services.rounds import proposal_window_open, sync_phase

bp = Blueprint("public", __name__)


@bp.get("/")
def home():
    """Every round a resident can act on now, grouped by what they can do (a signed-in
    resident's own area's marked), then the tables."""
    tables, now = catalog.list_tables(), clock.utcnow()
    # Each round caught up with its schedule first, as load_round does for a round's page.
    if [round_ for table in tables for round_ in table.rounds if sync_phase(round_, now)]:
        db.session.commit()
    published = catalog.last_published(tables)
    groups = catalog.rounds_to_act_on(tables, now, published)
    postal_code = getattr(current_user, "postal_code", None)
    # A retired table is not offered any more; its published results stay in the groups.
    return render_template("public/home.html", groups=groups,
                           tables=[table for table in tables if not table.is_retired],
                           published=published,
                           open_for_ideas={r.id for r in groups["proposals"]
                                           if proposal_window_open(r, now)},
                           home_tables={t.id for t in tables if postal_code
                                        and postal_code in t.postal_codes})


@bp.get("/tables/<slug>")
def table(slug: str):
    """One partnership table: its area, its public rounds, and who sets its agenda."""
    table_ = catalog.table_by_slug(slug) or abort(404)
    shares = proposal_service.origin_shares(table_.id)
    return render_template(
        "public/table.html", table=table_, rounds=catalog.public_rounds(table_),
        shares=shares, share_total=sum(shares.values()),
    )


@bp.get("/rounds/<int:round_id>")
def round_page(round_id: int):
    """A budget round: timeline, budget, what to do now, and its proposals (search, category
    filter, sorting; all plain GET parameters, so it works without JavaScript)."""
    round_ = load_round(round_id)
    if not can_see_round(current_user, round_):
        abort(404)  # a draft is not public; do not reveal that it exists
    query = request.args.get("q", "")[:100]
    category = request.args.get("category") or None
    sort = request.args.get("sort", "newest")
    if sort not in catalog.SORTS:
        sort = "newest"
    proposals = catalog.public_proposals(round_, query=query, category=category, sort=sort)
    # A signed-in resident who voted here is told when (code holders have no account).
    voted = None
    if current_user.is_authenticated and round_.phase.value in ("voting", "closed",
                                                                "published"):
        voted = voting.participation_of(current_user, round_)
    return render_template(
        "public/round.html", round=round_, proposals=proposals, query=query,
        category=category, sort=sort, now=clock.utcnow(),
        window_open=proposal_window_open(round_, clock.utcnow()), voted=voted,
        thumbnails=image_service.first_images(p.id for p in proposals),
        support_counts=support_service.support_counts(round_) if round_.supports_enabled
        else {},
        supported=support_service.supported_by(current_user, round_),
    )


@bp.get("/proposals/<int:proposal_id>")
def proposal_page(proposal_id: int):
    """One proposal: status, costs, notes and reasons, origin, merged-in proposals, and once
    the results are published whether it was funded and why."""
    proposal = load_or_404(Proposal, proposal_id)
    round_ = load_round(proposal.round_id)
    if not can_see_round(current_user, round_):
        abort(404)
    if proposal.status is ProposalStatus.MERGED and proposal.merged_into_id:
        return redirect(url_for("public.proposal_page", proposal_id=proposal.merged_into_id),
                        code=301)
    return render_proposal_page(proposal, round_)


@bp.post("/language")
def set_language():
    """Remember the chosen language (cookie, and the account when signed in)."""
    language = request.form.get("language", "")
    if language not in LANGUAGES:
        abort(400)
    target = safe_next_url(request.form.get("next"), url_for("public.home"))
    response = redirect(target, code=303)
    response.set_cookie(
        LANGUAGE_COOKIE,
        language,
        max_age=365 * 24 * 3600,
        samesite="Lax",
        secure=current_app.config["SESSION_COOKIE_SECURE"],
        httponly=True,
    )
    if current_user.is_authenticated and current_user.language != language:
        current_user.language = language
        db.session.commit()
    return response


@bp.get("/dev/mail")
def dev_mailbox():
    """Development only: the mail the service would have sent, newest first."""
    if not current_app.config.get("DEV_MAILBOX"):
        abort(404)
    no_store()
    return render_template("public/dev_mail.html", messages=list(reversed(outbox(current_app))))
