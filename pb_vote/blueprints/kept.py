"""What a publication's pages and exports show, made once and kept (Flask-Caching): a
publication never changes, so only the round's and its proposals' own edits (and, for a
page, the language and the publication in force) make it anew."""

from collections.abc import Callable

from pb_vote.extensions import cache
from pb_vote.models import Publication, Round
from pb_vote.services import proposals as proposals_service


def kept(kind: str, round_: Round, publication: Publication, make: Callable[[], object],
         *more) -> object:
    """``make()``'s value for ``publication`` of ``round_``, made at most once per state of
    the round and its proposals (and per ``more``: the language, the publication in
    force); ``kind`` names what it is ("results-page", "results.csv")."""
    key = ":".join(str(part) for part in (
        kind, publication.id, round_.updated_at.timestamp(),
        proposals_service.last_changed(round_), *more))
    value = cache.get(key)
    if value is None:
        value = make()
        cache.set(key, value)
    return value
