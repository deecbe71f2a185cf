"""The notices residents get: who is told what, and how far the telling has come.

Residents opt in on their account page to each kind of notice (``NoticeKind``, off until
they say so) and leave it with one click from any notice (a signed link,
:func:`unsubscribe_token`): when a round of their area takes ideas, when voting opens there,
a reminder before voting closes (only to those who have not voted yet in the round), and
when results are published. "Their area" is the postal code on their account in the round's
table's area. A phase move stores a ``RoundMailing`` (:func:`plan_phase_notices`; the clock
stores the reminder's, :func:`plan_due_reminders`), and a background job
(``pb_vote.jobs.mail_round_notices``) writes the notices in batches, each recorded in
``sent_notices``, whose key sends a notice once per round, kind and person whatever job
writes it.

The notices of a publication go to the authors of the round's proposals, to the voters
who asked for them and to the residents of its area who opted in to results, each once,
and to nobody who unsubscribed from results (unless they asked again when voting).
Publishing stores a ``ResultsMailing`` (:func:`plan_notices`); a background job
(``pb_vote.jobs.mail_results``) then takes the people in batches, in the order of their
ids: it holds the mailing (:func:`hold_mailing`), reads the next batch
(:func:`next_batch`), queues its mail and moves the mailing past it (:func:`mark_told`), all
in one transaction. A job run again, or two at once, goes on where the last batch stopped.
"""

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import and_, exists, func, select
from sqlalchemy.dialects import postgresql, sqlite

from pb_vote import clock
from pb_vote.errors import ServiceError
from pb_vote.extensions import db
from pb_vote.models import (
    NoticeKind,
    NoticePreference,
    Participation,
    Proposal,
    Publication,
    Round,
    RoundMailing,
    RoundPhase,
    SentNotice,
    TablePostalCode,
    User,
    VoterEligibility,
)
from pb_vote.models.mail import ResultsMailing
from pb_vote.services.locking import locked

# A mailing that has not moved for this long lost its job (a dead worker, a lost task).
STALE_AFTER = timedelta(minutes=2)


# The phase whose start each round notice tells of.
PHASE_NOTICES = {RoundPhase.PROPOSALS: NoticeKind.IDEAS_OPEN,
                 RoundPhase.VOTING: NoticeKind.VOTING_OPEN}
# Set in a session's ``info``: the round mailings its transaction stored, for the job.
PLANNED = "pb_vote_round_mailings_planned"
_UNSUBSCRIBE_SALT = "pb_vote.unsubscribe"


@dataclass(frozen=True)
class Batch:
    """The next people to tell (users, or rows with their id, email and language), and the
    id the mailing moves to once they are told."""

    people: list
    up_to: int


def _insert():
    return (postgresql.insert if db.session.get_bind().dialect.name == "postgresql"
            else sqlite.insert)


# -- What each person asked for ---------------------------------------------------------

def stated_preferences(user_id: int) -> dict[NoticeKind, bool]:
    """What the person said about each kind of notice (a kind they never chose is absent)."""
    return dict(db.session.execute(
        select(NoticePreference.kind, NoticePreference.subscribed)
        .where(NoticePreference.user_id == user_id)).all())


def subscribed_kinds(user_id: int) -> set[NoticeKind]:
    """The kinds of notice the person opted in to (what their account page ticks)."""
    return {kind for kind, on in stated_preferences(user_id).items() if on}


def _store_preference(user_id: int, kind: NoticeKind, subscribed: bool) -> None:
    insert = _insert()(NoticePreference).values(
        user_id=user_id, kind=kind, subscribed=subscribed, changed_at=clock.utcnow())
    db.session.execute(insert.on_conflict_do_update(
        index_elements=["user_id", "kind"],
        set_={"subscribed": insert.excluded.subscribed,
              "changed_at": insert.excluded.changed_at}))


def set_subscriptions(user: User, wanted: set[NoticeKind]) -> list[NoticeKind]:
    """Opt ``user`` in to the ``wanted`` kinds and out of those they had opted in to and no
    longer want; returns the kinds changed. A kind they never chose and do not want stays
    unsaid (so the results of their own proposals' rounds still come). Flushes."""
    stated = stated_preferences(user.id)
    changed = [kind for kind in NoticeKind
               if (kind in wanted) != (stated.get(kind) is True)
               and not (kind not in wanted and kind not in stated)]
    for kind in changed:
        _store_preference(user.id, kind, kind in wanted)
    db.session.flush()
    return changed


