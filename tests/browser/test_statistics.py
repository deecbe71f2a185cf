"""The statistics after a round in a real browser, on a phone and on a desktop: the charts
and their tables visible, the small groups hidden in both, the city admin's form for the
residents entitled to vote, no sideways scrolling, axe-core clean; and the CSV download."""

import random

import pytest
from playwright.sync_api import expect

from pb_vote.extensions import db
from tests import factories
from tests.browser.helpers import layout_problems, sign_in_with_password

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def closed_round(live_server):
    """A closed round of its own table (1,000 residents entitled to vote): 35 residents
    online in three postal codes, 11 code voters and 2 paper ballots."""
    app = live_server.app
    with app.app_context():
        table = factories.table(f"stats-{random.randrange(10**6)}", "Itä – East",
                                postal_codes=("15500",))
        table.eligible_residents = 1000
        factories.user(f"coordinator-{table.slug}@example.org", postal_code=None,
                       role="coordinator", at=table)
        scenario = factories.turnout_round(
            table, residents={("15500", "fi"): 20, ("15510", "sv"): 12, ("15520", "fi"): 3},
            codes=11, paper=2, title="Itä 2026")
        db.session.commit()
        return scenario.round_id


def test_statistics_page(page, visit, live_server, closed_round, viewport):
    sign_in_with_password(page, live_server.admin, live_server.password)
    page.goto(f"/manage/rounds/{closed_round}/statistics")
    expect(page.get_by_role("heading", name="Statistics", level=1)).to_be_visible()
    visit(page, "statistics")
    assert layout_problems(page) == []
    for name in ("By channel", "By day of the first vote", "By home postal code",
                 "By language of the account"):
        section = page.get_by_role("region", name=name)
        expect(section.get_by_role("img", name=name)).to_be_visible()  # the chart
        expect(section.get_by_role("table", name=name)).to_be_visible()
    area = page.get_by_role("table", name="By home postal code")
    expect(area.get_by_role("row", name="15520")).to_contain_text("fewer than 10")
    expect(area.get_by_role("row", name="15510")).to_contain_text("not shown")
    channel = page.get_by_role("table", name="By channel")
    expect(channel.get_by_role("row", name="Online, signed in")).to_contain_text("3.5%")
    if viewport == "desktop":
        # the table stands beside its chart
        chart = page.get_by_role("img", name="By channel").bounding_box()
        table = channel.bounding_box()
        assert table["x"] > chart["x"] + chart["width"] - 1
    field = page.get_by_label("Residents entitled to vote in the area")
    expect(field).to_have_value("1000")
    field.fill("lots")
    page.get_by_role("button", name="Save the number").click()
    expect(page.get_by_text("Write a whole number from 1 to 10 000 000").first).to_be_visible()
    visit(page, "statistics-refused", status=400)
    with page.expect_download() as download:
        page.get_by_role("link", name="Download these figures (CSV)").click()
    assert download.value.suggested_filename == f"round-{closed_round}-statistics.csv"
