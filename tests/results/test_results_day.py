"""Results day: what each public page and export of a publication reads from the database.
No page but the download reads a receipt list or the .pb file, none reads participations
one by one, and the cost of each is the same for a round of 5 ballots and one of 40; the
downloads stream in slices, answer 304 to their ETag and send gzip when asked."""

import gzip
import re

import pytest
from flask import current_app
from sqlalchemy import func, select

from pb_vote.extensions import db
from pb_vote.models import (
    FileSlice,
    Publication,
    PublishedReceipt,
    ReceiptSet,
    Round,
    RoundPhase,
    StoredFile,
    VoteChannel,
)
from pb_vote.services import accounts, counting, files, results, rounds, voting
from pb_vote.services.ballot_box import VoteKeys
from tests import factories, pages
from tests.queries import statements, touching

# Tables whose rows grow with the number of ballots, and columns that once held a whole
# receipt list or .pb file (publications.receipts, .ballots_pb; counts.ballots_pb).
HEAVY = ("stored_file_slices", "published_receipts", "ballot_receipts", "ballots",
         "participations", "receipts", "ballots_pb")


def published_round(at, coordinator, ballots: int, prefix: str) -> tuple[int, list[str]]:
    """A round of ``at`` with ``ballots`` online ballots by new residents, counted and
    published; its id and the receipt codes."""
    scenario = factories.voting_round(at)
    keys = VoteKeys.from_config(current_app.config)
    receipts = []
    for number in range(ballots):
        voter = factories.user(f"{prefix}{number}@example.org")
        chosen = scenario.proposals[number % 3: number % 3 + 1 + number % 2]
        receipts.append(voting.cast_ballot(
            keys, scenario.round_id, voting.Voter(user_id=voter.id), VoteChannel.ONLINE,
            {p.id: 1 for p in chosen}).receipt_code)
    rounds.transition(coordinator, scenario.round, RoundPhase.CLOSED)
    count = counting.count_now(coordinator, scenario.round, keys)
    results.publish(coordinator, scenario.round, count.id)
    return scenario.round_id, receipts


@pytest.fixture
def small_and_large(app):
    """Two published rounds of Keskusta, of 5 and 40 ballots: (round id, receipts) each."""
    with app.app_context():
        city = factories.city(eligible_residents=400)
        built = {size: published_round(city.own, city.coordinator, size, f"v{size}-")
                 for size in (5, 40)}
        db.session.commit()
        return built


PUBLIC_PAGES = ("/rounds/{id}/results", "/rounds/{id}/results/1", "/rounds/{id}/verify",
                "/api/v1/rounds/{id}/results", "/api/v1/rounds/{id}/results.csv")


def test_public_pages_read_no_receipt_no_file_and_no_ballot(app, client, small_and_large):
    for round_id, _ in small_and_large.values():
        for path in PUBLIC_PAGES:
            with statements(app) as heard:
                assert client.get(path.format(id=round_id)).status_code == 200
            assert heard, path
            for table in HEAVY:
                assert touching(heard, table) == [], (path, table)


def test_checking_a_receipt_is_one_index_lookup(app, client, small_and_large):
    round_id, receipts = small_and_large[40]
    for typed, answer in ((receipts[17], "Your ballot is in the count."),
                          ("ABCD-EFGH-JKMN-PQRS", "not in the count")):
        with statements(app) as heard:
            page = client.post(f"/rounds/{round_id}/verify", data={"receipt": typed})
        assert answer in page.text
        lookups = touching(heard, "published_receipts")
        assert len(lookups) == 1
        assert re.search(r"receipt_set_id = .* AND published_receipts\.receipt_hash = ",
                         lookups[0])
        for table in HEAVY:
            if table != "published_receipts":
                assert touching(heard, table) == [], table


def test_every_page_costs_the_same_for_eight_times_the_ballots(app, client, auth,
                                                               small_and_large):
    auth.staff("coordinator@example.org")
    paths = (*PUBLIC_PAGES, "/manage/rounds/{id}/turnout")
    cost = {}
    for size, (round_id, _) in small_and_large.items():
        for path in paths:
            with statements(app) as heard:
                assert client.get(path.format(id=round_id)).status_code == 200
            cost[size, path] = len(heard)
    assert {path: cost[5, path] for path in paths} == {path: cost[40, path] for path in paths}


