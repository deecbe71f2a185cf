"""Images on ideas in a real browser, at 360 px and on a desktop, in Finnish, Swedish and
English, with and without JavaScript: a resident uploads an image with its alt text (a
missing alt text and a malicious file are refused, nothing typed is lost), sees it on the
proposal page (the phone loads the narrow rendition) and as a thumbnail on the round's
list and the ballot; a moderator removes it with a reason, which the author then reads on
"My proposals"."""

import io
import re

import pytest
from flask_babel import force_locale, gettext
from PIL import Image
from playwright.sync_api import expect
from sqlalchemy import select

from pb_vote.extensions import db
from pb_vote.models import Proposal, Round, RoundPhase, User
from pb_vote.services.image_store import LocalImageStore
from tests import factories
from tests.browser.helpers import choose_language, sign_in_by_link, sign_in_with_password

pytestmark = pytest.mark.browser

SVG_WITH_SCRIPT = (b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)">'
                   b"<script>alert(document.cookie)</script></svg>")
ALT = {"fi": "Rantapolku auringonlaskun aikaan, ei yhtään penkkiä",
       "sv": "Strandstigen i solnedgången, ingen bänk i sikte",
       "en": "The shore path at sunset, no bench in sight"}


def say(app, language: str, message: str, **values) -> str:
    """``message`` as the service words it in ``language``."""
    with app.test_request_context(), force_locale(language):
        return gettext(message, **values)


def file(name: str, data: bytes, mime: str) -> dict:
    return {"name": name, "mimeType": mime, "buffer": data}


