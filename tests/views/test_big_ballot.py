"""A capital's ballot and results (dozens to hundreds of proposals): grouped by category,
with an in-page navigation that needs no JavaScript, and no way for it to lose a choice.

The ballot stays one POST form: the category links are in-page anchors (CSS :target shows
the chosen category, the others are only hidden), and each category is a <details> that a
voter may fold. Nothing is sent when moving between categories, so no choice can be
dropped and none reaches a URL (or a server log)."""

import re

import pytest

from pb_vote.services import voting
from pb_vote.services.ballot_box import VoteKeys
from tests import factories
from tests.views.test_voting_pages import browser_data, form_on, marks_on, text, untagged

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

CATEGORIES = factories.BIG_CATEGORIES


def big(app, **options):
    return factories.saved(app, factories.big_round, n=36, uncategorised=2, **options)


def groups_on(page: str) -> list[tuple[str, str, list[int]]]:
    """(anchor, heading, proposal ids) of each category group of a ballot page."""
    found = []
    for anchor, body in re.findall(r'<details class="group" id="(cat-\d+)" open>(.*?)</details>',
                                   page, flags=re.S):
        heading = re.search(r"<summary><h2>(.*?) <span", body, flags=re.S).group(1)
        ids = [int(v) for v in re.findall(r'name="choice" value="(\d+)"', body)]
        found.append((anchor, heading, ids))
    return found


def test_the_ballot_is_grouped_by_category_with_a_navigation_that_needs_no_script(
        app, client, auth):
    built = big(app, ballots=0)
    auth.resident("resident@example.org")
    page = client.get(f"/rounds/{built.round_id}/vote").get_data(as_text=True)
    groups = groups_on(page)
    # The round's categories in its own order, then the proposals without one.
    assert [untagged(g[1]) for g in groups] == [*CATEGORIES, "Other proposals"]
    assert sorted(pid for g in groups for pid in g[2]) == sorted(built.proposal_ids)
    assert [len(g[2]) for g in groups] == [6] * 6 + [2]
    nav = re.search(r'<nav class="category-nav".*?</nav>', page, flags=re.S).group(0)
    for anchor, heading, ids in groups:
        assert f'<a href="#{anchor}">{heading}</a> ({len(ids)})' in nav
    assert '<a href="#all">All categories</a> (38)' in nav
    assert 'id="all"' in page and page.count('<a href="#categories">') == len(groups)
    # One form holds every proposal; nothing on the page is a GET form that could drop picks.
    action = f"/rounds/{built.round_id}/vote/review"
    assert len([f for f in form_on(page, action) if f.get("name") == "choice"]) == 38
    assert 'method="get"' not in page.lower() and "formmethod" not in page
    assert re.search(r'<form method="post" action="[^"]+/vote/review"[^>]*\snovalidate', page)
    # Light: the descriptions are one link away, each title appears once.
    assert "Pitkä kuvaus" not in page
    assert page.count(">Read more</a>") == 38
    assert page.count("Hanke 7: ") == 1


def test_choices_in_several_categories_all_reach_the_ballot_box(app, client, auth):
    """A voter ticks in one category, follows the navigation to two others (no request: an
    anchor) and ticks there, folds one, reviews and votes: every choice is stored."""
    built = big(app, ballots=0)
    auth.resident("resident@example.org")
    round_id = built.round_id
    page = client.get(f"/rounds/{round_id}/vote").get_data(as_text=True)
    groups = groups_on(page)
    picks = {groups[0][2][0]: 1, groups[3][2][1]: 1, groups[6][2][0]: 1}  # incl. "Other"
    nav_links = re.findall(r'<nav class="category-nav".*?</nav>', page, flags=re.S)[0]
    assert all(href.startswith("#") for href in re.findall(r'href="([^"]+)"', nav_links))
    review_action = f"/rounds/{round_id}/vote/review"
    reviewed = client.post(review_action, data=browser_data(form_on(page, review_action), picks))
    assert reviewed.status_code == 200, text(reviewed)
    shown = text(reviewed)
    assert all(f"Hanke {built.proposal_ids.index(pid)}: " in shown for pid in picks)
    final = browser_data(form_on(reviewed.get_data(as_text=True), f"/rounds/{round_id}/vote"))
    assert client.post(f"/rounds/{round_id}/vote", data=final).status_code == 303
    with app.app_context():
        resident = factories.accounts.find_user_by_email("resident@example.org")
        stored = voting.existing_choices(VoteKeys.from_config(app.config),
                                         voting.Voter(user_id=resident.id), round_id)
    assert stored == {str(pid): 1 for pid in sorted(picks)}
    # Back on the ballot, every category shows its own choices (the script counts them in
    # the navigation, which has a place for each).
    again = client.get(f"/rounds/{round_id}/vote").get_data(as_text=True)
    assert marks_on(again, review_action) == picks
    assert again.count('<span data-chosen="cat-') == 7


def test_a_refused_ballot_keeps_the_choices_of_every_category(app, client, auth):
    built = big(app, ballots=0, approval_max=3)
    auth.resident("resident@example.org")
    round_id = built.round_id
    review_action = f"/rounds/{round_id}/vote/review"
    page = client.get(f"/rounds/{round_id}/vote").get_data(as_text=True)
    picks = {g[2][0]: 1 for g in groups_on(page)}  # one per category: seven, over three
    refused = client.post(review_action, data=browser_data(form_on(page, review_action), picks))
    assert refused.status_code == 400
    assert marks_on(refused.get_data(as_text=True), review_action) == picks


def test_the_results_are_grouped_by_category_in_compact_rows(app, client):
    built = big(app, ballots=12, publish=True)
    page = client.get(f"/rounds/{built.round_id}/results").get_data(as_text=True)
    tables = re.findall(r'<div class="table-scroll group" id="(cat-\d+)">\s*'
                        r'<table class="results-table">\s*<caption>(.*?) \((\d+)\)</caption>'
                        r'(.*?)</table>', page, flags=re.S)
    assert [untagged(t[1]) for t in tables] == [*CATEGORIES, "Other proposals"]
    assert [int(t[2]) for t in tables] == [6] * 6 + [2]
    for anchor, name, count, body in tables:
        assert body.count("<tr") == int(count) + 1  # the head row
        assert f'<a href="#{anchor}">{name}</a> ({count})' in page
    # Every project once in the tables, with its cost in a cell of its own.
    assert sum(t[3].count('href="/proposals/') for t in tables) == 38
    assert "The chart shows the first 15 projects of the table below" in page
    chart = re.search(r'<svg class="bar-chart".*?</svg>', page, re.S).group(0)
    assert chart.count('class="bar ') + chart.count('class="bar"') == 15