class UnsubscribeLinkInvalid(ServiceError):
    """An unsubscribe link that was not made here, or was changed."""

    def __init__(self) -> None:
        super().__init__("unsubscribe_link_invalid")


@dataclass(frozen=True)
class UnsubscribeClaims:
    """What a genuine unsubscribe link says: whose address, and which kind of notice."""

    user_id: int
    kind: NoticeKind
    email_digest: str


def _email_digest(email: str) -> str:
    return hashlib.sha256(email.encode()).hexdigest()[:16]


def unsubscribe_token(secret_key: str, user_id: int, email: str, kind: NoticeKind) -> str:
    """The signed part of a notice's unsubscribe link: it names the person (by id, and their
    address by a digest, so it never works for another account) and the kind. It does not
    expire: a notice may be read long after it came."""
    return URLSafeSerializer(secret_key, salt=_UNSUBSCRIBE_SALT).dumps(
        [user_id, kind.value, _email_digest(email)])


def read_unsubscribe_token(secret_key: str, token: str) -> UnsubscribeClaims:
    """What a link's token says; raises UnsubscribeLinkInvalid when it is not ours."""
    try:
        user_id, kind, digest = URLSafeSerializer(secret_key, salt=_UNSUBSCRIBE_SALT).loads(
            token)
        return UnsubscribeClaims(int(user_id), NoticeKind(kind), str(digest))
    except (BadSignature, ValueError, TypeError):
        raise UnsubscribeLinkInvalid() from None


def person_of(claims: UnsubscribeClaims) -> User | None:
    """The account a genuine link was made for; None once it is deleted (or its address is
    no longer the one the link was sent to)."""
    user = db.session.get(User, claims.user_id)
    if user is None or _email_digest(user.email) != claims.email_digest:
        return None
    return user


def is_unsubscribed(user: User, kind: NoticeKind) -> bool:
    """Whether the person said no to ``kind`` (by a link, or on the account page)."""
    return stated_preferences(user.id).get(kind) is False


def unsubscribe(user: User, kind: NoticeKind) -> None:
    """Stop every notice of ``kind`` to ``user`` (the results: also those of their own
    proposals' rounds and those asked for when voting). Safe to repeat. Flushes."""
    _store_preference(user.id, kind, False)
    db.session.flush()


# -- The notices of a round: ideas open, voting open, the reminder ----------------------

def plan_round_notices(round_id: int, kind: NoticeKind) -> bool:
    """Record that the notices of ``kind`` for a round are due (once: a second call does
    nothing), in the caller's transaction; after its commit the job is handed out
    (``pb_vote.tasks``). Returns whether this call stored it."""
    stored = db.session.execute(
        _insert()(RoundMailing)
        .values(round_id=round_id, kind=kind, requested_at=clock.utcnow(), notified_up_to=0,
                notified=0)
        .on_conflict_do_nothing(index_elements=["round_id", "kind"])
        .returning(RoundMailing.round_id)).first() is not None
    if stored:
        db.session.info.setdefault(PLANNED, set()).add((round_id, kind.value))
    return stored


def plan_phase_notices(round_id: int, phase: RoundPhase) -> None:
    """The notices a round entering ``phase`` gives (ideas open, voting open), if any."""
    if phase in PHASE_NOTICES:
        plan_round_notices(round_id, PHASE_NOTICES[phase])


def planned_mailings(session) -> set[tuple[int, str]]:
    """The round mailings (round id, kind) the session's ended transaction stored (and
    forget them)."""
    return session.info.pop(PLANNED, set())


def reminds(round_: Round) -> bool:
    """Whether a round's voters can be reminded: residents vote online in it (a code's or
    a paper ballot's voter is nobody we can tell has not voted)."""
    return round_.voter_eligibility is not VoterEligibility.CODES


