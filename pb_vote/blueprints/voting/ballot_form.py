"""Reading a ballot from a submitted form (or the query string of "change my choices").

Plain functions rather than a WTForms form: the fields depend on the round's proposals, and
every value is checked again by ``ballot_rules.normalize``, the authority.
"""

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


def typed_points(values) -> dict[int, str]:
    """The points fields whose text is no whole number ("2.5"), as typed (cut to 16
    characters), to show them back to the voter rather than a 0."""
    typed: dict[int, str] = {}
    for name in values:
        suffix = name.removeprefix("points-")
        text = (values.get(name) or "").strip()
        if name.startswith("points-") and suffix.isdecimal() and text and not text.isdecimal():
            typed[int(suffix)] = text[:16]
    return typed


def as_query(choices: dict, kind: str) -> list[tuple[str, str]]:
    """The choices as query parameters, for the "change my choices" link."""
    if kind == "points":
        return [(f"points-{pid}", str(value)) for pid, value in choices.items()]
    return [("choice", str(pid)) for pid in choices]
