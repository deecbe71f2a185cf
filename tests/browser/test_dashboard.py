"""The staff dashboard in a real browser, on a phone (360 px) and a desktop, in Finnish and
Swedish, with JavaScript on and off: a coordinator signs in and lands on it, reads each
round's phase, next date, moderation and turnout (the cards stack on the phone, still fit
at 320 px, and stand side by side on the desktop), follows the moderation count to the
queue and comes back."""

import random

import pytest
from playwright.sync_api import expect

from pb_vote import clock
from pb_vote.extensions import db
from pb_vote.models import RoundPhase, VoteChannel, VoterEligibility
from pb_vote.services import accounts, voting
from pb_vote.services.ballot_box import VoteKeys
from tests import factories
from tests.browser.helpers import layout_problems

pytestmark = pytest.mark.browser

# What each language's dashboard says of the table's rounds.
WORDS = {
    "fi": {"heading": "Työtila", "waiting": "2 ehdotusta odottaa käsittelyä",
           "queue": "Käsittele ehdotuksia", "ballots": "Tähän mennessä 6 äänestyslippua.",
           "share": "Se on 1,5% kaikista 400 äänioikeutetusta asukkaasta.",
           "closes": "Äänestys päättyy aikataulun mukaan", "paper": "Paperilla",
           "move": "Päätä äänestys"},
    "sv": {"heading": "Arbetsyta", "waiting": "2 förslag väntar på behandling",
           "queue": "Behandla förslag", "ballots": "Hittills 6 valsedlar.",
           "share": "Det är 1,5% av de 400 röstberättigade invånarna.",
           "closes": "Röstningen stänger enligt tidsplanen", "paper": "På papper",
           "move": "Stäng röstningen"},
}


@pytest.fixture(scope="module")
def city_table(live_server):
    """A table of its own (400 residents entitled to vote) with a coordinator reading in
    Finnish and one reading in Swedish, a round collecting ideas (two waiting for
    moderation) and a round in voting with three residents online, two codes online and one
    paper ballot. Returns the table's name and the two coordinators' emails."""
    app = live_server.app
    with app.app_context():
        slug = f"etela-{random.randrange(10**6)}"
        table = factories.table(slug, "Etelä – Söder", postal_codes=("15600",))
        table.eligible_residents = 400
        emails = {}
        for language in ("fi", "sv"):
            emails[language] = f"{language}-coordinator-{slug}@example.org"
            factories.user(emails[language], postal_code=None, role="coordinator", at=table,
                           language=language)
        ideas = factories.round_(table, RoundPhase.PROPOSALS, title="Etelä 2028")
        for title in ("Penkkejä rantaan", "Valot puistoon"):
            factories.proposal(ideas, title=title)
        vote = factories.voting_round(table, voter_eligibility=VoterEligibility.BOTH,
                                      title="Etelä 2027").round
        keys = VoteKeys.from_config(app.config)
        proposal_id = voting.ballot_proposals(vote)[0].id
        for number in range(3):
            person = factories.user(f"dash{number}-{slug}@example.org", postal_code="15600")
            voting.cast_ballot(keys, vote.id, voting.Voter(user_id=person.id),
                               VoteChannel.ONLINE, {proposal_id: 1})
        codes = voting.generate_codes(accounts.find_user_by_email(emails["fi"]),
                                      vote, 3)
        for code, channel, voter in ((codes[0], VoteChannel.CODE, voting.online_code_voter),
                                     (codes[1], VoteChannel.CODE, voting.online_code_voter),
                                     (codes[2], VoteChannel.PAPER, voting.paper_voter)):
            voting.cast_ballot(keys, vote.id, voter(vote, code), channel, {proposal_id: 1})
        assert clock.utcnow() < vote.voting_close_at
        db.session.commit()
        return {"name": table.name, "emails": emails, "slug": slug}


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
@pytest.mark.parametrize("language", ["fi", "sv"])
def test_a_coordinator_starts_from_the_dashboard(new_context, visit, live_server, city_table,
                                                  viewport, language, javascript):
    words = WORDS[language]
    copies = None if javascript else new_context(viewport).new_page()  # axe-core needs JS
    page = visit.watch(new_context(viewport, java_script_enabled=javascript).new_page(),
                       axe_copy_in=copies)
    page.goto("/staff/sign-in")  # in the browser's English until the account is known
    page.get_by_label("Email address").fill(city_table["emails"][language])
    page.get_by_label("Password").fill(live_server.password)
    page.get_by_role("main").get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{live_server.url}/manage")
    expect(page.get_by_role("heading", name=words["heading"], level=1)).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", language)
    visit(page, f"dashboard-{language}{'' if javascript else '-no-js'}")
    assert layout_problems(page) == []

    section = page.get_by_role("region", name=city_table["name"])
    cards = section.locator(".dashboard-rounds > li.card")
    expect(cards).to_have_count(2)
    voting_card = cards.filter(has_text="Etelä 2027")
    expect(voting_card).to_contain_text(words["closes"])
    expect(voting_card).to_contain_text(words["ballots"])
    expect(voting_card).to_contain_text(words["share"])
    expect(voting_card.get_by_text(words["paper"], exact=True)).to_be_visible()
    expect(voting_card.get_by_role("link", name=words["move"])).to_be_visible()
    first, second = (cards.nth(n).bounding_box() for n in range(2))
    width = page.viewport_size["width"]
    if viewport == "phone":  # stacked, each within the screen, down to 320 px
        assert second["y"] >= first["y"] + first["height"] - 1
        assert first["x"] >= 0 and first["x"] + first["width"] <= width
        page.set_viewport_size({"width": 320, "height": 740})
        visit(page, f"dashboard-320-{language}{'' if javascript else '-no-js'}")
        assert layout_problems(page) == []
        box = cards.first.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 320
    else:  # side by side
        assert second["x"] > first["x"] + first["width"] - 1
        assert abs(second["y"] - first["y"]) < 2

    ideas_card = cards.filter(has_text="Etelä 2028")
    ideas_card.get_by_role("link", name=words["waiting"]).click()
    expect(page.get_by_role("heading", name=words["queue"], level=1)).to_be_visible()
    expect(page.get_by_role("main").get_by_text("Penkkejä rantaan")).to_be_visible()
    visit(page, f"dashboard-queue-{language}{'' if javascript else '-no-js'}")
    page.go_back()
    expect(page.get_by_role("heading", name=words["heading"], level=1)).to_be_visible()
