"""Plain-language names of enum values, in one place for templates and forms."""

from flask_babel import lazy_gettext as _l

PHASE_LABELS = {
    "draft": _l("Draft"),
    "proposals": _l("Collecting ideas"),
    "review": _l("Ideas under review"),
    "voting": _l("Voting open"),
    "closed": _l("Voting closed"),
    "published": _l("Results published"),
    "cancelled": _l("Cancelled"),
}
ORIGIN_LABELS = {
    "resident": _l("Resident's idea"),
    "member": _l("Table member's idea"),
    "city": _l("City's idea"),
}
STATUS_LABELS = {
    "submitted": _l("Submitted"),
    "changes_requested": _l("Changes requested"),
    "accepted": _l("On the ballot"),
    "rejected": _l("Not taken forward"),
    "merged": _l("Merged into another idea"),
    "withdrawn": _l("Withdrawn"),
    "hidden": _l("Hidden by moderators"),
}
FEASIBILITY_LABELS = {
    "feasible": _l("Feasible"),
    "with_changes": _l("Feasible with changes"),
    "not_feasible": _l("Not feasible"),
}


def label(labels: dict, value) -> str:
    """The label of an enum member or its value."""
    key = getattr(value, "value", value)
    return str(labels.get(key, key))
