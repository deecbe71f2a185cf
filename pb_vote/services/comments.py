"""Comments on ideas: who may read, write, report and hide them, and the rate limit.

Residents comment while the round collects or reviews ideas; afterwards a proposal's
comments are read-only. Anyone signed in may comment, whatever their area (an idea concerns
everyone who passes by). A member or coordinator of the proposal's table may answer "as the
table": the public sees the table's name, the row and the audit trail keep the member.
Comments follow their idea's visibility and never go into exports or results.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from pb_vote import clock
from pb_vote.errors import ServiceError
from pb_vote.extensions import db
from pb_vote.models import (
    COMMENT_MAX_LENGTH,
    REPORT_REASON_MAX_LENGTH,
    Comment,
    CommentMailing,
    CommentReport,
    HiddenReason,
    Proposal,
    ProposalStatus,
    Round,
    User,
)
from pb_vote.services import rate_limits
from pb_vote.services.audit import record_event
from pb_vote.services.locking import named_lock
from pb_vote.services.permissions import Action, is_allowed

COMMENT_WINDOW = timedelta(minutes=10)
# Ideas whose discussion is over even while the round still collects or reviews ideas.
CLOSED_STATUSES = frozenset({ProposalStatus.REJECTED, ProposalStatus.WITHDRAWN,
                             ProposalStatus.HIDDEN, ProposalStatus.MERGED})


class CommentError(ServiceError):
    """A comment operation was refused."""


@dataclass(frozen=True)
class CommentLimits:
    """At most ``per_window`` comments per person in 10 minutes, and ``interval`` between
    two of them."""

    per_window: int = 5
    interval: timedelta = timedelta(seconds=20)


def comments_open(proposal: Proposal) -> bool:
    """New comments are taken: the round collects or reviews ideas and the idea is still
    in play (not rejected, withdrawn, hidden or merged)."""
    return proposal.round.phase.moderation_open and proposal.status not in CLOSED_STATUSES


def may_answer_as_table(user: User | None, proposal: Proposal) -> bool:
    """A member or coordinator of the proposal's table (or a city admin) may answer as the
    table."""
    return is_allowed(user, Action.MODERATE, proposal)


def visible_comments(proposal: Proposal) -> list[Comment]:
    """The proposal's comments, oldest first, hidden ones included (the page shows those
    as hidden, without their text)."""
    return list(db.session.execute(
        select(Comment).where(Comment.proposal_id == proposal.id).order_by(Comment.id)
    ).scalars())


def post_comment(author: User, proposal: Proposal, body: str, *, show_name: bool = True,
                 as_table: bool = False, limits: CommentLimits = CommentLimits()) -> Comment:
    """Add ``author``'s comment to ``proposal`` (flushed). Refused when comments are closed,
    the text is empty or too long, ``as_table`` by someone not at the table, or the rate
    limit is reached: it is counted before the insert, under a lock per person held until
    the caller commits, so parallel requests cannot pass it."""
    body = (body or "").strip()
    if not comments_open(proposal):
        raise CommentError("comments_closed")
    if not body:
        raise CommentError("comment_empty")
    if len(body) > COMMENT_MAX_LENGTH:
        raise CommentError("comment_too_long", most=COMMENT_MAX_LENGTH)
    if as_table and not may_answer_as_table(author, proposal):
        raise CommentError("not_at_table")
    who = str(author.id)
    admitted = rate_limits.admit(
        rate_limits.Limit("comment", who, limits.per_window, COMMENT_WINDOW),
        rate_limits.Limit("comment_interval", who, 1, limits.interval))
    if admitted is None:
        raise CommentError("comment_rate_limited", minutes=COMMENT_WINDOW.seconds // 60,
                           most=limits.per_window)
    comment = Comment(proposal=proposal, author=author, body=body,
                      show_name=show_name or as_table, as_table=as_table)
    db.session.add(comment)
    db.session.flush()
    if as_table:
        record_event(author, "comment.answered_as_table", "comment", comment.id,
                     table_id=proposal.round.table_id,
                     details={"proposal_id": proposal.id})
    return comment


def report_comment(reporter: User, comment: Comment, reason: str = "") -> CommentReport:
    """Report ``comment`` to the table's moderators (flushed): once per person, with an
    optional reason; not one's own. A second report by the same person is refused
    (``already_reported``); the database's unique key decides between two at once."""
    reason = (reason or "").strip()
    if len(reason) > REPORT_REASON_MAX_LENGTH:
        raise CommentError("report_reason_too_long", most=REPORT_REASON_MAX_LENGTH)
    if comment.is_hidden:
        raise CommentError("comment_already_hidden")
    if comment.author_id == reporter.id:
        raise CommentError("own_comment")
    if has_reported(reporter, comment):
        raise CommentError("already_reported")
    report = CommentReport(comment_id=comment.id, reporter_id=reporter.id, reason=reason)
    try:
        with db.session.begin_nested():
            db.session.add(report)
            db.session.flush()
    except IntegrityError as error:
        raise CommentError("already_reported") from error
    db.session.expire(comment, ["reports"])
    return report


def has_reported(person: User | None, comment: Comment) -> bool:
    """Whether ``person`` has already reported ``comment``."""
    if person is None or not person.is_authenticated:
        return False
    return db.session.execute(select(CommentReport.id).where(
        CommentReport.comment_id == comment.id, CommentReport.reporter_id == person.id)
    ).first() is not None


