"""What a resident's pages say after the vote: the round page says when they voted and until
when they can change it; once the results are published, the proposal page and "My
proposals" say whether each proposal was funded and why, with a link to the results."""

import re
from datetime import UTC, datetime

import pytest

from tests import factories
from tests.queries import statements, touching
from tests.results.test_results_day import HEAVY
from tests.views.test_voting_pages import text, vote

# Voting opens at 12.05 Helsinki summer time (UTC+3) and closes 23 days later.
OPENS = datetime(2026, 6, 15, 9, 5, tzinfo=UTC)
VOTED = datetime(2026, 6, 15, 13, 35, tzinfo=UTC)  # 16.35 in Helsinki
CHANGED = datetime(2026, 6, 15, 14, 50, tzinfo=UTC)  # 17.50 in Helsinki
CLOSES = datetime(2026, 7, 8, 9, 5, tzinfo=UTC)

VOTED_TEXT = {
    "fi": ("Äänestit 15.6.2026 klo 16.35; voit muuttaa ääntäsi 8.7.2026 klo 12.05 asti.",
           "Muuta ääntäsi", "Äänestä"),
    "sv": ("Du röstade 15.6.2026 kl. 16.35; du kan ändra din röst fram till 8.7.2026 kl. 12.05.",
           "Ändra din röst", "Rösta"),
    "en": ("You voted on 15 June 2026 at 16:35; you can change your vote until 8 July 2026 at "
           "12:05.",
           "Change your vote", "Vote"),
}
AFTER_CLOSING = {"fi": "Äänestit 15.6.2026 klo 17.50.", "sv": "Du röstade 15.6.2026 kl. 17.50.",
                 "en": "You voted on 15 June 2026 at 17:50."}


def words(response) -> str:
    """The page's words without its tags, no-break spaces as plain spaces."""
    return re.sub(r"<[^>]*>", "", text(response)).replace("\xa0", " ").replace("\u202f", " ")


def speak(client, language: str) -> None:
    """Choose the page language (the account's too when signed in)."""
    client.post("/language", data={"language": language, "next": "/"})


def button(response, label: str) -> bool:
    """Whether the page has a link styled as a button reading ``label``."""
    return re.search(rf'<a class="button" href="[^"]*">{re.escape(label)}</a>',
                     text(response)) is not None


@pytest.fixture
def open_round(app, frozen_clock):
    """Keskusta's round in voting since OPENS (the clock stands there), and its residents."""
    frozen_clock.set(OPENS)
    return factories.saved(app, factories.voting_round)


@pytest.mark.parametrize("language", ["fi", "sv", "en"])
def test_after_voting_the_round_page_says_when_and_until_when(client, auth, frozen_clock,
                                                              open_round, language):
    round_id, chosen = open_round.round_id, open_round.proposal_ids[0]
    speak(client, language)
    before = client.get(f"/rounds/{round_id}")
    assert button(before, VOTED_TEXT[language][2])
    assert VOTED_TEXT[language][1] not in text(before)

    frozen_clock.set(VOTED)
    auth.resident("resident@example.org")
    speak(client, language)
    assert vote(client, round_id, {chosen: 1}).status_code == 303
    page = client.get(f"/rounds/{round_id}")
    said, change, plain_vote = VOTED_TEXT[language]
    assert said in words(page)
    assert button(page, change)
    assert not button(page, plain_vote)

    # Changing the vote later: the page gives the latest time; after closing, no offer.
    frozen_clock.set(CHANGED)
    assert vote(client, round_id, {chosen: 1}).status_code == 303
    frozen_clock.set(CLOSES)  # weeks later: the sign-in has long expired
    auth.resident("resident@example.org")
    closed = client.get(f"/rounds/{round_id}")
    assert "phase-closed" in closed.text
    assert AFTER_CLOSING[language] in words(closed)
    assert change not in text(closed)


