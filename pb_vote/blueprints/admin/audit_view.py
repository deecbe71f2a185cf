"""The audit trail in plain words: a label for every action key, the details of an event
(the reason above all), and the filters read from the address (GET), which work without
JavaScript and can be bookmarked."""

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask_babel import gettext, ngettext
from flask_babel import lazy_gettext as _l

from pb_vote.blueprints.labels import ORIGIN_LABELS, PHASE_LABELS, label
from pb_vote.blueprints.languages import LANGUAGE_NAMES
from pb_vote.formatting import money
from pb_vote.services.audit import AuditFilter

CITY_ZONE = ZoneInfo("Europe/Helsinki")  # the dates of the filter are the city's days
LARGEST_ID = 2**31 - 1

ACTION_LABELS = {
    "account.deleted": _l("Deleted their account"),
    "membership.granted": _l("Gave a staff role"),
    "membership.revoked": _l("Removed a staff role"),
    "user.made_city_admin": _l("Made a person a city admin"),
    "second_factor.enrolled": _l("Set up their second factor"),
    "second_factor.recovery_code_used": _l("Signed in with a recovery code"),
    "second_factor.recovery_codes_renewed": _l("Made new recovery codes"),
    "second_factor.reset": _l("Reset a person's second factor"),
    "table.texts_changed": _l("Changed a table's name or description"),
    "round.created": _l("Created a round"),
    "round.imported": _l("Imported a round from a Pabulib file"),
    "round.updated": _l("Changed a round's settings"),
    "round.translated": _l("Changed a round's translations"),
    "round.phase_changed": _l("Moved a round to another phase"),
    "round.support_threshold_applied": _l("Marked the ideas short of the round's supports"),
    "proposal.added": _l("Added a proposal"),
    "proposal.accepted": _l("Put a proposal on the ballot"),
    "proposal.changes_requested": _l("Asked for changes to a proposal"),
    "proposal.rejected": _l("Did not take a proposal forward"),
    "proposal.hidden": _l("Hid a proposal"),
    "proposal.merged": _l("Merged a proposal into another"),
    "proposal.cost_reviewed": _l("Reviewed a proposal's cost"),
    "proposal.opinion_requested": _l("Asked a department for an opinion on a proposal"),
    "proposal.opinion_answered": _l("A department gave its opinion on a proposal"),
    "proposal.note_added": _l("Wrote an internal note on a proposal"),
    "proposal.image_added": _l("Added an image to a proposal"),
    "proposal.image_deleted": _l("Deleted an image of a proposal"),
    "proposal.image_removed": _l("Removed an image from a proposal, with a reason"),
    "comment.answered_as_table": _l("Answered comments as the table"),
    "comment.hidden": _l("Hid a comment"),
    "voting_codes.generated": _l("Generated voting codes"),
    "voting_codes.voided": _l("Voided a batch of voting codes"),
    "paper_ballot.entered": _l("Entered a paper ballot"),
    "paper_ballot.voided": _l("Voided a paper ballot entry"),
    "results.count_requested": _l("Asked for a count of the ballots"),
    "results.published": _l("Published the results"),
    "table.eligible_residents_set": _l("Recorded how many residents may vote at a table"),
    "service_page.saved": _l("Saved a text of the service's own pages"),
    "service_page.built_in": _l("Gave a service page its built-in text again"),
    "table.created": _l("Created a partnership table"),
    "table.changed": _l("Changed a partnership table"),
    "table.retired": _l("Retired a partnership table"),
    "table.reinstated": _l("Took a retired table back into use"),
    "table.deleted": _l("Deleted a partnership table"),
}
TABLE_FIELD_LABELS = {
    "name": _l("Name"),
    "slug": _l("Short name for addresses"),
    "description": _l("Description"),
    "main_language": _l("Main language"),
    "eligible_residents": _l("Eligible residents"),
}
ROLE_LABELS = {
    "city_admin": _l("City admin"),
    "coordinator": _l("Coordinator"),
    "member": _l("Table member"),
    "resident": _l("Resident"),
    "system": _l("The service (by the schedule)"),
    "department": _l("City department (one-time link)"),
}
_ROLE_NAMES = {"member": _l("member"), "coordinator": _l("coordinator")}


def action_label(action: str) -> str:
    """The plain words for an action key (the key itself for one not known here)."""
    return str(ACTION_LABELS.get(action, action))