def plan_due_reminders(now: datetime, lead: timedelta) -> list[int]:
    """Store the reminder of every round in voting whose close is ``lead`` away or nearer
    (once each); a window shorter than ``lead`` gets none (the notice that voting opened
    was the reminder). Returns the rounds' ids."""
    due = db.session.execute(
        select(Round).where(
            Round.phase == RoundPhase.VOTING, Round.voting_close_at > now,
            Round.voting_close_at <= now + lead,
            ~exists().where(RoundMailing.round_id == Round.id,
                            RoundMailing.kind == NoticeKind.VOTING_REMINDER))
        .order_by(Round.id)).scalars().all()
    planned = []
    for round_ in due:
        long_enough = round_.voting_close_at - lead >= round_.voting_open_at
        if (reminds(round_) and long_enough
                and plan_round_notices(round_.id, NoticeKind.VOTING_REMINDER)):
            planned.append(round_.id)
    return planned


def still_due(round_: Round, kind: NoticeKind, now: datetime) -> bool:
    """Whether the notices of ``kind`` still tell the truth: a round that moved on (a
    server down through a whole window, a cancellation) gets none."""
    if kind is NoticeKind.IDEAS_OPEN:
        return round_.phase is RoundPhase.PROPOSALS and now < round_.proposals_close_at
    return round_.phase is RoundPhase.VOTING and now < round_.voting_close_at


def hold_round_mailing(round_id: int, kind: NoticeKind) -> RoundMailing | None:
    """The mailing of a round and kind, locked until this transaction ends (another job
    on it waits), read afresh; None when there is none."""
    found = locked(select(RoundMailing).where(RoundMailing.round_id == round_id,
                                              RoundMailing.kind == kind))
    return found[0] if found else None


def _area(table_id: int):
    return select(TablePostalCode.postal_code).where(TablePostalCode.table_id == table_id)


def _subscribed(kind: NoticeKind):
    """Joins a person to their opt-in to ``kind``."""
    return and_(NoticePreference.user_id == User.id, NoticePreference.kind == kind,
                NoticePreference.subscribed.is_(True))


def next_round_batch(mailing: RoundMailing, round_: Round, size: int) -> Batch:
    """The next ``size`` people to tell of ``mailing`` after the last one looked at: the
    residents of the round's area who opted in to its kind (for the reminder, only those
    who have not voted in the round), in id order, in one query."""
    query = (select(User.id, User.email, User.language)
             .join(NoticePreference, _subscribed(mailing.kind))
             .where(User.postal_code.in_(_area(round_.table_id)),
                    User.id > mailing.notified_up_to)
             .order_by(User.id).limit(size))
    if mailing.kind is NoticeKind.VOTING_REMINDER:
        query = query.where(~exists().where(Participation.round_id == round_.id,
                                            Participation.user_id == User.id))
    people = db.session.execute(query).all()
    return Batch(people, people[-1].id if people else mailing.notified_up_to)


def record_sent(mailing: RoundMailing, people: list) -> list:
    """Record that ``people`` are sent the notice of ``mailing``, in one statement; returns
    those not recorded before (only they are to be told: the key of ``sent_notices`` keeps
    a notice to one person once, whatever job writes it)."""
    if not people:
        return []
    now = clock.utcnow()
    fresh = set(db.session.execute(
        _insert()(SentNotice)
        .values([{"round_id": mailing.round_id, "kind": mailing.kind, "user_id": person.id,
                  "sent_at": now} for person in people])
        .on_conflict_do_nothing(index_elements=["round_id", "kind", "user_id"])
        .returning(SentNotice.user_id)).scalars())
    return [person for person in people if person.id in fresh]


def finish(mailing: RoundMailing) -> None:
    """End a mailing that has nobody to tell (its round moved on). Flushes."""
    mailing.finished_at = mailing.progressed_at = clock.utcnow()
    db.session.flush()


def stalled_round_mailings(now: datetime | None = None) -> list[tuple[int, str]]:
    """The round mailings (round id, kind) unfinished and still for ``STALE_AFTER``: their
    job is to be handed out again."""
    limit = (now or clock.utcnow()) - STALE_AFTER
    moved = func.coalesce(RoundMailing.progressed_at, RoundMailing.requested_at)
    return [(round_id, kind.value) for round_id, kind in db.session.execute(
        select(RoundMailing.round_id, RoundMailing.kind)
        .where(RoundMailing.finished_at.is_(None), moved < limit)
        .order_by(RoundMailing.round_id, RoundMailing.kind))]