def test_who_has_not_voted_sees_the_plain_vote_button(
        app, client, auth, frozen_clock, open_round):
    round_id = open_round.round_id
    factories.saved(app, factories.user, email="neighbour@example.org")
    frozen_clock.set(VOTED)
    auth.resident("resident@example.org")
    vote(client, round_id, {open_round.proposal_ids[0]: 1})
    auth.sign_out()
    for who in (None, "neighbour@example.org"):
        if who:
            auth.resident(who)
        page = client.get(f"/rounds/{round_id}")
        assert "You voted" not in text(page)
        assert button(page, "Vote")


# The published round: with seed 11 and a budget of 50 000 €, "Project 3" (10 000 €) is
# funded and "Project 0" (30 000 €) did not fit the 20 000 € left; author@example.org
# proposed both.
PUBLISHED = {"ballots": 6, "budget_cents": 5_000_000}
FUNDED = {"fi": "Saa rahoituksen", "sv": "Får finansiering", "en": "Funded"}
NOT_FUNDED = {
    "fi": "Ei saa rahoitusta. Ei mahtunut: jäljellä vain 20 000 €.",
    "sv": "Får inte finansiering. Rymdes inte: bara 20 000 € kvar.",
    "en": "Not funded. Did not fit: only €20,000 left.",
}
# "My proposals" shows no cost beside the reason: the reason says it.
MINE_NOT_FUNDED = {
    "fi": "Ei saa rahoitusta. Ei mahtunut: jäljellä vain 20 000 €, ja se maksaa 30 000 €.",
    "sv": "Får inte finansiering. Rymdes inte: bara 20 000 € kvar, och det kostar 30 000 €.",
    "en": "Not funded. Did not fit: only €20,000 left, and it costs €30,000.",
}


@pytest.mark.parametrize("language", ["fi", "sv", "en"])
def test_a_published_rounds_proposals_say_funded_or_not_and_why(app, client, auth, language):
    scenario = factories.saved(app, factories.published_round, **PUBLISHED)
    funded, not_funded = scenario.proposal_ids[3], scenario.proposal_ids[0]  # "Project <n>"
    def results(proposal_id: int) -> str:  # the link lands on the proposal's row
        return f'href="/rounds/{scenario.round_id}/results#p{proposal_id}"'

    speak(client, language)
    reasons = words(client.get(f"/rounds/{scenario.round_id}/results"))

    page = client.get(f"/proposals/{not_funded}")
    assert NOT_FUNDED[language] in words(page)
    assert NOT_FUNDED[language].split(". ", 1)[1] in reasons  # the results page's own words
    assert results(not_funded) in page.text
    page = client.get(f"/proposals/{funded}")
    assert f"<strong>{FUNDED[language]}</strong>" in page.text
    assert NOT_FUNDED[language].split(".")[0] not in words(page)
    assert results(funded) in page.text

    auth.resident("author@example.org")
    speak(client, language)
    mine = words(client.get("/my/proposals"))
    assert MINE_NOT_FUNDED[language] in mine
    assert f"<strong>{FUNDED[language]}</strong>" in client.get("/my/proposals").text
    assert results(funded) in client.get("/my/proposals").text
    assert results(not_funded) in client.get("/my/proposals").text


@pytest.mark.parametrize("build", [factories.voting_round, factories.closed_round])
def test_before_publication_neither_page_says_funded(app, client, auth, build):
    scenario = factories.saved(app, build, ballots=6, budget_cents=5_000_000)
    auth.resident("author@example.org")
    for path in (f"/proposals/{scenario.proposal_ids[0]}", "/my/proposals"):
        page = client.get(path)
        assert page.status_code == 200
        assert "Funded" not in page.text and "Not funded" not in page.text
        assert f"/rounds/{scenario.round_id}/results" not in page.text


def test_the_outcome_reads_no_receipt_no_file_and_no_ballot(app, client, auth):
    scenario = factories.saved(app, factories.published_round, **PUBLISHED)
    auth.resident("author@example.org")
    for path in (f"/proposals/{scenario.proposal_ids[0]}", "/my/proposals"):
        with statements(app) as heard:
            page = client.get(path)
        assert "Not funded" in page.text
        for table in (*HEAVY, "stored_files", "receipt_sets"):
            assert touching(heard, table) == [], (path, table)
