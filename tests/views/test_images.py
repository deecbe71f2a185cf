"""Images on ideas through the pages: upload with alt text, see it on the proposal page
and as a thumbnail on the round's list and the ballot, served re-encoded with long cache
lifetimes to those who may see it; refusals that keep what was typed; a moderator's
removal with a reason the author sees."""

import io
import re

import pytest
from PIL import Image
from sqlalchemy import select

from pb_vote.extensions import db
from pb_vote.models import AuditEvent, Proposal, ProposalImage, ProposalStatus, RoundPhase
from pb_vote.services import images
from pb_vote.services.image_store import LocalImageStore
from tests import factories
from tests.interface.test_look import PAGE_BUDGET_BYTES, weight
from tests.services.test_images import png_header_only


@pytest.fixture
def scene(app):
    """factories.city() with Keskusta collecting ideas; a resident who will propose."""
    with app.app_context():
        town = factories.city()
        factories.user("author@example.org")
        round_ = factories.round_(town.own, RoundPhase.PROPOSALS, budget_cents=5_000_000)
        db.session.commit()
        return {"round": round_.id}


def idea_form(image: bytes | None = None, filename: str = "photo.jpg",
              content_type: str = "image/jpeg", **overrides):
    data = {"title": "Benches by the shore path", "description": "Three benches, please.",
            "estimated_cost": "4 500", "category": "Parks", "location": "Vesijärvi shore",
            "link": "", "image_alt": "The shore path at sunset, no bench in sight"}
    if image is not None:
        data["image"] = (io.BytesIO(image), filename, content_type)
    data.update(overrides)
    return data


def image_urls(html: str) -> list[str]:
    return re.findall(r'/images/[0-9a-f]{64}-[0-9]+\.webp', html)


def submit(client, scene, **form):
    return client.post(f"/rounds/{scene['round']}/propose", data=idea_form(**form),
                       content_type="multipart/form-data")


def the_idea(app) -> int:
    with app.app_context():
        return db.session.execute(select(Proposal.id)).scalar_one()


def test_an_idea_with_an_image_is_shown_everywhere_without_its_gps_position(
        app, client, auth, scene):
    auth.resident("author@example.org")
    photo = factories.image_bytes("JPEG", (2400, 1600), gps=True)
    response = submit(client, scene, image=photo)
    assert response.status_code == 303, response.text
    page = client.get(response.headers["Location"]).text
    img = re.search(r'<img class="proposal-image"[^>]*>', page).group(0)
    assert 'alt="The shore path at sunset, no bench in sight"' in img
    assert 'width="1600" height="1067"' in img
    assert " 480w" in img and " 960w" in img and " 1600w" in img and 'sizes="' in img
    client.post("/sign-out")

    anonymous = app.test_client()
    listing = anonymous.get(f"/rounds/{scene['round']}").text
    thumb = re.search(r'<img class="thumb"[^>]*>', listing).group(0)
    assert 'loading="lazy"' in thumb and 'width="480" height="320"' in thumb
    for url in set(image_urls(page)):
        served = anonymous.get(url)
        assert served.status_code == 200
        assert served.headers["Content-Type"] == "image/webp"
        assert served.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        assert served.headers["X-Content-Type-Options"] == "nosniff"
        with Image.open(io.BytesIO(served.data)) as out:
            assert out.format == "WEBP"
            assert not out.getexif().get_ifd(factories.EXIF_GPS_INFO)
            assert not out.getexif()
        assert served.data != photo
    assert anonymous.get("/images/" + "0" * 64 + "-480.webp").status_code == 404
    assert anonymous.get("/images/../../instance/pb_vote.sqlite").status_code == 404


def test_signed_in_people_may_cache_a_public_image_too(app, client, auth, scene):
    auth.resident("author@example.org")
    submit(client, scene, image=factories.image_bytes())
    url = image_urls(client.get(f"/rounds/{scene['round']}").text)[0]
    served = client.get(url)
    assert served.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    # Nothing of the visitor's in what a shared cache keeps: no session cookie.
    assert "Set-Cookie" not in served.headers
    # (A page seen signed in does set it, as before.)
    assert "Set-Cookie" in client.get("/my/proposals").headers


