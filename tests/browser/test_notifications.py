"""Notices on a phone (360 px), in Finnish and in Swedish, with JavaScript and without: a
resident ticks "when voting opens in my area" on the account page, the phase clock opens
voting in their area, the notice arrives (the development outbox, /dev/mail) in their
language, and its link unsubscribes them with one click, without a session. Screenshots
land in test-results/screenshots/."""

import itertools
from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from pb_vote import clock, jobs
from pb_vote.extensions import db
from pb_vote.mail import outbox
from pb_vote.models import NoticeKind, ProposalStatus, Round, RoundPhase, User
from pb_vote.services import notices
from tests import factories
from tests.browser.helpers import new_mail, sign_in_by_link

pytestmark = pytest.mark.browser
_AREAS = itertools.count(1)
WORDS = {
    "fi": {"box": "Kun äänestys alkaa alueellani", "save": "Tallenna ilmoitukset",
           "saved": "Ilmoitusvalintasi on tallennettu.", "subject": "Äänestys on alkanut: ",
           "ask": "Lopetetaanko näiden ilmoitusten lähettäminen sinulle?",
           "button": "Peru tilaus", "done": "Tilaus on peruttu."},
    "sv": {"box": "När röstningen börjar i mitt område", "save": "Spara mina meddelanden",
           "saved": "Dina val av meddelanden är sparade.", "subject": "Röstningen har börjat: ",
           "ask": "Sluta skicka de här meddelandena till dig?",
           "button": "Avbeställ", "done": "Du har avbeställt."},
}


def area_with_a_round(app, language: str) -> tuple[str, int]:
    """A new table (its own postal code) whose round is in review with a proposal on the
    ballot, voting due tomorrow; and a resident of its area reading ``language`` (their
    account still in English until signed in). Returns the email and the round's id."""
    number = next(_AREAS)
    with app.app_context():
        table = factories.table(f"notices-{number}", f"Alue {number}",
                                postal_codes=(f"158{number:02d}",))
        now = clock.utcnow()
        round_ = factories.round_(table, RoundPhase.REVIEW, title=f"Alue {number} 2027",
                                  voting_open_at=now + timedelta(days=1),
                                  voting_close_at=now + timedelta(days=10))
        factories.proposal(round_, title="Penkit rantaan", status=ProposalStatus.ACCEPTED)
        email = f"notices{number}@example.org"
        factories.user(email, postal_code=f"158{number:02d}")
        db.session.commit()
        return email, round_.id


def said(app, email: str) -> dict:
    with app.app_context():
        person = db.session.execute(select(User).where(User.email == email)).scalar_one()
        return notices.stated_preferences(person.id)


@pytest.mark.parametrize("viewport", ["phone"])
@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
@pytest.mark.parametrize("language", ["fi", "sv"])
def test_a_resident_opts_in_gets_the_notice_and_unsubscribes_with_one_click(
        new_context, viewport, visit, scenario, language, javascript):
    app, words = scenario.app, WORDS[language]
    email, round_id = area_with_a_round(app, language)
    context = new_context(viewport, java_script_enabled=javascript)
    page = visit.watch(context.new_page(), axe_copy_in=None if javascript
                       else new_context(viewport).new_page())
    sign_in_by_link(page, app, email)
    with app.app_context():  # the resident reads Finnish or Swedish from now on
        db.session.execute(select(User).where(User.email == email)).scalar_one().language = (
            language)
        db.session.commit()

    page.goto("/account")
    expect(page.locator("html")).to_have_attribute("lang", language)
    box = page.get_by_label(words["box"])
    expect(box).not_to_be_checked()  # off until ticked
    visit(page, f"account-notices-{language}")
    box.check()
    page.get_by_role("button", name=words["save"]).click()
    expect(page.get_by_text(words["saved"])).to_be_visible()
    expect(page.get_by_label(words["box"])).to_be_checked()
    visit(page, f"account-notices-saved-{language}")
    assert said(app, email) == {NoticeKind.VOTING_OPEN: True}

    before = len(outbox(app))
    with app.app_context():  # voting is due now: the phase clock's minute opens it
        db.session.get(Round, round_id).voting_open_at = clock.utcnow() - timedelta(minutes=1)
        db.session.commit()
        jobs.advance_phases()  # voting opens, and the notice is written and sent
    mail = new_mail(app, email, before)
    assert mail.subject.startswith(words["subject"])
    assert mail.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

    context.clear_cookies()  # the link needs no session
    page.goto("/dev/mail")
    letter = page.locator("article.mail", has_text=email).filter(has_text=words["subject"])
    expect(letter).to_have_count(1)
    letter.locator('a[href*="/account/unsubscribe/"]').click()
    expect(page.get_by_text(words["ask"])).to_be_visible()
    visit(page, f"unsubscribe-{language}")
    assert said(app, email) == {NoticeKind.VOTING_OPEN: True}  # opening it changed nothing
    page.get_by_role("button", name=words["button"]).click()
    expect(page.get_by_text(words["done"])).to_be_visible()
    visit(page, f"unsubscribed-{language}")
    assert said(app, email) == {NoticeKind.VOTING_OPEN: False}
    assert mail.headers["List-Unsubscribe"] == f"<{page.url}>"
    with app.app_context():
        assert db.session.get(Round, round_id).phase is RoundPhase.VOTING
