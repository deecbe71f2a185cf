"""Partnership tables: set up, changed, retired and deleted by a city admin (with their
area and eligible residents), and their name and description in each language (see
models/texts.py for how the translations are kept and shown)."""

import dataclasses
import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import DatabaseError, IntegrityError

from pb_vote import clock
from pb_vote.errors import ServiceError
from pb_vote.extensions import db
from pb_vote.models import Round, RoundPhase, Table, TablePostalCode, User
from pb_vote.models.texts import MAIN_LANGUAGES
from pb_vote.services.accounts import POSTAL_CODE_PATTERN
from pb_vote.services.audit import record_event
from pb_vote.services.locking import locked, named_lock
from pb_vote.services.rounds import sync_phase
from pb_vote.services.statistics import MOST_ELIGIBLE


class TableError(ServiceError):
    """A table operation was refused."""


def set_table_texts(actor: User, table: Table, main_language: str,
                    texts: dict[str, dict[str, str]]) -> list[str]:
    """Give ``table`` its main language and its name and description in each language
    (``texts[field][language]``; the main language's name is required). Audited; returns
    the changed fields.

    The main language can change only while the table has no round: a round's texts and
    its categories (which proposals name, and which freeze when voting opens) are stored in
    the table's main language.
    """
    if main_language not in MAIN_LANGUAGES:
        raise TableError("unknown_language")
    if not (texts.get("name", {}).get(main_language) or "").strip():
        raise TableError("name_required")
    if main_language != table.main_language and table.rounds:
        raise TableError("main_language_locked")
    before = {field: table.texts(field) for field in table.TRANSLATED}
    changed = ["main_language"] if main_language != table.main_language else []
    table.main_language = main_language
    for field in table.TRANSLATED:
        table.set_texts(field, texts.get(field, {}))
        if table.texts(field) != before[field]:
            changed.append(field)
    db.session.flush()
    if changed:
        record_event(actor, "table.texts_changed", "table", table.id, table_id=table.id,
                     details={"changed": changed})
    return changed


# --- Setting tables up (city admins) -------------------------------------------------------

SLUG_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
SLUG_MAX_LENGTH = 60
NAME_MAX_LENGTH = 120
# Rounds that have ended for good: a table whose rounds are all in these may be retired.
FINISHED_PHASES = (RoundPhase.PUBLISHED, RoundPhase.CANCELLED)


@dataclass
class TableDetails:
    """What a city admin sets of a table: the main-language name and description, the
    short name for addresses, the area with its eligible residents by postal code (None:
    not known) and the table's own figure."""

    slug: str
    name: str
    description: str
    main_language: str
    area: dict[str, int | None] = dataclasses.field(default_factory=dict)
    eligible_residents: int | None = None


def _check_details(details: TableDetails, table: Table | None) -> None:
    """Refuse details no table may have (TableError), the first problem found."""
    if details.main_language not in MAIN_LANGUAGES:
        raise TableError("unknown_language")
    if not details.name.strip():
        raise TableError("name_required")
    if len(details.name.strip()) > NAME_MAX_LENGTH:
        raise TableError("name_too_long", maximum=NAME_MAX_LENGTH)
    if not SLUG_PATTERN.match(details.slug) or len(details.slug) > SLUG_MAX_LENGTH:
        raise TableError("slug_invalid", maximum=SLUG_MAX_LENGTH)
    holder = db.session.execute(select(Table).where(Table.slug == details.slug)).scalar()
    if holder is not None and holder is not table:
        raise TableError("slug_taken", slug=details.slug)
    for code, number in details.area.items():
        if not POSTAL_CODE_PATTERN.match(code):
            raise TableError("postal_code_invalid", postal_code=code)
        _check_number(number)
    _check_number(details.eligible_residents)
    taken = db.session.execute(
        select(TablePostalCode).where(TablePostalCode.postal_code.in_(list(details.area)))
        .order_by(TablePostalCode.postal_code)
    ).scalars().all()
    for row in taken:
        if table is None or row.table_id != table.id:
            raise TableError("postal_code_taken", postal_code=row.postal_code,
                             table=row.table)


def _check_number(number: int | None) -> None:
    if number is not None and not 0 < number <= MOST_ELIGIBLE:
        raise TableError("eligible_out_of_range", maximum=MOST_ELIGIBLE)


# Held by every change of an area, so two at once never both take one postal code.
AREAS_LOCK = "partnership table areas"


def create_table(actor: User, details: TableDetails) -> Table:
    """Create a partnership table (audited with what it was given). Raises TableError for
    a bad slug, name or postal code, or a postal code already in another table's area."""
    named_lock(AREAS_LOCK)
    _check_details(details, None)
    table = Table(slug=details.slug, main_language=details.main_language,
                  eligible_residents=details.eligible_residents)
    table.name = details.name.strip()
    table.description = details.description.strip()
    table.area = [TablePostalCode(postal_code=code, eligible_residents=number)
                  for code, number in sorted(details.area.items())]
    db.session.add(table)
    _flush_area()
    record_event(actor, "table.created", "table", table.id, table_id=table.id, details={
        "slug": table.slug, "name": table.name, "main_language": table.main_language,
        "postal_codes": table.postal_codes, "eligible_residents": table.eligible_residents,
        "by_postal_code": {code: [None, n] for code, n in sorted(details.area.items())
                           if n is not None}})
    return table


