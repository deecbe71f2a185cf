"""Races that would break one person, one ballot: a vote and a postal-code move at the same
moment (one person voting in two tables' rounds), a vote and an account deletion at the same
moment (the same address voting twice), and two batches of voting codes at once (one batch
number twice). Each is run many times with real parallel requests against gunicorn; the
database must hold the invariant, and no request may answer 5xx."""

import threading
from concurrent.futures import ThreadPoolExecutor

from pb_vote.models import ProposalStatus, RoundPhase, VoterEligibility
from tests import factories

RESIDENTS = 10
CROWD = 12


def seed(scenario: dict) -> None:
    north = factories.table("pohjoinen", "Pohjoinen", postal_codes=("15100",))
    south = factories.table("etela", "Etelä", postal_codes=("15200",))
    factories.user("coordinator@example.org", postal_code=None, role="coordinator", at=north)
    rounds = {}
    for name, table in (("north", north), ("south", south)):
        round_ = factories.round_(table, RoundPhase.VOTING, title=f"{table.name} votes",
                                  voter_eligibility=VoterEligibility.BOTH)
        first = factories.proposal(round_, title=f"{table.name} idea",
                                   status=ProposalStatus.ACCEPTED)
        rounds[name] = (round_.id, first.id)
    for n in range(RESIDENTS):
        factories.user(f"mover{n}@example.org", postal_code="15100")
        factories.user(f"leaver{n}@example.org", postal_code="15100")
    for n in range(CROWD):
        factories.user(f"crowd{n}@example.org", postal_code="15200")
    scenario.update(rounds=rounds)


def _together(*actions):
    """Run the actions at the same moment (threads released by one barrier); their results."""
    barrier = threading.Barrier(len(actions))

    def run(action):
        barrier.wait()
        return action()

    with ThreadPoolExecutor(max_workers=len(actions)) as pool:
        return list(pool.map(run, actions))


def _posting(browser, path: str, data: dict):
    """Sending the form on ``path`` (its token fetched now), to run later."""
    token = browser.token(path)
    return lambda: browser.post(path, {"csrf_token": token, **data})


def _voting(browser, round_id: int, proposal_id: int):
    token = browser.token(f"/rounds/{round_id}/vote")
    return lambda: browser.post(f"/rounds/{round_id}/vote",
                                [("csrf_token", token), ("choice", str(proposal_id))])


def test_a_vote_and_a_move_at_once_never_give_one_person_two_tables(service):
    (north, north_idea), (south, south_idea) = (service.scenario["rounds"]["north"],
                                                service.scenario["rounds"]["south"])
    for n in range(RESIDENTS):
        voter, mover = service.browser(), service.browser()
        email = f"mover{n}@example.org"
        voter.sign_in_resident(email)
        mover.http.cookies.update(voter.http.cookies)  # the same person, a second tab
        vote = _voting(voter, north, north_idea)
        move = _posting(mover, "/account", {"display_name": "Mover", "language": "en",
                                            "postal_code": "15200"})
        _together(vote, move)
        # Wherever the person now lives, they try the other table's round too.
        _voting(voter, south, south_idea)()
    assert service.server_errors() == []
    twice = service.sql(
        "SELECT u.email FROM participations a JOIN participations b ON a.user_id = b.user_id "
        "JOIN users u ON u.id = a.user_id WHERE a.round_id = :north AND b.round_id = :south",
        north=north, south=south)
    assert twice == []
    # The race went both ways: some votes came first (the move was refused), some moves.
    voted = service.sql("SELECT count(*) FROM participations WHERE round_id = :r", r=north)
    moved = service.sql("SELECT count(*) FROM users WHERE email LIKE 'mover%' "
                        "AND postal_code = '15200'")
    assert voted[0][0] + moved[0][0] >= RESIDENTS


def test_a_vote_and_a_deletion_at_once_never_let_an_address_vote_twice(service):
    north, north_idea = service.scenario["rounds"]["north"]
    for n in range(RESIDENTS):
        voter, leaver = service.browser(), service.browser()
        email = f"leaver{n}@example.org"
        voter.sign_in_resident(email)
        leaver.http.cookies.update(voter.http.cookies)
        vote = _voting(voter, north, north_idea)
        _together(vote, _posting(leaver, "/account/delete", {"confirm": "y"}))
        gone = not service.sql("SELECT id FROM users WHERE email = :e", e=email)
        if gone:
            # The address comes back as a new account and tries to vote again.
            again = service.browser()
            again.sign_in_resident(email)
            _voting(again, north, north_idea)()
    assert service.server_errors() == []
    # A deletion waits for a vote at the same moment and is then refused; a vote behind a
    # deletion is refused. So no participation in the open round lost its person, and no
    # address voted twice.
    orphans = service.sql("SELECT count(*) FROM participations WHERE round_id = :r "
                          "AND user_id IS NULL AND voting_code_id IS NULL", r=north)
    assert orphans[0][0] == 0
    per_address = service.sql(
        "SELECT u.email, count(*) FROM participations p JOIN users u ON u.id = p.user_id "
        "WHERE p.round_id = :r GROUP BY u.email HAVING count(*) > 1", r=north)
    assert per_address == []


def test_two_batches_of_codes_at_once_get_two_numbers(service):
    north, _ = service.scenario["rounds"]["north"]
    staff = [service.browser() for _ in range(4)]
    for browser in staff:
        browser.sign_in_staff("coordinator@example.org", factories.STAFF_PASSWORD)
    for _ in range(3):
        answers = _together(*(_posting(b, f"/manage/rounds/{north}/codes",
                                       {"count": "5", "languages": ["fi", "sv"]})
                              for b in staff))
        assert [a.status_code for a in answers] == [200] * len(staff)
    assert service.server_errors() == []
    batches = service.sql("SELECT batch, count(*) FROM voting_codes WHERE round_id = :r "
                          "GROUP BY batch ORDER BY batch", r=north)
    assert batches == [(number, 5) for number in range(1, 3 * len(staff) + 1)]


def _turnout_kept(service, round_id: int) -> list[tuple]:
    """The database's turnout counts of ``round_id`` (summed over shards and hours)."""
    return service.sql("SELECT channel, sum(voters) FROM turnout_counts WHERE round_id = :r "
                       "GROUP BY channel HAVING sum(voters) <> 0 ORDER BY channel", r=round_id)


def test_votes_at_the_same_moment_are_all_in_the_turnout(service):
    """Every first vote adds to the turnout the database keeps, however many arrive at once
    (the counters' rows are shared): the counts equal the participations."""
    south, south_idea = service.scenario["rounds"]["south"]
    votes = []
    for n in range(CROWD):
        voter, second_tab = service.browser(), service.browser()
        voter.sign_in_resident(f"crowd{n}@example.org")
        second_tab.http.cookies.update(voter.http.cookies)
        votes += [_voting(voter, south, south_idea), _voting(second_tab, south, south_idea)]
    answers = _together(*votes)
    assert [answer.status_code for answer in answers] == [303] * len(votes)
    assert service.server_errors() == []
    counted = service.sql("SELECT channel, count(*) FROM participations WHERE round_id = :r "
                          "GROUP BY channel ORDER BY channel", r=south)
    assert counted and sum(number for _, number in counted) >= CROWD
    assert _turnout_kept(service, south) == counted