def hide_comment(moderator: User, comment: Comment, reason: HiddenReason,
                 note: str = "") -> Comment:
    """Hide ``comment`` (flushed, audited): the public sees "hidden by the moderators" and
    the reason's category in its place, no longer its text. Only the proposal's table
    (or a city admin) may."""
    if not is_allowed(moderator, Action.MODERATE, comment.proposal):
        raise CommentError("not_at_table")
    if comment.is_hidden:
        raise CommentError("comment_already_hidden")
    comment.hidden_at = clock.utcnow()
    comment.hidden_by_id = moderator.id
    comment.hidden_reason = HiddenReason(reason)
    comment.hidden_note = (note or "").strip()
    db.session.flush()
    record_event(moderator, "comment.hidden", "comment", comment.id,
                 table_id=comment.proposal.round.table_id,
                 details={"proposal_id": comment.proposal_id, "reason": comment.hidden_reason.value,
                          "note": comment.hidden_note,
                          "reports": len(comment.reports)})
    return comment


@dataclass(frozen=True)
class ReportedComment:
    """A reported comment still shown, with its reports, for the moderation area."""

    comment: Comment
    reports: list[CommentReport]


def reported_comments(round_: Round) -> list[ReportedComment]:
    """The round's reported comments not yet hidden, most reported first."""
    counts = (select(CommentReport.comment_id, func.count().label("n"))
              .group_by(CommentReport.comment_id).subquery())
    rows = db.session.execute(
        select(Comment).join(counts, counts.c.comment_id == Comment.id)
        .join(Proposal, Proposal.id == Comment.proposal_id)
        .where(Proposal.round_id == round_.id, Comment.hidden_at.is_(None))
        .order_by(counts.c.n.desc(), Comment.id)
    ).scalars()
    return [ReportedComment(comment, list(comment.reports)) for comment in rows]


def new_comments_for_author(proposal: Proposal, after_id: int) -> list[Comment]:
    """Comments shown on ``proposal`` after comment ``after_id``, not the author's own."""
    query = select(Comment).where(Comment.proposal_id == proposal.id, Comment.id > after_id,
                                  Comment.hidden_at.is_(None))
    if proposal.author_id is not None:
        query = query.where((Comment.author_id.is_(None))
                            | (Comment.author_id != proposal.author_id)
                            | Comment.as_table)
    return list(db.session.execute(query.order_by(Comment.id)).scalars())



MAIL_AT_MOST_EVERY = timedelta(hours=1)


def ideas_with_news(now: datetime) -> list[int]:
    """Ids of the proposals whose author asked to be told of comments, with comments by
    others since the last mail, and whose last mail is an hour old (or that had none)."""
    told = (select(CommentMailing.notified_up_to).where(
        CommentMailing.proposal_id == Proposal.id).scalar_subquery())
    mailed = (select(CommentMailing.mailed_at).where(
        CommentMailing.proposal_id == Proposal.id).scalar_subquery())
    newest = (select(func.max(Comment.id)).where(
        Comment.proposal_id == Proposal.id, Comment.hidden_at.is_(None),
        (Comment.author_id != Proposal.author_id) | Comment.as_table
        | Comment.author_id.is_(None)).scalar_subquery())
    return list(db.session.execute(
        select(Proposal.id).join(User, User.id == Proposal.author_id)
        .where(User.mail_on_comments.is_(True), newest > func.coalesce(told, 0),
               (mailed.is_(None)) | (mailed <= now - MAIL_AT_MOST_EVERY))
        .order_by(Proposal.id)
    ).scalars())


@dataclass(frozen=True)
class CommentNews:
    """New comments to tell a proposal's author of, in one mail."""

    proposal: Proposal
    comments: list[Comment]


def hold_news(proposal_id: int, now: datetime) -> CommentNews | None:
    """Lock the proposal's comment mailing until the caller commits, and return what its
    author is to be told, or None (not opted in, told within the hour, nothing new)."""
    named_lock(f"comment_mail:{proposal_id}")
    proposal = db.session.get(Proposal, proposal_id)
    if proposal is None or proposal.author is None or not proposal.author.mail_on_comments:
        return None
    mailing = db.session.execute(
        select(CommentMailing).where(CommentMailing.proposal_id == proposal_id)
        .execution_options(populate_existing=True)).scalar_one_or_none()
    if mailing is not None and mailing.mailed_at > now - MAIL_AT_MOST_EVERY:
        return None
    comments = new_comments_for_author(proposal, mailing.notified_up_to if mailing else 0)
    return CommentNews(proposal, comments) if comments else None


def mark_told(news: CommentNews, now: datetime) -> None:
    """Record that the author was told of ``news`` (flushed)."""
    mailing = db.session.get(CommentMailing, news.proposal.id)
    if mailing is None:
        mailing = CommentMailing(proposal_id=news.proposal.id)
        db.session.add(mailing)
    mailing.notified_up_to = news.comments[-1].id
    mailing.mailed_at = now
    db.session.flush()


def set_mail_on_comments(user: User, wanted: bool) -> None:
    """Turn the mail about new comments on one's ideas on or off (flushed)."""
    user.mail_on_comments = wanted
    db.session.flush()