def test_turnout_is_counted_by_the_database(app, client, auth):
    """Before publication the page reads the counts the database keeps, never the
    participations, so its cost does not grow with the ballots."""
    with app.app_context():
        scenario = factories.closed_round(ballots=12)
        db.session.commit()
        round_id = scenario.round_id
    auth.staff("coordinator@example.org")
    with statements(app) as heard:
        page = client.get(f"/manage/rounds/{round_id}/turnout")
    assert "12 ballots so far." in page.text
    assert touching(heard, "turnout_counts"), "turnout read nothing"
    for table in ("participations", "ballots", "ballot_receipts", "published_receipts",
                  "stored_file_slices"):
        assert touching(heard, table) == []


def test_a_published_rounds_turnout_is_the_publications(app, client, auth, small_and_large):
    """Once published no ballot can change: the page shows the publication's figures and
    counts nothing, however many ballots there are; the figures are the live count's."""
    auth.staff("coordinator@example.org")
    round_id, _ = small_and_large[40]
    with statements(app) as heard:
        page = client.get(f"/manage/rounds/{round_id}/turnout")
    assert "40 ballots so far." in page.text
    assert touching(heard, "participations") == []
    with app.app_context():
        round_ = db.session.get(Round, round_id)
        assert results.round_turnout(round_) == voting.turnout(round_)


def _table_sizes() -> dict[str, int]:
    return {model.__tablename__: db.session.execute(
        select(func.count()).select_from(model)).scalar_one()
        for model in (Publication, ReceiptSet, PublishedReceipt, StoredFile, FileSlice)}


def test_a_correction_adds_only_what_changed(app, client, auth):
    scenario = factories.saved(app, lambda: factories.published_round(
        factories.city().own, ballots=24))
    with app.app_context():
        before = _table_sizes()
        first = db.session.execute(select(Publication)).scalar_one()
        dropped = int(first.result["selected"][0])
    auth.staff("coordinator@example.org")
    assert pages.count_and_publish(client, scenario.round_id, [dropped],
                                   reason="The site is unsuitable.").status_code == 303
    with app.app_context():
        after = _table_sizes()
        new_pb = db.session.execute(
            select(Publication.ballots_file_id).where(Publication.number == 2)).scalar_one()
        pb_slices = db.session.execute(select(func.count()).select_from(FileSlice).where(
            FileSlice.file_id == new_pb)).scalar_one()
        # The same ballots: one more publication and its new .pb file, not one more receipt.
        assert after == {**before, "publications": before["publications"] + 1,
                         "stored_files": before["stored_files"] + 1,
                         "stored_file_slices": before["stored_file_slices"] + pb_slices}
        assert before["published_receipts"] == 24
        # Publishing the same count again (a correction of its wording, say) stores nothing.
        round_ = db.session.get(Round, scenario.round_id)
        results.publish(accounts.find_user_by_email("coordinator@example.org"), round_,
                        results.latest_count(round_).id, correction_reason="Wording.")
        again = _table_sizes()
        assert again == {**after, "publications": after["publications"] + 1}
        db.session.rollback()
    receipts = [client.get(f"/api/v1/rounds/{scenario.round_id}/publications/{n}/receipts")
                .get_json() for n in (1, 2)]
    assert receipts[0]["receipts"] == receipts[1]["receipts"]  # one list, shared
    assert [r["publication"] for r in receipts] == [1, 2]
    assert {r["round"] for r in receipts} == {scenario.round_id}


@pytest.fixture
def published(app, monkeypatch):
    """A round of 24 ballots, published with its files in slices of 100 bytes."""
    monkeypatch.setattr(files, "SLICE_SIZE", 100)
    return factories.saved(app, lambda: factories.published_round(
        factories.city(eligible_residents=400).own, ballots=24))


DOWNLOADS = ("ballots.pb", "receipts", "results", "results.csv")