# -- The results of a publication ------------------------------------------------------


def plan_notices(publication: Publication) -> ResultsMailing:
    """Record that the people who asked are to be told of ``publication`` (flushes; in the
    publication's transaction, so the notices are due exactly when it exists)."""
    mailing = ResultsMailing(publication_id=publication.id, round_id=publication.round_id)
    db.session.add(mailing)
    db.session.flush()
    return mailing


def hold_mailing(publication_id: int) -> ResultsMailing | None:
    """The mailing of a publication, locked until this transaction ends (any other job
    on it waits), read afresh; None when there is none."""
    found = locked(select(ResultsMailing).where(
        ResultsMailing.publication_id == publication_id))
    return found[0] if found else None


def next_batch(mailing: ResultsMailing, size: int) -> Batch:
    """The next ``size`` people of the mailing's round to tell, after the last one told:
    the authors of its proposals, the voters who asked when voting, and the residents of
    its area who opted in to results notices; never one who said no to them.

    Each source is read in id order from where the mailing stands, so a batch costs the
    same whatever the number of people before it (participations are indexed by round and
    person); a person who is in several sources comes once.
    """
    after, round_id = mailing.notified_up_to, mailing.round_id
    table_id = db.session.execute(
        select(Round.table_id).where(Round.id == round_id)).scalar_one()
    residents = db.session.execute(
        select(User.id).join(NoticePreference, _subscribed(NoticeKind.RESULTS))
        .where(User.postal_code.in_(_area(table_id)), User.id > after)
        .order_by(User.id).limit(size)).scalars()
    authors = db.session.execute(
        select(Proposal.author_id).distinct()
        .where(Proposal.round_id == round_id, Proposal.author_id > after)
        .order_by(Proposal.author_id).limit(size)).scalars()
    voters = db.session.execute(
        select(Participation.user_id)
        .where(Participation.round_id == round_id, Participation.user_id > after,
               Participation.notify_results.is_(True))
        .order_by(Participation.user_id).limit(size)).scalars().all()
    ids = sorted({*authors, *voters, *residents})[:size]
    if not ids:
        return Batch([], after)
    # A no to results notices (a link, the account page) stops them all, but for a voter
    # who asked for this round's when voting after saying it: the newer word wins.
    asked_since = exists().where(
        Participation.round_id == round_id,
        Participation.user_id == NoticePreference.user_id,
        Participation.notify_results.is_(True),
        Participation.last_voted_at > NoticePreference.changed_at).correlate(NoticePreference)
    said_no = select(NoticePreference.user_id).where(
        NoticePreference.user_id.in_(ids), NoticePreference.kind == NoticeKind.RESULTS,
        NoticePreference.subscribed.is_(False), ~asked_since)
    people = list(db.session.execute(
        select(User).where(User.id.in_(ids), User.id.not_in(said_no))
        .order_by(User.id)).scalars())
    return Batch(people, ids[-1])  # an account deleted meanwhile is passed over


def mark_told(mailing: ResultsMailing | RoundMailing, batch: Batch,
              told: int | None = None) -> None:
    """Move the mailing past ``batch``, of whom ``told`` (default: all) were told (flushes);
    an empty batch finishes it."""
    now = clock.utcnow()
    mailing.progressed_at = now
    if batch.up_to == mailing.notified_up_to:  # nobody left after the last one told
        mailing.finished_at = now
    mailing.notified_up_to = batch.up_to
    mailing.notified += len(batch.people) if told is None else told
    db.session.flush()


def stalled_mailings(now: datetime | None = None) -> list[int]:
    """The publications whose mailing is unfinished and has not moved for ``STALE_AFTER``:
    their job is to be handed out again."""
    limit = (now or clock.utcnow()) - STALE_AFTER
    moved = func.coalesce(ResultsMailing.progressed_at, ResultsMailing.requested_at)
    return list(db.session.execute(
        select(ResultsMailing.publication_id)
        .where(ResultsMailing.finished_at.is_(None), moved < limit)
        .order_by(ResultsMailing.publication_id)).scalars())