def _languages(codes) -> str:
    return ", ".join(LANGUAGE_NAMES.get(code, code) for code in codes or [])


def details_of(event, currency: str = "EUR") -> list[str]:
    """What an event's details say, one line each, the reason first where there is one."""
    details = dict(event.details or {})
    lines = []
    reason = details.pop("reason", None) or details.pop("correction_reason", None)
    if event.action == "round.phase_changed":
        lines.append(gettext("From “%(old)s” to “%(new)s”.",
                             old=label(PHASE_LABELS, details.pop("from", "")),
                             new=label(PHASE_LABELS, details.pop("to", ""))))
        if reason in ("schedule", "manual"):
            lines.append(gettext("By the schedule.") if reason == "schedule"
                         else gettext("By hand."))
            reason = None
    if event.action == "table.eligible_residents_set":
        lines.append(gettext("From %(old)s to %(new)s.",
                             old=details.pop("from", None) or "–",
                             new=details.pop("to", None) or "–"))
        for code, (old, new) in sorted((details.pop("by_postal_code", None) or {}).items()):
            lines.append(gettext("Postal code %(code)s: from %(old)s to %(new)s.", code=code,
                                 old="–" if old is None else old,
                                 new="–" if new is None else new))
    if event.action.startswith("table.") and event.action != "table.eligible_residents_set":
        lines.extend(_table_lines(details))
    if reason:
        lines.insert(0, gettext("Reason: %(reason)s", reason=reason))
    if message := details.pop("message", None):
        lines.append(gettext("Message to the author: %(message)s", message=message))
    if note := details.pop("note", None):
        lines.append(gettext("Public note: %(note)s", note=note))
    if note := details.pop("internal_note", None):
        lines.append(gettext("Internal note: %(note)s", note=note))
    if contact := details.pop("contact", None):
        department = details.pop("department", None)
        lines.append(gettext("Contact: %(contact)s", contact=", ".join(
            part for part in (contact, department, details.pop("email", None)) if part)))
    if question := details.pop("question", None):
        lines.append(gettext("Question: %(question)s", question=question))
    if (cost := details.pop("estimated_cost_cents", None)) is not None:
        lines.append(gettext("Estimated cost: %(cost)s", cost=money(cost, currency)))
    if (cost := details.pop("reviewed_cost_cents", None)) is not None:
        lines.append(gettext("Reviewed cost: %(cost)s", cost=money(cost, currency)))
    if event.action.startswith("voting_codes."):
        if "count" in details:
            lines.append(ngettext("%(num)d code in batch %(batch)s.",
                                  "%(num)d codes in batch %(batch)s.",
                                  details.pop("count"), batch=details.pop("batch", "")))
        if "stopped" in details:
            lines.append(ngettext("Batch %(batch)s: %(num)d unused code stopped working.",
                                  "Batch %(batch)s: %(num)d unused codes stopped working.",
                                  details.pop("stopped"), batch=details.pop("batch", "")))
        if languages := details.pop("languages", None):
            lines.append(gettext("Slips in: %(languages)s.", languages=_languages(languages)))
    if event.action == "second_factor.recovery_code_used" and "left" in details:
        lines.append(ngettext("%(num)d recovery code left.", "%(num)d recovery codes left.",
                              details.pop("left")))
    if role := details.pop("role", None):
        previous = details.pop("previous_role", None)
        lines.append(gettext("Role: %(role)s", role=label(_ROLE_NAMES, role)) + (
            " " + gettext("(was %(role)s)", role=label(_ROLE_NAMES, previous))
            if previous else ""))
    if origin := details.pop("origin", None):
        lines.append(label(ORIGIN_LABELS, origin))
    if changed := details.pop("changed", None):
        lines.append(gettext("Changed: %(fields)s", fields=", ".join(changed)))
    if (into := details.pop("into", None)) is not None:
        lines.append(gettext("Into proposal %(id)s.", id=into))
    if event.action == "results.published" and "number" in details:
        lines.append(gettext("Publication %(number)s of count %(count)s.",
                             number=details.pop("number"), count=details.pop("count", "")))
        details.pop("selected", None)
    if event.action == "results.count_requested" and "count" in details:
        lines.append(gettext("Count %(count)s.", count=details.pop("count")))
        if excluded := details.pop("excluded", None):
            lines.append(gettext("Left out: proposals %(ids)s.",
                                 ids=", ".join(str(i) for i in excluded)))
    if (budget := details.pop("budget_cents", None)) is not None:
        lines.append(gettext("Budget: %(amount)s", amount=money(budget, currency)))
    details.pop("title", None)  # the round's link says it
    lines.extend(f"{key}: {value}" for key, value in sorted(details.items())
                 if value not in (None, "", [], {}))
    return lines


