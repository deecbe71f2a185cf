"""What the ballot page hands its live tally (static/js/ballot.js): the server's own rule
figures and refusal messages, so the script can only say what the server would."""

from flask_babel import gettext

from pb_vote.blueprints.messages import message_for
from pb_vote.formatting import money
from pb_vote.services.ballot_rules import (
    BallotInvalid,
    BallotSpec,
    limits,
    minimum_spend_cents,
)

# Money the script formats like these samples (the server's formatting, digit for digit).
_SAMPLE_CENTS, _SAMPLE_WHOLE = 123_456_789, 123_456_700
# Stands for the voter's own figure in a message; no real ballot reaches it.
_FIGURE = 987_654_321
# The refusals each ballot kind can meet from its form, in normalize's order, each with
# the figure of the voter's that it names.
_BALLOT_CODES = {
    "approval": (("empty", None), ("too_few", "count"), ("too_many", "count")),
    "knapsack": (("empty", None), ("over_budget", "spent"), ("under_minimum_spend", "spent")),
    "points": (("bad_value", None), ("empty", None), ("too_many_points_each", None),
               ("too_many_points", "total")),
}


def ballot_messages(spec: BallotSpec, currency: str) -> dict[str, str]:
    """The refusals a ballot of ``spec`` can meet, worded by ``message_for``, with
    ``{count}``, ``{spent}`` or ``{total}`` where the voter's own figure goes."""
    fixed = {"minimum": spec.approval_min, "maximum": spec.approval_max,
             "budget": spec.budget_cents, "currency": currency}
    if spec.kind == "knapsack":
        fixed["minimum"] = minimum_spend_cents(spec)
    elif spec.kind == "points":
        fixed["maximum"] = spec.points_max_per_proposal
    worded = {}
    for code, figure in _BALLOT_CODES[spec.kind]:
        details = dict(fixed)
        if code == "too_many_points":
            details["maximum"] = spec.points_total
        if figure:
            details[figure] = _FIGURE
        text = message_for(BallotInvalid(code, **details))
        if figure == "spent":
            text = text.replace(money(_FIGURE, currency), "{spent}")
        elif figure:
            text = text.replace(str(_FIGURE), "{" + figure + "}")
        worded[code] = text
    return worded


def live_tally(spec: BallotSpec, currency: str) -> dict:
    """The rules, messages and tally line of ``spec``'s ballot in the current language: for
    approval the count, for knapsack the money against the budget, for points the points."""
    if spec.kind == "approval":
        line = gettext("Chosen: %(count)s of at most %(max)d", count="{count}",
                       max=spec.approval_max)
    elif spec.kind == "knapsack":
        line = gettext("Cost of your choices: %(money)s of %(budget)s", money="{money}",
                       budget=money(spec.budget_cents, currency))
    else:
        line = gettext("Points given: %(points)s of %(total)s", points="{points}",
                       total=spec.points_total)
    return {
        "rules": limits(spec),
        "messages": ballot_messages(spec, currency),
        "line": line,
        "chosen": gettext("Chosen: %(count)s", count="{count}"),
        "ok": gettext("Your choices are within the rules."),
        "money": {"cents": money(_SAMPLE_CENTS, currency),
                  "whole": money(_SAMPLE_WHOLE, currency)},
    }