@pytest.mark.parametrize("name", DOWNLOADS)
def test_downloads_answer_their_etag_with_304_and_send_gzip(client, published, name):
    url = f"/api/v1/rounds/{published.round_id}/{name}"
    plain = client.get(url)
    assert plain.status_code == 200 and "Content-Encoding" not in plain.headers
    etag = plain.headers["ETag"]
    assert etag.startswith('"') and not etag.startswith("W/")
    assert int(plain.headers["Content-Length"]) == len(plain.data)
    assert plain.headers["Cache-Control"] == "public, no-cache"
    assert "Accept-Encoding" in plain.headers["Vary"]

    packed = client.get(url, headers={"Accept-Encoding": "gzip, deflate"})
    assert packed.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(packed.data) == plain.data
    assert int(packed.headers["Content-Length"]) == len(packed.data) < len(plain.data)
    assert packed.headers["ETag"] not in (etag, None)

    for tag, headers in ((etag, {}), (packed.headers["ETag"], {"Accept-Encoding": "gzip"})):
        again = client.get(url, headers={"If-None-Match": tag, **headers})
        assert again.status_code == 304 and again.data == b""
        assert again.headers["ETag"] == tag
    other = client.get(url, headers={"If-None-Match": '"something-else"'})
    assert other.status_code == 200 and other.data == plain.data


@pytest.mark.parametrize("name", DOWNLOADS)
def test_a_numbered_publication_is_served_as_immutable(client, published, name):
    latest = client.get(f"/api/v1/rounds/{published.round_id}/{name}")
    numbered = client.get(f"/api/v1/rounds/{published.round_id}/publications/1/{name}")
    assert numbered.data == latest.data and numbered.headers["ETag"] == latest.headers["ETag"]
    assert numbered.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert client.get(
        f"/api/v1/rounds/{published.round_id}/publications/2/{name}").status_code == 404


def test_the_ballots_stream_one_slice_per_query_and_a_304_reads_none(app, client, published):
    url = f"/api/v1/rounds/{published.round_id}/ballots.pb"
    with app.app_context():
        publication = db.session.execute(select(Publication)).scalar_one()
        stored = db.session.get(StoredFile, publication.ballots_file_id)
        size, packed_size, expected = stored.size, stored.deflated_size, publication.ballots_pb
    assert packed_size > 100 * 3  # stored in several slices
    for headers, slices in (({}, -(-size // 100)),
                            ({"Accept-Encoding": "gzip"}, -(-packed_size // 100))):
        with statements(app) as heard:
            response = client.get(url, headers=headers)
        body = gzip.decompress(response.data) if headers else response.data
        assert body.decode() == expected
        assert len(touching(heard, "stored_file_slices")) == slices
        with statements(app) as heard:
            assert client.get(url, headers={**headers, "If-None-Match": response.headers[
                "ETag"]}).status_code == 304
        assert touching(heard, "stored_file_slices") == []


def test_a_correction_changes_the_etag_of_the_latest_not_of_the_first(app, client, auth,
                                                                      published):
    url = f"/api/v1/rounds/{published.round_id}"
    first = {name: client.get(f"{url}/{name}") for name in DOWNLOADS}
    with app.app_context():
        dropped = int(db.session.execute(select(Publication)).scalar_one().result["selected"][0])
    auth.staff("coordinator@example.org")
    pages.count_and_publish(client, published.round_id, [dropped], reason="Site unsuitable.")
    auth.sign_out()
    for name, response in first.items():
        latest = client.get(f"{url}/{name}")
        assert latest.headers["ETag"] != response.headers["ETag"]
        kept = client.get(f"{url}/publications/1/{name}",
                          headers={"If-None-Match": response.headers["ETag"]})
        assert kept.status_code == 304


def test_the_history_reads_only_the_summaries(app, client, auth, published):
    with app.app_context():
        dropped = int(db.session.execute(select(Publication)).scalar_one().result["selected"][0])
    auth.staff("coordinator@example.org")
    pages.count_and_publish(client, published.round_id, [dropped], reason="Site unsuitable.")
    auth.sign_out()
    for path, rendered in (("", True), ("/1", True), ("/2", False)):
        with statements(app) as heard:
            page = client.get(f"/rounds/{published.round_id}/results{path}")
        assert "Publication history" in page.text and "Site unsuitable." in page.text
        read = touching(heard, "publications")
        # The figures of the one publication shown, when its page is rendered (publication
        # 2 was, as the one in force); the others' summaries only.
        assert len([s for s in read if re.search(r"publications\.result\b", s)]) == rendered
        assert len(read) <= 3  # the one in force, the one shown, the list