def _shown(value) -> str:
    return "–" if value in (None, "") else str(value)


def _table_lines(details: dict) -> list[str]:
    """The lines of a table's set-up event (taking what they say out of ``details``)."""
    lines = []
    for name, (old, new) in (details.pop("fields", None) or {}).items():
        lines.append(gettext("%(field)s: from “%(old)s” to “%(new)s”.",
                             field=label(TABLE_FIELD_LABELS, name), old=_shown(old),
                             new=_shown(new)))
    if name := details.pop("name", None):
        lines.append(gettext("Name: %(name)s", name=name))
    if codes := details.pop("postal_codes", None):
        lines.append(gettext("Postal codes: %(codes)s", codes=", ".join(codes)))
    if codes := details.pop("postal_codes_added", None):
        lines.append(gettext("Postal codes added: %(codes)s", codes=", ".join(codes)))
    if codes := details.pop("postal_codes_removed", None):
        lines.append(gettext("Postal codes removed: %(codes)s", codes=", ".join(codes)))
    if (number := details.pop("eligible_residents", None)) is not None:
        lines.append(gettext("Eligible residents: %(number)s", number=number))
    for code, (old, new) in sorted((details.pop("by_postal_code", None) or {}).items()):
        lines.append(gettext("Postal code %(code)s: from %(old)s to %(new)s.", code=code,
                             old=_shown(old), new=_shown(new)))
    if people := details.pop("people", None):
        lines.append(gettext("People: %(people)s", people=", ".join(people)))
    return lines


@dataclass
class FilterRequest:
    """The filters asked for in the address, and what was wrong with any of them."""

    wanted: AuditFilter
    page: int = 1
    values: dict = field(default_factory=dict)  # as typed, to show them again
    errors: list[str] = field(default_factory=list)


def _whole_number(text: str) -> int | None:
    text = text.strip()
    if text.isascii() and text.isdigit() and 0 < int(text) <= LARGEST_ID:
        return int(text)
    return None


def _day(text: str) -> date | None:
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        return None
    return day if 1900 <= day.year <= 9998 else None  # a day that has a day after it


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), CITY_ZONE)


def read_filters(args) -> FilterRequest:
    """The filters of the address's ``table``, ``round``, ``actor``, ``action``, ``from``,
    ``to`` (YYYY-MM-DD, the city's days, both included) and ``page``; a value that cannot
    be read is left out, with a message saying so."""
    values = {key: (args.get(key) or "")[:100] for key in
              ("table", "round", "actor", "action", "from", "to", "page")}
    errors, ids = [], {}
    names = {"table": _l("Table"), "round": _l("Round"), "actor": _l("Who")}
    for key, name in names.items():
        if values[key]:
            ids[key] = _whole_number(values[key])
            if ids[key] is None:
                errors.append(gettext("%(field)s: choose one from the list.", field=name))
    action = values["action"].strip() or None
    if action and not re.fullmatch(r"[a-z_]{1,30}\.[a-z_]{1,30}", action):
        errors.append(gettext("%(field)s: choose one from the list.", field=_l("Action")))
        action = None
    days = {}
    for key, name in (("from", _l("First day")), ("to", _l("Last day"))):
        if values[key]:
            days[key] = _day(values[key])
            if days[key] is None:
                errors.append(gettext("%(field)s: write the date as YYYY-MM-DD, such as "
                                      "2026-03-31.", field=name))
    since, until = days.get("from"), days.get("to")
    if since and until and since > until:
        errors.append(gettext("The start date is after the end date."))
        since = until = None
    wanted = AuditFilter(
        table_id=ids.get("table"), round_id=ids.get("round"), actor_id=ids.get("actor"),
        action=action, since=_midnight(since) if since else None,
        before=_midnight(until + timedelta(days=1)) if until else None)
    return FilterRequest(wanted, _whole_number(values["page"]) or 1, values, errors)
