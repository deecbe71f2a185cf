"""The staff dashboard (/manage), where staff land after signing in: each role sees its
tables, the rounds' phases, next dates and next steps, what waits for moderation and the
turnout; residents and strangers are kept out; its cost does not grow with the city."""

import re
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import delete, update

from pb_vote.extensions import db
from pb_vote.models import (
    MembershipRole,
    ProposalStatus,
    Round,
    RoundPhase,
    TableMembership,
    User,
)
from pb_vote.services import accounts
from tests import factories
from tests.queries import statements
from tests.views.test_voting_pages import text


def card(page: str, title: str) -> str:
    """The dashboard's card of the round titled ``title``."""
    match = re.search(rf'<li class="card">\s*<h3>(?:(?!</li>).)*?{re.escape(title)}.*?</li>\s*'
                      r'(?=<li class="card">|</ul>\s*<p>)', page, flags=re.S)
    assert match, title
    return match.group(0)


@pytest.fixture
def scene(app):
    return factories.saved(app, factories.dashboard_city, eligible_residents=300)


def test_staff_land_on_the_dashboard_after_signing_in(client, auth, scene):
    response = auth.staff("coordinator@example.org")
    assert response.headers["Location"].endswith("/manage")
    page = client.get("/manage")
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    assert "<h1>Staff pages</h1>" in page.text


def test_a_coordinator_sees_their_table_its_rounds_and_what_to_do_next(client, auth, scene):
    auth.staff("coordinator@example.org")
    page = text(client.get("/manage"))
    assert "Keskusta – Centre" in page and "Pohjoinen" not in page
    assert "Your role: Coordinator" in page
    assert "3 proposals wait for moderation." in page  # over the table's rounds

    draft = card(page, "Keskusta 2029")
    assert "Planned to open for ideas on" in draft
    assert f'href="/manage/rounds/{scene.draft_id}/phase">Open for ideas' in draft

    collecting = card(page, "Keskusta 2028")
    assert "The review starts by the schedule on" in collecting
    assert (f'<a href="/manage/rounds/{scene.collecting_id}/proposals?status=submitted">'
            "3 proposals wait for moderation</a>") in collecting
    assert "1 waits for its author's changes." in collecting
    assert "Start the review" in collecting

    voting = card(page, "Keskusta 2027")
    assert "Voting closes by the schedule on" in voting
    assert "6 ballots so far. That is 2% of the 300 residents entitled to vote." in voting
    for channel, number in (("Online, signed in", 3), ("Online, with a voting code", 2),
                            ("Paper", 1)):
        assert f"<dt>{channel}</dt><dd>{number}</dd>" in voting
    for link in (f"/manage/rounds/{scene.voting_id}/turnout",
                 f"/manage/rounds/{scene.voting_id}/paper",
                 f"/manage/rounds/{scene.voting_id}/phase"):
        assert f'href="{link}"' in voting

    assert "Keskusta 2024" not in page  # published long ago: on the table's page
    assert "1 earlier round is on the table's page." in page
    assert 'href="/manage/tables/keskusta/rounds/new"' in page
    assert 'href="/admin"' not in page.split("<main", 1)[1]


def test_a_member_sees_the_table_and_moderation_but_no_phase_moves(client, auth, scene):
    auth.staff("member@example.org")
    page = text(client.get("/manage"))
    assert "Your role: Member" in page and "Pohjoinen" not in page
    collecting = card(page, "Keskusta 2028")
    assert f'href="/manage/rounds/{scene.collecting_id}/proposals?status=submitted"' in collecting
    for move in ("Open for ideas", "Start the review", "Close voting", "Settings",
                 "/phase", "/rounds/new"):
        assert move not in page
    assert "Enter paper ballots" in card(page, "Keskusta 2027")


def test_a_city_admin_sees_every_table_at_once(client, auth, scene):
    auth.staff("admin@example.org")
    page = text(client.get("/manage"))
    assert "Keskusta – Centre" in page and "Pohjoinen – North" in page
    assert "Your role: City administrator" in page
    assert "5 proposals wait for moderation." in page
    review = card(page, "Pohjoinen 2027")
    assert "Voting opens by the schedule on" in review
    assert "voting does not open while the ballot is empty" in review
    assert "Open voting" in review
    main = page.split("<main", 1)[1]
    assert 'href="/admin"' in main and 'href="/admin/audit"' in main
    # The administration page still works where it was.
    assert client.get("/admin").status_code == 200


