"""The front page: every round a resident can act on now, grouped by what they can do, however
many a table has open at the same time."""

import re
from datetime import timedelta

import pytest

from pb_vote.models import RoundPhase
from tests import factories


@pytest.fixture
def busy_city(app, frozen_clock):
    """Keskusta with two votes open at once (the second closing first), ideas wanted now and
    later, ideas under review, a vote being counted, a draft, a cancelled round and results
    published a moment ago; Pohjoinen with a vote open too. Returns the round ids by
    title."""
    def build():
        town = factories.city()
        now = frozen_clock.now
        made = {title: factories.round_(town.own, phase, title=title) for title, phase in [
            ("Keskusta votes", RoundPhase.VOTING), ("Keskusta points vote", RoundPhase.VOTING),
            ("Ideas now", RoundPhase.PROPOSALS), ("Ideas later", RoundPhase.PROPOSALS),
            ("Under review", RoundPhase.REVIEW), ("Being counted", RoundPhase.CLOSED),
            ("Secret plans", RoundPhase.DRAFT), ("Called off", RoundPhase.CANCELLED)]}
        made["Keskusta points vote"].voting_close_at = now + timedelta(days=2)
        made["Ideas later"].proposals_open_at = now + timedelta(days=3)
        made["Pohjoinen votes"] = factories.round_(town.other, RoundPhase.VOTING,
                                                   title="Pohjoinen votes")
        published = factories.published_round(town.own, ballots=4, title="Keskusta 2026")
        return {**{title: row.id for title, row in made.items()},
                "Keskusta 2026": published.round_id}

    return factories.saved(app, build)


def sections(html: str) -> dict[str, str]:
    """The front page's groups: heading -> the group's HTML, in page order."""
    return dict(re.findall(
        r'<section aria-labelledby="now-\w+" class="home-group">\s*<h2[^>]*>([^<]*)</h2>'
        r"(.*?)</section>", html, re.S))


def titles(html: str) -> list[str]:
    """The round titles of a group, in order (without the language marks of a title in
    another language than the page's)."""
    return [re.sub(r"<[^>]*>", "", title) for title in
            re.findall(r'<h3><a href="/rounds/\d+">(.*?)</a></h3>', html)]


def test_every_round_to_act_on_is_on_the_front_page_by_what_one_can_do(client, busy_city):
    page = client.get("/").text
    found = sections(page)
    assert list(found) == ["Vote now", "Propose ideas", "Results just published",
                           "Coming up"]
    assert titles(found["Vote now"]) == ["Keskusta points vote", "Keskusta votes",
                                         "Pohjoinen votes"]
    for title in ("Keskusta votes", "Keskusta points vote", "Pohjoinen votes"):
        assert f'href="/rounds/{busy_city[title]}/vote"' in found["Vote now"]
    assert titles(found["Propose ideas"]) == ["Ideas now", "Ideas later"]
    assert f'href="/rounds/{busy_city["Ideas now"]}/propose"' in found["Propose ideas"]
    assert f'/rounds/{busy_city["Ideas later"]}/propose' not in found["Propose ideas"]
    assert "Ideas can be proposed from" in found["Propose ideas"]
    assert titles(found["Results just published"]) == ["Keskusta 2026"]
    assert (f'href="/rounds/{busy_city["Keskusta 2026"]}/results"'
            in found["Results just published"])
    assert re.search(r"Results published \d{1,2} \w+ \d{4} at \d\d:\d\d\.",
                     found["Results just published"])
    assert titles(found["Coming up"]) == ["Under review", "Being counted"]
    for hidden in ("Secret plans", "Called off"):
        assert hidden not in page
    assert "Keskusta – Centre" in page and "Pohjoinen – North" in page


def test_a_signed_in_residents_own_area_is_marked(client, auth, busy_city):
    assert "Your area" not in client.get("/").text
    auth.resident("resident@example.org")  # postal code 15100: Keskusta
    found = sections(client.get("/").text)
    cards = re.findall(r'<li class="card" id="round-\d+">(.*?)</li>', found["Vote now"], re.S)
    marked = {titles(card)[0]: "Your area" in card for card in cards}
    assert marked == {"Keskusta points vote": True, "Keskusta votes": True,
                      "Pohjoinen votes": False}


def test_a_vote_that_closed_meanwhile_is_no_longer_offered(client, busy_city, frozen_clock):
    frozen_clock.advance(days=2, seconds=1)  # "Keskusta points vote" has closed
    found = sections(client.get("/").text)
    assert titles(found["Vote now"]) == ["Keskusta votes", "Pohjoinen votes"]
    assert titles(found["Coming up"]) == ["Under review", "Being counted",
                                          "Keskusta points vote"]


def test_results_leave_the_front_page_two_months_after(client, busy_city, frozen_clock):
    frozen_clock.advance(days=61)
    page = client.get("/").text
    assert "Results just published" not in sections(page)
    assert "Keskusta 2026" not in page  # it stays on its table's page


def test_the_front_page_in_finnish_says_when(client, busy_city, frozen_clock):
    client.post("/language", data={"language": "fi", "next": "/"})
    found = sections(client.get("/").text)
    assert list(found) == ["Äänestä nyt", "Ehdota ideoita", "Juuri julkaistut tulokset",
                           "Tulossa"]
    assert re.search(r"Äänestys on käynnissä \d{1,2}\.\d{1,2}\.\d{4} klo \d{1,2}\.\d{2} asti",
                     found["Äänestä nyt"])


def test_with_nothing_open_the_front_page_says_so(client, app):
    factories.saved(app, factories.city)
    page = client.get("/").text
    assert sections(page) == {}
    assert "No round is open at the moment." in page
