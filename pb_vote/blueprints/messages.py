"""Plain-language messages for the codes services raise."""

from flask_babel import lazy_gettext as _l

SERVICE_MESSAGES = {
    # rounds
    "settings_frozen": _l("Voting has opened: the round's settings can no longer change."),
    "transition_not_allowed": _l("The round cannot move to that phase from where it is now."),
    "empty_ballot": _l("Voting cannot open: no proposal has been accepted to the ballot yet."),
    "changed_meanwhile": _l("Someone changed the round at the same moment. Look at it again."),
    "invalid_settings": _l("Some settings need correcting."),
    # proposals
    "window_closed": _l("The time for this has ended (or not begun): the server's clock "
                        "decides."),
    "title_required": _l("Give the idea a title."),
    "cost_not_positive": _l("The cost must be more than zero."),
    "cost_above_budget": _l("The cost is more than the round's whole budget."),
    "unknown_category": _l("Choose one of the round's categories."),
    "not_author": _l("Only the author can do this."),
    "moderation_closed": _l("Proposals can be moderated only while the round collects or "
                            "reviews ideas."),
    "wrong_state": _l("This proposal's status does not allow that action."),
    "reason_required": _l("Write the reason."),
    "nothing_to_merge": _l("Choose at least one duplicate."),
    "merge_mismatch": _l("Only other proposals of the same round can be merged."),
}


def message_for(error) -> str:
    """The message for a service error (anything with a ``code``)."""
    return str(SERVICE_MESSAGES.get(error.code, _l("That could not be done.")))
