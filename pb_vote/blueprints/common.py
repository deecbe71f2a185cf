"""Helpers every view uses: load-or-404 and check-or-403 in one documented place."""

import time
from collections.abc import Callable
from urllib.parse import urlsplit

from flask import abort, current_app, g
from flask_login import current_user
from sqlalchemy.exc import IntegrityError, OperationalError

from pb_vote.extensions import db
from pb_vote.models import TokenPurpose
from pb_vote.services import voting
from pb_vote.services.ballot_box import VoteKeys
from pb_vote.services.permissions import Action, is_allowed
from pb_vote.text import is_one_line


def load_or_404(model, object_id):
    """The row of ``model`` with this primary key, or a 404 response."""
    obj = db.session.get(model, object_id)
    if obj is None:
        abort(404)
    return obj


def require(action: Action, target=None) -> None:
    """Abort with 401 (sign-in redirect) or 403 unless the current user may do ``action``."""
    if not current_user.is_authenticated:
        from pb_vote.extensions import login_manager

        abort(login_manager.unauthorized())
    if not is_allowed(current_user, action, target):
        abort(403)


def safe_next_url(target: str | None, default: str) -> str:
    """``target`` when it is a path on this site, else ``default`` (no open redirects)."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    if "\\" in target or not is_one_line(target):  # a line break would end in a header
        return default
    return target


def no_store() -> None:
    """Mark this response as not to be cached (pages with personal data)."""
    g.no_store = True


def load_round(round_id: int):
    """A round (404 when missing), caught up with its schedule first: the phase always
    follows server time, even when nobody clicked."""
    from pb_vote.models import Round
    from pb_vote.services.rounds import sync_phase

    round_ = load_or_404(Round, round_id)
    if sync_phase(round_):
        db.session.commit()
    return round_


def link_max_age(purpose: TokenPurpose) -> int:
    """How long a one-time link of ``purpose`` works, in seconds (configuration)."""
    key = ("SIGN_IN_LINK_MAX_AGE_SECONDS" if purpose is TokenPurpose.SIGN_IN
           else "PASSWORD_LINK_MAX_AGE_SECONDS")
    return current_app.config[key]


def vote_keys() -> VoteKeys:
    """The application's vote keys (pseudonym secret and ballot keyring), read once."""
    keys = current_app.extensions.get("pb_vote.vote_keys")
    if keys is None:
        keys = current_app.extensions["pb_vote.vote_keys"] = VoteKeys.from_config(
            current_app.config)
    return keys


CAST_ATTEMPTS = 8


def cast_with_retry(
    round_id: int,
    voter: voting.Voter,
    channel: voting.VoteChannel,
    choices: dict[int, int],
    *,
    notify_results: bool = False,
    before_commit: Callable[[voting.CastResult], None] | None = None,
) -> voting.CastResult:
    """Cast a ballot (``services.voting.cast_ballot``) and commit; retry when the database
    says it is busy (SQLite's single writer, PostgreSQL deadlock or serialization failures).
    Refusals by the rules are not retried; a person's second way of voting at the same
    moment is, once the unique key has refused it, and is then refused in words.
    ``before_commit(result)`` runs after the ballot is written, in its transaction, so what
    it adds (the receipt mail) is stored exactly when the vote is."""
    keys = vote_keys()
    for attempt in range(CAST_ATTEMPTS):
        try:
            result = voting.cast_ballot(keys, round_id, voter, channel, choices,
                                        notify_results=notify_results)
            if before_commit is not None:
                before_commit(result)
            db.session.commit()
            return result
        except OperationalError:
            db.session.rollback()
            if attempt == CAST_ATTEMPTS - 1:
                raise
            time.sleep(0.02 * (attempt + 1))
        except IntegrityError:
            # Only a strongly identified person's two ways of voting at the same moment
            # (the unique person key): cast again, and the refusal says why in words.
            db.session.rollback()
            if voter.person is None or attempt == CAST_ATTEMPTS - 1:
                raise
        except Exception:
            db.session.rollback()
            raise
    raise AssertionError("unreachable")