def test_a_closed_round_tells_the_coordinator_to_count_and_the_member_who_will(app, client,
                                                                              auth):
    factories.saved(app, factories.closed_round, ballots=2)
    auth.staff("coordinator@example.org")
    assert "Count the ballots and publish the results" in client.get("/manage").text
    auth.sign_out()
    auth.staff("member@example.org")
    page = client.get("/manage").text
    assert "Next, the coordinator counts the ballots and publishes the results." in page
    assert "Statistics" in page


def test_times_are_in_the_rounds_time_zone(app, client, auth, scene):
    with app.app_context():
        round_ = db.session.get(Round, scene.collecting_id)
        round_.time_zone = "America/New_York"
        closes = round_.proposals_close_at
        db.session.commit()
    auth.staff("coordinator@example.org")
    collecting = card(text(client.get("/manage")), "Keskusta 2028")
    assert "Times are in the time zone America/New_York." in collecting
    local = closes.astimezone(ZoneInfo("America/New_York"))
    assert f"at {local:%H:%M}" in collecting


def test_residents_are_refused_and_strangers_sent_to_sign_in(client, auth, scene):
    assert client.get("/manage").status_code == 302
    auth.resident("resident@example.org")
    assert client.get("/manage").status_code == 403


def test_a_person_whose_roles_were_removed_is_refused(app, client, auth, scene):
    auth.staff("member@example.org")
    with app.app_context():
        member = accounts.find_user_by_email("member@example.org")
        db.session.execute(delete(TableMembership).where(TableMembership.user_id == member.id))
        db.session.commit()
    assert client.get("/manage").status_code == 403


@pytest.mark.parametrize(("language", "words"), [
    ("fi", ("<h1>Työtila</h1>", "3 ehdotusta odottaa käsittelyä", "Äänestys päättyy")),
    ("sv", ("<h1>Arbetsyta</h1>", "3 förslag väntar på behandling", "Röstningen stänger")),
])
def test_the_dashboard_speaks_finnish_and_swedish(app, client, auth, scene, language, words):
    with app.app_context():
        db.session.execute(update(User).values(language=language))
        db.session.commit()
    auth.staff("coordinator@example.org")
    page = text(client.get("/manage"))
    assert f'<html lang="{language}">' in page
    for word in words:
        assert word in page, word


def _more_of_the_city(tables: int) -> None:
    """``tables`` more tables, each with a member and a round in every phase (ideas waiting
    in those whose moderation is open)."""
    for number in range(tables):
        table = factories.table(f"alue-{number}", f"Alue {number}",
                                postal_codes=(f"16{number:03d}",))
        factories.user(f"member{number}@example.org", role=MembershipRole.MEMBER, at=table)
        for phase in RoundPhase:
            round_ = factories.round_(table, phase, title=f"Alue {number} {phase.value}")
            if phase.moderation_open:
                factories.proposal(round_, status=ProposalStatus.SUBMITTED)
                factories.proposal(round_, status=ProposalStatus.ACCEPTED)


@pytest.mark.parametrize("email", ["admin@example.org", "coordinator@example.org"])
def test_the_dashboard_costs_the_same_whatever_the_number_of_tables_and_rounds(
        app, client, auth, scene, email):
    auth.staff(email)
    client.get("/manage")  # the first request after sign-in may tidy the session
    with statements(app) as small:
        assert client.get("/manage").status_code == 200
    with app.app_context():
        _more_of_the_city(6)
        db.session.commit()
    with statements(app) as big:
        page = client.get("/manage")
    assert page.status_code == 200
    if email == "admin@example.org":
        assert "Alue 5 voting" in page.text  # the admin sees the new tables
    assert 0 < len(big) == len(small), "\n".join(big)
    assert not [s for s in big if "FROM participations" in s]