@pytest.mark.parametrize(
    ("upload", "filename", "content_type", "message"),
    [
        (b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(1)'
         b"</script></svg>", "bench.svg", "image/svg+xml", "not a picture the service"),
        (b"<html><script>alert(document.cookie)</script></html>", "bench.png", "image/png",
         "not a picture the service"),
        (png_header_only(20_000, 20_000), "bomb.png", "image/png", "too many pixels"),
    ],
    ids=["svg-with-script", "html-named-png", "decompression-bomb"],
)
def test_a_malicious_file_is_refused_and_nothing_typed_is_lost(
        app, client, auth, scene, upload, filename, content_type, message):
    auth.resident("author@example.org")
    response = submit(client, scene, image=upload, filename=filename,
                      content_type=content_type, title="Lights for the ski track",
                      description="LED lights for the whole loop.")
    assert response.status_code == 200
    assert message in response.text
    assert 'aria-invalid="true"' in response.text
    for typed in ('value="Lights for the ski track"', "LED lights for the whole loop.",
                  'value="4 500"', 'value="Vesijärvi shore"',
                  'value="The shore path at sunset, no bench in sight"'):
        assert typed in response.text
    with app.app_context():
        assert db.session.execute(select(Proposal)).first() is None


def test_an_image_without_alt_text_is_refused_with_a_clear_error(app, client, auth, scene):
    auth.resident("author@example.org")
    response = submit(client, scene, image=factories.image_bytes(), image_alt="")
    assert response.status_code == 200
    assert "Describe the image for people who cannot see it." in response.text
    assert 'id="image_alt-error"' in response.text
    assert 'value="Benches by the shore path"' in response.text
    assert "Choose the picture again" in response.text


def test_a_too_large_request_gets_a_clear_413_page_in_the_users_language(app, client, auth,
                                                                         scene):
    app.config["IMAGE_MAX_UPLOAD_BYTES"] = 200 * 1024
    auth.resident("author@example.org")
    client.post("/language", data={"language": "fi"})
    response = submit(client, scene, image=b"\xff" * (300 * 1024))
    assert response.status_code == 413
    assert "Kuva on liian suuri" in response.text
    # Elsewhere the general limit holds (1 MB), with the general words.
    other = client.post("/account", data={"display_name": "x" * (2 * 1024 * 1024)})
    assert other.status_code == 413


def test_an_image_of_a_hidden_or_draft_idea_is_not_served_to_others(app, client, auth,
                                                                    scene):
    auth.resident("author@example.org")
    submit(client, scene, image=factories.image_bytes())
    url = image_urls(client.get(f"/proposals/{the_idea(app)}").text)[0]
    anonymous = app.test_client()
    assert anonymous.get(url).status_code == 200
    with app.app_context():
        proposal = db.session.get(Proposal, the_idea(app))
        proposal.status, proposal.hidden_reason = ProposalStatus.HIDDEN, "Abusive."
        db.session.commit()
    assert anonymous.get(url).status_code == 404
    own = client.get(url)
    assert own.status_code == 200 and "no-store" in own.headers["Cache-Control"]
    with app.app_context():
        proposal = db.session.get(Proposal, the_idea(app))
        proposal.status = ProposalStatus.SUBMITTED
        proposal.round.phase = RoundPhase.DRAFT
        db.session.commit()
    assert anonymous.get(url).status_code == 404


def test_the_author_removes_an_image_and_adds_another_when_editing(app, client, auth, scene):
    auth.resident("author@example.org")
    submit(client, scene, image=factories.image_bytes())
    idea = the_idea(app)
    edit = client.get(f"/proposals/{idea}/edit").text
    assert 'enctype="multipart/form-data"' in edit and "Remove this image" in edit
    with app.app_context():
        first = db.session.execute(select(ProposalImage)).scalar_one()
        first_id, first_files = first.id, first.file_names
    response = client.post(
        f"/proposals/{idea}/edit", content_type="multipart/form-data",
        data=idea_form(image=factories.image_bytes("PNG", (800, 600), color=(0, 0, 200)),
                       image_alt="A crossing without lights", remove_images=str(first_id)))
    assert response.status_code == 303, response.text
    with app.app_context():
        shown = db.session.execute(select(ProposalImage)).scalars().all()
        assert [image.alt_text for image in shown] == ["A crossing without lights"]
    assert all(app.test_client().get(f"/images/{name}").status_code == 404
               for name in first_files)


