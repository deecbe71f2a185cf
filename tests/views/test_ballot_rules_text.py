"""The ballot page tells the voter, before voting, how the money will be shared (the
round's tally rule, in two plain sentences) and how ties are broken."""

import html
import re

import pytest
from sqlalchemy import update

from pb_vote.extensions import db
from pb_vote.models import BallotKind, TallyRule, User
from tests import factories

# Budget 100 000 €; costs 30 000, 25 000, 40 000, 10 000, 20 000 and 60 000 €.
KNAPSACK_MIN = {"ballot_kind": BallotKind.KNAPSACK, "knapsack_min_spend_percent": 55}
POINTS = {"ballot_kind": BallotKind.POINTS, "points_total": 10, "points_max_per_proposal": 4}
APPROVAL = {"approval_min": 2, "approval_max": 3}

GREEDY_VOTES = ("The proposal with the most votes is funded first, then the one with the next "
                "most votes, and so on.")
GREEDY_POINTS = ("The proposal with the most points is funded first, then the one with the "
                 "next most points, and so on.")
GREEDY_SKIP = ("A proposal that costs more than the money left is skipped, and counting goes "
               "on with the next one until nothing more fits.")
MES_SHARES = ("The budget is divided equally among all voters, and each voter's share can pay "
              "only for proposals that voter chose.")
MES_VOTES = "money left at the end goes to the proposals with the most votes that still fit."
MES_POINTS = "money left at the end goes to the proposals with the most points that still fit."
TIE_BREAK = ("If two proposals are tied, the cheaper one goes first; if they also cost the "
             "same, the one chosen by more voters; and then the one submitted earlier.")


def ballot_page(app, client, auth, language: str = "en", **settings) -> str:
    """The ballot of a round in voting with ``settings``, as its resident sees it in
    ``language``; the page's text with entities decoded."""
    built = factories.saved(app, factories.voting_round, **settings)
    auth.resident("resident@example.org")
    with app.app_context():
        db.session.execute(update(User).where(User.email == "resident@example.org")
                           .values(language=language))
        db.session.commit()
    response = client.get(f"/rounds/{built.round_id}/vote")
    assert response.status_code == 200
    return html.unescape(response.get_data(as_text=True))


def rules_section(page: str) -> str:
    return re.search(r'<details class="rules">(.*?)</details>', page, re.S).group(1)


@pytest.mark.parametrize(("settings", "said", "unsaid"), [
    ({"tally_rule": TallyRule.GREEDY, **APPROVAL}, [GREEDY_VOTES, GREEDY_SKIP],
     [GREEDY_POINTS, MES_SHARES]),
    ({"tally_rule": TallyRule.GREEDY, **POINTS}, [GREEDY_POINTS, GREEDY_SKIP],
     [GREEDY_VOTES, MES_SHARES]),
    ({"tally_rule": TallyRule.MES, **KNAPSACK_MIN}, [MES_SHARES, MES_VOTES],
     [MES_POINTS, GREEDY_SKIP]),
    ({"tally_rule": TallyRule.MES, **POINTS}, [MES_SHARES, MES_POINTS],
     [MES_VOTES, GREEDY_VOTES]),
], ids=["greedy-approval", "greedy-points", "mes-knapsack", "mes-points"])
def test_the_rules_say_how_the_money_is_shared_and_ties_broken(
        app, client, auth, settings, said, unsaid):
    rules = rules_section(ballot_page(app, client, auth, **settings))
    assert "How the money will be shared" in rules
    for sentence in [*said, TIE_BREAK]:
        assert sentence in rules
    for sentence in unsaid:
        assert sentence not in rules


@pytest.mark.parametrize(("language", "words"), [
    ("fi", ["Miten rahat jaetaan", "Budjetti jaetaan tasan kaikkien äänestäjien kesken",
            "Jos kaksi ehdotusta on tasoissa, halvempi menee edelle"]),
    ("sv", ["Hur pengarna fördelas", "Budgeten delas lika mellan alla väljare",
            "Om två förslag står lika går det billigare först"]),
])
def test_the_counting_rule_is_told_in_the_voters_language(app, client, auth, language, words):
    rules = rules_section(ballot_page(app, client, auth, language, tally_rule=TallyRule.MES))
    for text in words:
        assert text in rules