def round_in_voting(table: Table, now: datetime) -> Round | None:
    """A round of ``table`` in voting at ``now`` (its phase caught up with its schedule
    first), if any: while there is one, the table's area stays as its voters were checked
    against."""
    for round_ in table.rounds:
        sync_phase(round_, now)
        if round_.phase is RoundPhase.VOTING:
            return round_
    return None


def update_table(actor: User, table: Table, details: TableDetails, now: datetime) -> dict:
    """Change a table's details; returns what changed (audited as ``table.changed``, each
    field with its old and new value, the postal codes added and removed). Raises
    TableError as ``create_table`` does, and when the area would change while a round of
    the table is in voting (``area_fixed_in_voting``) or the main language while it has
    rounds (``main_language_locked``)."""
    # The table's row and its rounds first: an area change and a round opening voting at
    # the same moment are decided one after the other (opening voting holds the round), and
    # so are two area changes (the database's unique index and triggers refuse the rest).
    named_lock(AREAS_LOCK)
    locked(select(Table).where(Table.id == table.id))
    locked(select(Round).where(Round.table_id == table.id), share=True)
    _check_details(details, table)
    before = {code: row.eligible_residents for code, row in
              ((row.postal_code, row) for row in table.area)}
    added = sorted(set(details.area) - set(before))
    removed = sorted(set(before) - set(details.area))
    if (added or removed) and (voting := round_in_voting(table, now)) is not None:
        raise TableError("area_fixed_in_voting", round=voting)
    if details.main_language != table.main_language and table.rounds:
        raise TableError("main_language_locked")
    fields = {}
    # Read in the old main language: moving to the other one keeps its text as a translation.
    texts_before = {name: table.texts(name) for name in table.TRANSLATED}
    for name, new in (("slug", details.slug), ("main_language", details.main_language),
                      ("eligible_residents", details.eligible_residents)):
        if getattr(table, name) != new:
            fields[name] = [getattr(table, name), new]
            setattr(table, name, new)
    for name, new in (("name", details.name.strip()),
                      ("description", details.description.strip())):
        texts = dict(texts_before[name])
        if texts.get(table.main_language, "") != new or "main_language" in fields:
            old = getattr(table, name)
            texts[table.main_language] = new
            table.set_texts(name, texts)
            if old != new:
                fields[name] = [old, new]
    rows = {row.postal_code: row for row in table.area}
    by_code = {code: [before[code], number] for code, number in details.area.items()
               if code in before and before[code] != number}
    table.area = [row for code, row in rows.items() if code in details.area] + [
        TablePostalCode(postal_code=code, eligible_residents=details.area[code])
        for code in added]
    for code, (_old, number) in by_code.items():
        rows[code].eligible_residents = number
    _flush_area()
    changed = {key: value for key, value in (
        ("fields", fields), ("postal_codes_added", added), ("postal_codes_removed", removed),
        ("by_postal_code", by_code)) if value}
    if changed:
        record_event(actor, "table.changed", "table", table.id, table_id=table.id,
                     details=changed)
    return changed


def _flush_area() -> None:
    """Flush, turning the database's refusals of an area into TableErrors: a postal code
    another transaction gave to another table meanwhile, or a round that opened voting.
    The caller rolls back after either."""
    try:
        db.session.flush()
    except IntegrityError:
        raise TableError("postal_code_taken_meanwhile") from None
    except DatabaseError as error:
        if "fixed while one of its rounds is in voting" in str(error.orig):
            raise TableError("area_fixed_in_voting", round=None) from None
        raise


def retire_table(actor: User, table: Table) -> None:
    """Retire ``table``: it takes no new rounds and is not offered to residents; its rounds
    and published results stay, and so does its area (the turnout of its results is
    figured from it) until an admin gives its postal codes to another table. Refused while
    a round of it has not ended (``round_not_finished``). Audited."""
    locked(select(Table).where(Table.id == table.id))
    if table.is_retired:
        return
    for round_ in table.rounds:
        if round_.phase not in FINISHED_PHASES:
            raise TableError("round_not_finished", round=round_)
    table.retired_at = clock.utcnow()
    db.session.flush()
    record_event(actor, "table.retired", "table", table.id, table_id=table.id,
                 details={"name": table.name})


def reinstate_table(actor: User, table: Table) -> None:
    """Take a retired table back into use (audited)."""
    if not table.is_retired:
        return
    table.retired_at = None
    db.session.flush()
    record_event(actor, "table.reinstated", "table", table.id, table_id=table.id,
                 details={"name": table.name})


def delete_table(actor: User, table: Table) -> None:
    """Delete a table that never had a round, with its area and roles (a table with rounds
    can only be retired: ``table_has_rounds``). Audited with its name and area."""
    locked(select(Table).where(Table.id == table.id))
    if table.rounds:
        raise TableError("table_has_rounds")
    record_event(actor, "table.deleted", "table", table.id, table_id=table.id, details={
        "slug": table.slug, "name": table.name, "postal_codes": table.postal_codes,
        "people": sorted(m.user.email for m in table.memberships)})
    db.session.delete(table)
    db.session.flush()
