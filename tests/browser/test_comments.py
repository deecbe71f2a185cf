"""Comments on an idea in a real browser, in Finnish, Swedish and English, on a 360 px
phone and a desktop, with JavaScript and without: a resident comments, the table answers
as the table, another resident reports the comment, a member hides it with a reason."""

import itertools

import pytest
from flask_babel import force_locale, gettext
from playwright.sync_api import expect
from sqlalchemy import select

from pb_vote.extensions import db
from pb_vote.models import Comment, Round, Table
from tests import factories
from tests.browser.helpers import sign_in_by_link

pytestmark = pytest.mark.browser
_runs = itertools.count(1)


def _words(app, language: str) -> dict[str, str]:
    """The interface's words the journey clicks and reads, in ``language``."""
    with app.test_request_context(), force_locale(language):
        return {
            "comment": gettext("Your comment"),
            "send": gettext("Send the comment"),
            "published": gettext("Your comment is published."),
            "as_table": gettext("Answer as the table (the public sees the table's name, "
                                "not yours)"),
            "table_answers": gettext("The table answers"),
            "report_link": f'{gettext("Report")} {gettext("comment %(num)d", num=1)}',
            "reason": gettext("Why should the moderators look at it? (optional)"),
            "report": gettext("Report the comment"),
            "thanks": gettext("Thank you. The table's moderators will look at the comment."),
            "moderate": gettext("Moderate proposals"),
            "reported": gettext("Reported comments"),
            "look": gettext("Look and hide"),
            "hide_reason": gettext("Reason shown in its place"),
            "hide_note": gettext("Note for the table and the audit trail (optional, not "
                                 "public)"),
            "hide": gettext("Hide the comment"),
            "hidden": gettext("The comment is hidden."),
            "none_waiting": gettext("No reported comments are waiting."),
            "hidden_in_place": gettext("Hidden by the moderators: %(reason)s.",
                                       reason=gettext("Spam or advertising")),
        }


@pytest.fixture
def cast(scenario, request):
    """A fresh idea in the ideas round and fresh people who read this run's language:
    two residents and a member of the table."""
    language = request.node.callspec.params["language"]
    run = next(_runs)
    with scenario.app.app_context():
        round_ = db.session.get(Round, scenario.ideas_round)
        table = db.session.execute(select(Table).where(Table.id == round_.table_id)).scalar_one()
        author = factories.user(f"idea-author{run}@example.org")
        first = factories.user(f"commenter{run}@example.org", language=language)
        second = factories.user(f"reporter{run}@example.org", postal_code="15200",
                                language=language)
        member = factories.user(f"table-member{run}@example.org", postal_code=None,
                                role="member", at=table, language=language)
        idea = factories.proposal(round_, author=author, title=f"Shade trees {run}")
        db.session.commit()
        return {"idea": idea.id, "round": round_.id, "first": first.email,
                "second": second.email, "member": member.email,
                "text": f"Trees would cool the square in July (run {run})."}


def _staff_sign_in(page, email: str, password: str) -> None:
    page.goto("/staff/sign-in")  # in the browser's English until the account is known
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("main").get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{page.url.split('/manage')[0]}/manage")


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
@pytest.mark.parametrize("language", ["fi", "sv", "en"])
def test_a_resident_comments_the_table_answers_and_a_reported_comment_is_hidden(
        new_context, visit, scenario, cast, viewport, language, javascript):
    app, words = scenario.app, _words(scenario.app, language)
    step = f"{language}{'' if javascript else '-no-js'}"
    copies = None if javascript else new_context(viewport).new_page()  # axe-core needs JS

    def new_page():
        return visit.watch(new_context(viewport, java_script_enabled=javascript).new_page(),
                           axe_copy_in=copies)

    idea_path = f"/proposals/{cast['idea']}"

    # A resident comments, shown by name.
    resident = new_page()
    sign_in_by_link(resident, app, cast["first"])
    resident.goto(idea_path)
    expect(resident.locator("html")).to_have_attribute("lang", language)
    visit(resident, f"idea-{step}")
    resident.get_by_label(words["comment"]).fill(cast["text"])
    resident.get_by_role("button", name=words["send"]).click()
    expect(resident.get_by_text(words["published"])).to_be_visible()
    mine = resident.locator("li.comment").filter(has_text=cast["text"])
    expect(mine).to_contain_text("Commenter")
    visit(resident, f"commented-{step}")

    # The table answers as the table: its name, marked, and not the member's.
    member = new_page()
    _staff_sign_in(member, cast["member"], scenario.password)
    member.goto(idea_path)
    member.get_by_label(words["comment"]).fill("The table will ask the parks office.")
    member.get_by_label(words["as_table"]).check()
    member.get_by_role("button", name=words["send"]).click()
    answer = member.locator("li.comment-table")
    expect(answer).to_contain_text(words["table_answers"])
    expect(answer).to_contain_text("Keskusta")
    expect(answer).not_to_contain_text("Table-Member")
    visit(member, f"table-answered-{step}")

    # Another resident (of another area) reports the resident's comment.
    reporter = new_page()
    sign_in_by_link(reporter, app, cast["second"])
    reporter.goto(idea_path)
    reporter.get_by_role("link", name=words["report_link"]).click()
    expect(reporter.get_by_role("heading", level=1)).to_be_visible()
    visit(reporter, f"report-{step}")
    reporter.get_by_label(words["reason"]).fill("Advertising")
    reporter.get_by_role("button", name=words["report"]).click()
    expect(reporter.get_by_text(words["thanks"])).to_be_visible()

    # The member finds it in the moderation area and hides it with a reason.
    member.goto(f"/manage/rounds/{cast['round']}/proposals")
    member.get_by_role("link", name=words["reported"]).click()
    item = member.locator("li.comment").filter(has_text=cast["text"])
    expect(item).to_be_visible()
    visit(member, f"reported-{step}")
    item.get_by_role("link", name=words["look"]).click()
    member.get_by_label(words["hide_reason"]).select_option("spam")
    member.get_by_label(words["hide_note"]).fill("An advert for a shop.")
    visit(member, f"hide-{step}")
    member.get_by_role("button", name=words["hide"]).click()
    expect(member.get_by_text(words["hidden"])).to_be_visible()
    expect(member.get_by_text(words["none_waiting"])).to_be_visible()

    # The public sees the reason in its place, not the text.
    reporter.goto(idea_path)
    expect(reporter.get_by_text(words["hidden_in_place"])).to_be_visible()
    expect(reporter.locator("#comments")).not_to_contain_text(cast["text"])
    visit(reporter, f"hidden-{step}")
    with app.app_context():
        hidden = db.session.execute(select(Comment).where(
            Comment.body == cast["text"])).scalar_one()
        assert hidden.is_hidden and hidden.hidden_note == "An advert for a shop."
