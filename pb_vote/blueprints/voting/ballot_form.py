"""Reading a ballot from a submitted form (or the query string of "change my choices").

Plain functions rather than a WTForms form: the fields depend on the round's proposals, and
every value is checked again by ``ballot_rules.normalize``, the authority.
"""

from flask_babel import gettext

from pb_vote.services.ballot_rules import BallotInvalid


def parse_choices(values, kind: str) -> dict[int, int]:
    """{proposal id: value} from form values; raises BallotInvalid("tampered") for anything a
    real form could not have sent."""
    choices: dict[int, int] = {}
    try:
        if kind == "points":
            for name in values:
                if name.startswith("points-"):
                    proposal_id = int(name.removeprefix("points-"))
                    text = (values.get(name) or "").strip() or "0"
                    if not text.lstrip("-").isdigit():
                        # Typed by the voter ("abc", "2.5"): a points problem, not tampering.
                        raise BallotInvalid("bad_value", proposal_id=proposal_id)
                    choices[proposal_id] = int(text)
        else:
            for text in values.getlist("choice"):
                proposal_id = int(text)
                if proposal_id in choices:
                    raise BallotInvalid("tampered")
                choices[proposal_id] = 1
    except ValueError:
        raise BallotInvalid("tampered") from None
    return choices


def kept_choices(values, kind: str) -> dict[int, int]:
    """Whatever picks can be read back, to show them again after a refusal."""
    kept: dict[int, int] = {}
    if kind == "points":
        for name in values:
            if name.startswith("points-"):
                try:
                    kept[int(name.removeprefix("points-"))] = int(values.get(name) or 0)
                except ValueError:
                    continue
    else:
        for text in values.getlist("choice"):
            if text.isdigit():
                kept[int(text)] = 1
    return kept


def as_query(choices: dict, kind: str) -> list[tuple[str, str]]:
    """The choices as query parameters, for the "change my choices" link."""
    if kind == "points":
        return [(f"points-{pid}", str(value)) for pid, value in choices.items()]
    return [("choice", str(pid)) for pid in choices]


def explain(error: BallotInvalid, money) -> str:
    """A plain-language message for a refused ballot."""
    d = error.details
    messages = {
        "empty": lambda: gettext("Choose at least one proposal."),
        "too_few": lambda: gettext("Choose at least %(minimum)d proposals (you chose "
                                   "%(count)d).", minimum=d["minimum"], count=d["count"]),
        "too_many": lambda: gettext("Choose at most %(maximum)d proposals (you chose "
                                    "%(count)d).", maximum=d["maximum"], count=d["count"]),
        "over_budget": lambda: gettext("Your choices cost %(spent)s, more than the budget of "
                                       "%(budget)s.", spent=money(d["spent"]),
                                       budget=money(d["budget"])),
        "under_minimum_spend": lambda: gettext("Your choices cost %(spent)s; choose proposals "
                                               "worth at least %(minimum)s.",
                                               spent=money(d["spent"]),
                                               minimum=money(d["minimum"])),
        "too_many_points": lambda: gettext("You gave %(total)d points; you have %(maximum)d.",
                                           total=d["total"], maximum=d["maximum"]),
        "too_many_points_each": lambda: gettext("A proposal can get at most %(maximum)d "
                                                "points.", maximum=d["maximum"]),
        "bad_value": lambda: gettext("Points are whole numbers, zero or more."),
        "not_on_ballot": lambda: gettext("A choice is not on this round's ballot. Reload the "
                                         "page and choose again."),
        "tampered": lambda: gettext("The form was changed on its way. Reload the page and "
                                    "choose again."),
    }
    return messages.get(error.code, messages["tampered"])()
