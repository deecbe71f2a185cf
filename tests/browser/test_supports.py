"""Supports in a real browser, in Finnish and Swedish, on a 360 px phone and a desktop,
with JavaScript and without: a resident supports an idea from the round's list, takes the
support back on the idea's page and gives it again; when review starts, the idea nobody
supported is marked as short of the threshold."""

import itertools

import pytest
from flask_babel import force_locale, gettext, ngettext
from playwright.sync_api import expect
from sqlalchemy import select

from pb_vote.extensions import db
from pb_vote.models import ProposalSupport, Round, RoundPhase, Table, User
from pb_vote.services import rounds
from tests import factories
from tests.browser.helpers import sign_in_by_link

pytestmark = pytest.mark.browser
_runs = itertools.count(1)


def _words(app, language: str) -> dict[str, str]:
    """The interface's words the journey clicks and reads, in ``language``."""
    with app.test_request_context(), force_locale(language):
        return {
            "support": gettext("Support this idea"),
            "take_back": gettext("Take back my support"),
            "supported": gettext("You support this idea."),
            "withdrawn": gettext("You no longer support this idea."),
            "none": ngettext("%(num)d support", "%(num)d supports", 0),
            "one": ngettext("%(num)d support", "%(num)d supports", 1),
            "short": ngettext(
                "Did not reach %(num)d support before review: it does not go on the ballot "
                "unless the moderators decide otherwise, with a reason.",
                "Did not reach %(num)d supports before review: it does not go on the ballot "
                "unless the moderators decide otherwise, with a reason.", 1),
        }


@pytest.fixture
def cast(scenario, request):
    """A fresh round taking ideas with supports on (threshold 1) and two ideas by another
    resident, and a fresh resident of the area who reads this run's language."""
    language = request.node.callspec.params["language"]
    run = next(_runs)
    with scenario.app.app_context():
        table = db.session.execute(select(Table).where(Table.slug == "keskusta")).scalar_one()
        round_ = factories.round_(table, RoundPhase.PROPOSALS, title=f"Supports {run}",
                                  supports_enabled=True, support_threshold=1)
        author = factories.user(f"support-author{run}@example.org")
        resident = factories.user(f"supporter{run}@example.org", language=language)
        liked = factories.proposal(round_, author=author, title=f"Shade trees {run}")
        factories.proposal(round_, author=author, title=f"Night lights {run}")
        db.session.commit()
        return {"round": round_.id, "liked": liked.id, "resident": resident.email,
                "liked_title": f"Shade trees {run}", "other_title": f"Night lights {run}"}


@pytest.mark.parametrize("language, javascript", [("fi", True), ("sv", False)],
                         ids=["fi-js", "sv-no-js"])
def test_a_resident_supports_an_idea_and_review_marks_the_unsupported_one(
        new_context, visit, scenario, cast, viewport, language, javascript):
    app, words = scenario.app, _words(scenario.app, language)
    step = f"{language}{'' if javascript else '-no-js'}"
    copies = None if javascript else new_context(viewport).new_page()  # axe-core needs JS
    page = visit.watch(new_context(viewport, java_script_enabled=javascript).new_page(),
                       axe_copy_in=copies)
    sign_in_by_link(page, app, cast["resident"])

    # From the round's list: both ideas have no support yet; support the first.
    page.goto(f"/rounds/{cast['round']}")
    expect(page.locator("html")).to_have_attribute("lang", language)
    liked = page.locator(f"#proposal-{cast['liked']}")
    expect(liked).to_contain_text(words["none"])
    visit(page, f"list-{step}")
    liked.get_by_role("button", name=words["support"]).click()
    expect(page.get_by_text(words["supported"]).first).to_be_visible()
    expect(liked.locator(".support-count")).to_contain_text(words["one"])
    expect(liked.get_by_role("button", name=words["take_back"])).to_be_visible()
    visit(page, f"list-supported-{step}")

    # On the idea's page: take it back, then support again.
    page.goto(f"/proposals/{cast['liked']}")
    page.get_by_role("button", name=words["take_back"]).click()
    expect(page.get_by_text(words["withdrawn"])).to_be_visible()
    expect(page.locator("#supports .support-count")).to_contain_text(words["none"])
    visit(page, f"idea-withdrawn-{step}")
    page.get_by_role("button", name=words["support"]).click()
    expect(page.locator("#supports .support-count")).to_contain_text(words["one"])
    visit(page, f"idea-supported-{step}")
    with app.app_context():
        person = db.session.execute(select(User).where(
            User.email == cast["resident"])).scalar_one()
        assert db.session.execute(select(ProposalSupport.proposal_id).where(
            ProposalSupport.user_id == person.id)).scalars().all() == [cast["liked"]]

    # Review starts: the idea nobody supported is marked, the supported one is not.
    with app.app_context():
        rounds.transition(None, db.session.get(Round, cast["round"]), RoundPhase.REVIEW)
        db.session.commit()
    page.goto(f"/rounds/{cast['round']}")
    expect(page.locator("li.card").filter(has_text=cast["other_title"])).to_contain_text(
        words["short"])
    expect(page.locator(f"#proposal-{cast['liked']}")).not_to_contain_text(words["short"])
    expect(page.get_by_role("button", name=words["support"])).to_have_count(0)
    visit(page, f"review-{step}")