def test_a_moderator_removes_an_image_with_a_reason_the_author_sees(app, client, auth, scene):
    auth.resident("author@example.org")
    submit(client, scene, image=factories.image_bytes())
    idea = the_idea(app)
    url = image_urls(client.get(f"/proposals/{idea}").text)[0]
    client.post("/sign-out")
    with app.app_context():
        image_id = db.session.execute(select(ProposalImage.id)).scalar_one()
    auth.staff("member@example.org")
    page = client.get(f"/manage/proposals/{idea}").text
    assert f"/manage/images/{image_id}/remove" in page
    refused = client.post(f"/manage/images/{image_id}/remove",
                          data={f"image-{image_id}-reason": ""})
    assert refused.status_code == 400 and "Write the reason." in refused.text
    done = client.post(f"/manage/images/{image_id}/remove",
                       data={f"image-{image_id}-reason": "Shows a neighbour's car plate."})
    assert done.status_code == 303
    assert app.test_client().get(url).status_code == 404
    with app.app_context():
        event = db.session.execute(
            select(AuditEvent).where(AuditEvent.action == "proposal.image_removed")
        ).scalar_one()
        assert event.details["reason"] == "Shows a neighbour's car plate."
    client.post("/sign-out")
    auth.resident("author@example.org")
    mine = client.get("/my/proposals").text
    assert "Shows a neighbour&#39;s car plate." in mine
    assert "proposal-image" not in client.get(f"/proposals/{idea}").text


def test_staff_add_an_image_during_review(app, client, auth, scene):
    auth.resident("author@example.org")
    submit(client, scene)
    idea = the_idea(app)
    client.post("/sign-out")
    with app.app_context():
        db.session.get(Proposal, idea).round.phase = RoundPhase.REVIEW
        db.session.commit()
    auth.staff("member@example.org")
    missing = client.post(f"/manage/proposals/{idea}/images", data={"image_alt": "x"},
                          content_type="multipart/form-data")
    assert missing.status_code == 400 and "Choose an image." in missing.text
    added = client.post(f"/manage/proposals/{idea}/images", content_type="multipart/form-data",
                        data={"image": (io.BytesIO(factories.image_bytes()), "a.jpg"),
                              "image_alt": "The crossing by the school"})
    assert added.status_code == 303
    with app.app_context():
        assert db.session.execute(select(AuditEvent.action)).scalars().all() == [
            "proposal.image_added"]


def test_the_ballot_shows_thumbnails(app, client, auth):
    with app.app_context():
        scenario = factories.voting_round()
        store_folder = app.config["IMAGE_FOLDER"]
        proposal = scenario.proposals[0]
        round_ = proposal.round
        phase, round_.phase = round_.phase, RoundPhase.REVIEW
        db.session.flush()
        factories.proposal_image(proposal, LocalImageStore(store_folder),
                                 by=scenario.coordinator)
        round_.phase = phase
        db.session.commit()
        round_id = round_.id
    auth.resident("resident@example.org")
    ballot = client.get(f"/rounds/{round_id}/vote").text
    thumb = re.search(r'<img class="thumb"[^>]*>', ballot).group(0)
    assert 'loading="lazy"' in thumb and 'alt=""' in thumb  # the label names it


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # the page, not the database
def test_a_capitals_ballot_of_pictured_proposals_keeps_its_page_budget(app, client, auth):
    built = factories.saved(app, factories.big_round, n=300, ballots=2)
    with app.app_context():
        processed = images.process_upload(factories.image_bytes(), images.ImageSettings())
        for proposal_id in built.proposal_ids:
            db.session.add(ProposalImage(
                proposal_id=proposal_id, key=processed.key, widths="480,960,1200",
                width=1200, height=800, alt_language="fi",
                alt_text="Puiston penkki järven rannalla, taustalla koivuja"))
        db.session.commit()
    auth.resident("resident@example.org")
    ballot = f"/rounds/{built.round_id}/vote"
    assert weight(client, ballot) < PAGE_BUDGET_BYTES
    assert 'class="thumb"' not in client.get(ballot).text
    # The round's list shows every thumbnail, each loaded only when scrolled near.
    listing = client.get(f"/rounds/{built.round_id}").text
    assert listing.count('loading="lazy"') == 300


def test_staff_add_a_proposal_with_an_image(app, client, auth, scene):
    auth.staff("member@example.org")
    response = client.post(
        f"/manage/rounds/{scene['round']}/proposals/new", content_type="multipart/form-data",
        data={**idea_form(image=factories.image_bytes()), "origin": "member"})
    assert response.status_code == 303, response.text
    with app.app_context():
        image = db.session.execute(select(ProposalImage)).scalar_one()
        assert image.alt_text == "The shore path at sunset, no bench in sight"
        actions = db.session.execute(select(AuditEvent.action)).scalars().all()
        assert actions == ["proposal.added"]  # the author's own image: part of adding it
