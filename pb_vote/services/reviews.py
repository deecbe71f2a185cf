"""Reviewing a proposal beyond moderation: asking a city department for a cost and
feasibility opinion, the department's answer through a one-time link, and the reviewers'
internal notes. Every step is audited on the proposal, so the staff's history of it (and
its export) shows who asked, answered and noted what, and when.

The link's token is random (256 bits) and stored only as its SHA-256: the database never
holds a usable link. Answering locks the request's row and is one conditional update on
it still unanswered and unexpired, so two answers sent at once record one, and opening the
link (a mail scanner, a preview) only shows it."""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select, update

from pb_vote import clock
from pb_vote.errors import ServiceError
from pb_vote.extensions import db
from pb_vote.models import (
    LANGUAGES,
    Feasibility,
    FeasibilityRequest,
    Proposal,
    ReviewNote,
    User,
)
from pb_vote.services.accounts import normalize_email
from pb_vote.services.audit import record_event
from pb_vote.services.locking import locked
from pb_vote.services.proposals import MODERATABLE

DEPARTMENT_ROLE = "department"  # the audit role of a contact answering through a link
TOKEN_BYTES = 32
LONGEST_TOKEN = 100  # a longer one in an address is not ours: no look-up


class ReviewError(ServiceError):
    """A review step was refused."""


@dataclass(frozen=True)
class OpinionAsked:
    """Whom a reviewer asks, and what."""

    contact_name: str
    department: str
    contact_email: str
    question: str = ""
    language: str = "fi"  # of the mail to the contact


@dataclass(frozen=True)
class OpinionGiven:
    """A department's answer."""

    feasibility: Feasibility
    estimated_cost_cents: int | None
    answer: str = ""


def token_hash(token: str) -> str:
    """The SHA-256 of a link's token, as stored."""
    return hashlib.sha256(token.encode()).hexdigest()


def ask_opinion(actor: User, proposal: Proposal, asked: OpinionAsked,
                valid_for: timedelta) -> tuple[FeasibilityRequest, str]:
    """Ask a department's contact for an opinion on ``proposal``; returns the request and
    the token of its one-time link (to mail; it is not stored). Asked while the round
    takes moderation, of a proposal still under review."""
    if not proposal.round.phase.moderation_open:
        raise ReviewError("moderation_closed")
    if proposal.status not in MODERATABLE:
        raise ReviewError("wrong_state", status=proposal.status.value)
    name, email = asked.contact_name.strip(), normalize_email(asked.contact_email)
    if not name or "@" not in email:
        raise ReviewError("contact_required")
    token = secrets.token_urlsafe(TOKEN_BYTES)
    now = clock.utcnow()
    request = FeasibilityRequest(
        proposal=proposal, requested_by=actor, contact_name=name,
        department=asked.department.strip(), contact_email=email,
        question=asked.question.strip(),
        language=asked.language if asked.language in LANGUAGES else proposal.round.main_language,
        token_hash=token_hash(token), requested_at=now, expires_at=now + valid_for)
    db.session.add(request)
    db.session.flush()
    record_event(actor, "proposal.opinion_requested", "proposal", proposal.id,
                 table_id=proposal.round.table_id,
                 details={"request": request.id, "contact": name,
                          "department": request.department, "email": email,
                          "question": request.question})
    return request, token


def request_for_token(token: str) -> FeasibilityRequest:
    """The request a link's token opens, answered or not. Raises ReviewError
    ``opinion_link_invalid`` (no such link: mistyped, cut or made up),
    ``opinion_link_expired``, or ``opinion_not_needed`` (the proposal was withdrawn or
    hidden since: its content is no longer shown)."""
    if not token or len(token) > LONGEST_TOKEN:
        raise ReviewError("opinion_link_invalid")
    found = db.session.execute(
        select(FeasibilityRequest).where(FeasibilityRequest.token_hash == token_hash(token))
    ).scalar_one_or_none()
    if found is None:
        raise ReviewError("opinion_link_invalid")
    if not found.answered and found.expires_at <= clock.utcnow():
        raise ReviewError("opinion_link_expired")
    if not found.answered and not found.proposal.is_public:
        raise ReviewError("opinion_not_needed")  # withdrawn or hidden meanwhile
    return found


def answer_opinion(token: str, given: OpinionGiven) -> FeasibilityRequest:
    """Record the department's answer, once: refused when the link is unknown, expired
    (``opinion_link_expired``) or already answered (``opinion_answered``, also for the
    second of two answers sent at the same moment)."""
    if given.estimated_cost_cents is not None and given.estimated_cost_cents < 0:
        raise ReviewError("cost_negative")
    request_for_token(token)  # unknown or expired: refused before any lock
    # The request's row, the latest and held until this commits (PostgreSQL: FOR UPDATE;
    # SQLite: the write lock first), so a second answer at once waits and finds the first.
    request = locked(select(FeasibilityRequest).where(
        FeasibilityRequest.token_hash == token_hash(token)))[0]
    if request.answered:
        raise ReviewError("opinion_answered", answered_at=request.answered_at)
    now = clock.utcnow()
    changed = db.session.execute(
        update(FeasibilityRequest)
        .where(FeasibilityRequest.id == request.id, FeasibilityRequest.answered_at.is_(None),
               FeasibilityRequest.expires_at > now)
        .values(answered_at=now, feasibility=given.feasibility,
                estimated_cost_cents=given.estimated_cost_cents, answer=given.answer.strip())
        .execution_options(synchronize_session=False)
    )
    if changed.rowcount != 1:
        db.session.expire(request)
        if request.answered:
            raise ReviewError("opinion_answered", answered_at=request.answered_at)
        raise ReviewError("opinion_link_expired")
    db.session.expire(request)
    proposal = request.proposal
    details = {"request": request.id, "contact": request.contact_name,
               "department": request.department, "feasibility": given.feasibility.value,
               "answer": given.answer.strip()}
    if given.estimated_cost_cents is not None:
        details["estimated_cost_cents"] = given.estimated_cost_cents
    record_event(None, "proposal.opinion_answered", "proposal", proposal.id,
                 table_id=proposal.round.table_id, details=details, role=DEPARTMENT_ROLE)
    return request


def add_note(actor: User, proposal: Proposal, body: str) -> ReviewNote:
    """Keep a reviewer's internal note on ``proposal`` (staff only, in any phase)."""
    body = body.strip()
    if not body:
        raise ReviewError("note_required")
    note = ReviewNote(proposal=proposal, author=actor, body=body, created_at=clock.utcnow())
    db.session.add(note)
    db.session.flush()
    record_event(actor, "proposal.note_added", "proposal", proposal.id,
                 table_id=proposal.round.table_id,
                 details={"internal_note": body, "note_id": note.id})
    return note


def opinions_of(proposal: Proposal) -> list[FeasibilityRequest]:
    """The opinions asked on ``proposal``, newest first."""
    return list(db.session.execute(
        select(FeasibilityRequest).where(FeasibilityRequest.proposal_id == proposal.id)
        .order_by(FeasibilityRequest.id.desc())).scalars())


def notes_of(proposal: Proposal) -> list[ReviewNote]:
    """The internal notes on ``proposal``, newest first."""
    return list(db.session.execute(
        select(ReviewNote).where(ReviewNote.proposal_id == proposal.id)
        .order_by(ReviewNote.id.desc())).scalars())