@pytest.fixture(scope="module")
def ballot_image(live_server):
    """An image on the first proposal of the approval ballot (added in review, by the
    table's member, as the service allows)."""
    app = live_server.app
    with app.app_context():
        round_ = db.session.get(Round, live_server.approval_round)
        proposal = db.session.get(Proposal, next(iter(live_server.approval_proposals.values())))
        member = db.session.execute(
            select(User).where(User.email == live_server.member)
        ).scalar_one()
        if not proposal.shown_images:
            round_.phase = RoundPhase.REVIEW
            db.session.flush()
            factories.proposal_image(proposal, LocalImageStore(app.config["IMAGE_FOLDER"]),
                                     by=member, alt_text="An old bench by the lake")
            round_.phase = RoundPhase.VOTING
            db.session.commit()
    return "An old bench by the lake"


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
@pytest.mark.parametrize("language", ["fi", "sv", "en"])
def test_an_idea_with_an_image_from_upload_to_removal(new_context, viewport, visit, scenario,
                                                      ballot_image, language, javascript):
    app = scenario.app
    context = new_context(viewport, java_script_enabled=javascript)
    page = visit.watch(context.new_page(),
                       axe_copy_in=None if javascript else new_context(viewport).new_page())
    email = scenario.new_resident()
    sign_in_by_link(page, app, email)
    choose_language(page, language)

    page.goto(f"/rounds/{scenario.ideas_round}/propose")
    title = f"Penkit rantapolulle ({viewport}, {language}, {javascript})"
    page.locator("#title").fill(title)
    page.locator("#description").fill("Kolme penkkiä rantapolun varteen.")
    page.locator("#estimated_cost").fill("4 500")
    page.locator("#category").select_option("Parks")
    page.locator("#location").fill("Vesijärven ranta")
    photo = factories.image_bytes("JPEG", (2400, 1600), gps=True)
    visit(page, "form")

    # An image without its alt text: a clear error at the field; what was typed stays.
    page.locator("#image").set_input_files(file("ranta.jpg", photo, "image/jpeg"))
    page.locator("#submit").click()
    expect(page.locator("#image_alt-error")).to_have_text(
        say(app, language, "Describe the image for people who cannot see it."))
    expect(page.locator("#title")).to_have_value(title)
    expect(page.locator("#location")).to_have_value("Vesijärven ranta")
    visit(page, "alt-missing")

    # A script in an SVG, named and typed as a picture: refused by its content.
    page.locator("#image").set_input_files(file("ranta.png", SVG_WITH_SCRIPT, "image/png"))
    page.locator("#image_alt").fill(ALT[language])
    page.locator("#submit").click()
    expect(page.locator("#image-error")).to_contain_text(say(
        app, language, "This file is not a picture the service accepts. Choose a JPEG, PNG "
        "or WebP photo or picture."))
    expect(page.locator("#title")).to_have_value(title)
    expect(page.locator("#image_alt")).to_have_value(ALT[language])
    visit(page, "malicious-refused")

    page.locator("#image").set_input_files(file("ranta.jpg", photo, "image/jpeg"))
    page.locator("#submit").click()
    expect(page.get_by_role("heading", name=title, level=1)).to_be_visible()
    picture = page.locator("img.proposal-image")
    expect(picture).to_have_attribute("alt", ALT[language])
    picture.scroll_into_view_if_needed()
    page.wait_for_function("document.querySelector('img.proposal-image').complete")
    loaded = picture.evaluate("img => [img.currentSrc, img.naturalWidth]")
    assert loaded[1] > 0, "the image did not load"
    assert loaded[0].endswith("-480.webp" if viewport == "phone" else "-960.webp"), loaded
    served = page.request.get(loaded[0])
    assert served.headers["content-type"] == "image/webp"
    assert served.headers["cache-control"] == "public, max-age=31536000, immutable"
    with Image.open(io.BytesIO(served.body())) as out:
        assert not out.getexif(), "EXIF (the GPS position) came through"
    visit(page, "proposal")
    proposal_id = int(re.search(r"/proposals/(\d+)", page.url).group(1))

    page.goto(f"/rounds/{scenario.ideas_round}")
    card = page.locator("li.card").filter(has=page.get_by_role("link", name=title))
    thumb = card.locator("img.thumb")
    expect(thumb).to_have_attribute("loading", "lazy")
    expect(thumb).to_have_attribute("alt", ALT[language])
    visit(page, "round-list")

    page.goto(f"/rounds/{scenario.approval_round}/vote")
    expect(page.locator(".ballot-list img.thumb").first).to_have_attribute("alt", "")
    visit(page, "ballot")

    # The table's member removes the image with a reason.
    staff = visit.watch(new_context(viewport, java_script_enabled=javascript).new_page(),
                        axe_copy_in=None if javascript else new_context(viewport).new_page())
    sign_in_with_password(staff, scenario.member, scenario.password)
    staff.goto(f"/manage/proposals/{proposal_id}")
    images = staff.locator("section.image-section")
    images.get_by_text("Remove this image").click()
    reason = f"Shows a neighbour's car plate ({language})"
    images.get_by_label("Reason for removing the image").fill(reason)
    visit(staff, "moderate-image")
    images.get_by_role("button", name="Remove the image").click()
    expect(staff.get_by_text("The image is removed. Its author sees the reason.")).to_be_visible()
    visit(staff, "image-removed")

    page.goto("/my/proposals")
    card = page.locator("li.card").filter(has=page.get_by_role("link", name=title))
    expect(card).to_contain_text(reason)
    expect(card).to_contain_text(say(app, language, "The moderators removed an image "
                                     "(%(description)s). Reason:", description=ALT[language]))
    visit(page, "my-proposals")
    page.goto(f"/proposals/{proposal_id}")
    expect(page.locator("img.proposal-image")).to_have_count(0)
    assert page.request.get(loaded[0]).status == 404


@pytest.mark.parametrize("viewport", ["phone"])
def test_a_too_large_image_is_said_at_once_with_javascript(new_context, viewport, visit,
                                                          scenario):
    context = new_context(viewport)
    page = visit.watch(context.new_page())
    sign_in_by_link(page, scenario.app, scenario.new_resident())
    page.goto(f"/rounds/{scenario.ideas_round}/propose")
    page.locator("#title").fill("A very large photo")
    too_large = scenario.app.config["IMAGE_MAX_UPLOAD_BYTES"] + 1
    page.locator("#image").set_input_files(file("big.jpg", b"\xff" * too_large, "image/jpeg"))
    note = page.locator("#image-size")
    expect(note).to_be_visible()
    expect(note).to_contain_text("This image is too large")
    expect(page.locator("#image")).to_have_js_property("value", "")
    expect(page.locator("#title")).to_have_value("A very large photo")
    visit(page, "too-large")
