"""Images against the running service (gunicorn, CSRF on): a phone photo larger than the
general request limit goes through the idea form (the upload limit is raised before CSRF
reads the form) and comes back re-encoded without its GPS position; a request above the
upload limit gets the clear 413 page; a file that is not a picture is refused with the
typed text kept; a hidden idea's image is served to nobody but its author and staff."""

import io
import os
import re

import pytest
from PIL import Image

from pb_vote.extensions import db
from pb_vote.models import Proposal, ProposalStatus, RoundPhase
from tests import factories

SERVICE_ENVIRONMENT = {"PB_VOTE_IMAGE_MAX_UPLOAD_BYTES": str(6 * 1024 * 1024)}


def seed(scenario: dict) -> None:
    table = factories.table("keskusta", "Keskusta", postal_codes=("15100",))
    factories.user("author@example.org")
    ideas = factories.round_(table, RoundPhase.PROPOSALS, categories=[])
    db.session.flush()
    scenario.update(ideas=ideas.id)


def noisy_photo() -> bytes:
    """A 2 to 3 MB JPEG with an EXIF GPS position: noise does not compress."""
    picture = Image.frombytes("RGB", (1400, 1400), os.urandom(1400 * 1400 * 3))
    exif = Image.Exif()
    exif[factories.EXIF_GPS_INFO] = {1: "N", 2: (60.0, 59.0, 0.0)}
    out = io.BytesIO()
    picture.save(out, "JPEG", quality=95, exif=exif.tobytes())
    return out.getvalue()


IDEA = {"title": "Benches by the shore", "description": "Three benches.",
        "estimated_cost": "4500", "location": "Vesijärvi", "link": "",
        "image_alt": "The shore path"}


@pytest.fixture(scope="module")
def author(service):
    visitor = service.browser()
    visitor.sign_in_resident("author@example.org")
    return visitor


def test_a_large_photo_goes_through_and_comes_back_without_gps(service, author):
    photo = noisy_photo()
    assert len(photo) > 1024 * 1024  # more than MAX_CONTENT_LENGTH allows other forms
    form = f"/rounds/{service.scenario['ideas']}/propose"
    answer = author.submit(form, IDEA, files={"image": ("photo.jpg", photo, "image/jpeg")})
    assert answer.status_code == 303, answer.text[:2000]
    page = author.get(answer.headers["Location"]).text
    urls = sorted(set(re.findall(r"/images/[0-9a-f]{64}-\d+\.webp", page)))
    assert len(urls) == 3
    anonymous = service.browser()
    for url in urls:
        served = anonymous.get(url)
        assert served.status_code == 200
        assert served.headers["Content-Type"] == "image/webp"
        assert served.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        assert served.headers["X-Content-Type-Options"] == "nosniff"
        with Image.open(io.BytesIO(served.content)) as out:
            assert out.format == "WEBP" and not out.getexif()
    proposal_id = int(answer.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    with service.inside():
        proposal = db.session.get(Proposal, proposal_id)
        proposal.status, proposal.hidden_reason = ProposalStatus.HIDDEN, "Abusive."
        db.session.commit()
    assert anonymous.get(urls[0]).status_code == 404
    own = author.get(urls[0])
    assert own.status_code == 200 and own.headers["Cache-Control"] == "no-store"
    assert not author.server_errors() and not anonymous.server_errors()
    assert not service.server_errors()


def test_a_file_that_is_not_a_picture_is_refused_and_the_text_kept(service, author):
    form = f"/rounds/{service.scenario['ideas']}/propose"
    answer = author.submit(form, {**IDEA, "title": "Lights for the ski track"}, files={
        "image": ("lights.png", b"<html><script>alert(1)</script></html>", "image/png")})
    assert answer.status_code == 200
    assert "This file is not a picture the service accepts." in answer.text
    assert 'value="Lights for the ski track"' in answer.text


def test_a_request_above_the_upload_limit_gets_the_413_page(service, author):
    import requests

    form = f"/rounds/{service.scenario['ideas']}/propose"
    try:
        answer = author.submit(form, IDEA, files={
            "image": ("huge.jpg", b"\xff" * (7 * 1024 * 1024), "image/jpeg")})
    except requests.ConnectionError:
        pytest.fail("the service dropped the connection instead of answering 413")
    assert answer.status_code == 413
    assert "The image is too large: a form can send at most 6 MB." in answer.text
    assert not service.server_errors()
