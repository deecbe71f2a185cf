"""Partnership tables: their main language, and their name and description in each language
(see models/texts.py for how the translations are kept and shown)."""

from pb_vote.errors import ServiceError
from pb_vote.extensions import db
from pb_vote.models import Table, User
from pb_vote.models.texts import MAIN_LANGUAGES
from pb_vote.services.audit import record_event


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
