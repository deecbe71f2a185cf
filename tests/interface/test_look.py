"""The look: colours with enough contrast in light and dark mode, touch-sized targets,
readable text, reduced motion, and light pages."""

import re
from pathlib import Path

import pytest

from pb_vote.extensions import db
from pb_vote.models import BallotKind, MembershipRole, ProposalStatus, RoundPhase
from pb_vote.services import voting
from pb_vote.services.ballot_box import VoteKeys
from tests import factories

CSS = (Path(__file__).resolve().parents[2] / "static" / "css" / "site.css").read_text()
PAGE_BUDGET_BYTES = 100 * 1024


def palette(dark: bool) -> dict[str, str]:
    """The CSS custom properties of the light (or dark) scheme."""
    blocks = re.findall(r":root\s*{([^}]*)}", CSS)
    chosen = blocks[1] if dark else blocks[0]
    return dict(re.findall(r"--([a-z-]+):\s*(#[0-9a-fA-F]{6})", chosen))


def luminance(colour: str) -> float:
    channels = [int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(first: str, second: str) -> float:
    a, b = sorted((luminance(first), luminance(second)), reverse=True)
    return (a + 0.05) / (b + 0.05)


# (text colour, background) pairs the stylesheet puts together.
PAIRS = [
    ("fg", "bg"), ("muted", "bg"), ("link", "bg"), ("fg", "card"), ("muted", "card"),
    ("link", "card"), ("accent-fg", "accent"), ("error", "bg"), ("fg", "error-bg"),
    ("error", "error-bg"), ("fg", "success-bg"), ("fg", "info-bg"), ("link", "info-bg"),
    ("bg", "error"),
]


@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
@pytest.mark.parametrize(("text", "background"), PAIRS)
def test_text_contrast_is_at_least_4_5_to_1(dark, text, background):
    colours = palette(dark)
    assert contrast(colours[text], colours[background]) >= 4.5, (text, background)


@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
def test_focus_and_borders_stand_out(dark):
    colours = palette(dark)
    assert contrast(colours["focus"], colours["bg"]) >= 3  # non-text contrast (WCAG 1.4.11)
    assert contrast(colours["border"], colours["bg"]) >= 3


def test_base_text_tap_targets_focus_dark_mode_and_reduced_motion():
    assert "font: 1rem/1.55" in CSS and "html { font-size: 100%" in CSS
    assert CSS.count("min-height: 44px") >= 5
    assert ":focus-visible { outline: 3px solid" in CSS
    assert "@media (prefers-color-scheme: dark)" in CSS
    assert "@media (prefers-reduced-motion: reduce)" in CSS


@pytest.fixture
def pages(app):
    """Paths of every kind of public page, with a published round."""
    with app.app_context():
        table = factories.table("keskusta")
        factories.user("coordinator@example.org", role=MembershipRole.COORDINATOR, at=table)
        factories.user("voter@example.org")
        round_ = factories.round_(table, RoundPhase.VOTING)
        proposals = [factories.proposal(round_, title=f"Idea number {n}", cost_cents=100_000,
                                        status=ProposalStatus.ACCEPTED) for n in range(25)]
        for n in range(12):
            voter = factories.user(f"v{n}@example.org")
            voting.cast_ballot(VoteKeys.from_config(app.config), round_.id,
                               voting.Voter(user_id=voter.id), voting.VoteChannel.ONLINE,
                               {proposals[n].id: 1, proposals[n + 1].id: 1})
        from pb_vote.services import counting, results, rounds

        rounds.transition(None, round_, RoundPhase.CLOSED)
        count = counting.count_now(None, round_, VoteKeys.from_config(app.config))
        results.publish(None, round_, count.id)
        open_round = factories.round_(table, RoundPhase.VOTING, title="Open")
        for n in range(25):
            factories.proposal(open_round, title=f"Open idea {n}", cost_cents=100_000,
                               status=ProposalStatus.ACCEPTED)
        db.session.commit()
        return {"published": round_.id, "open": open_round.id,
                "proposal": proposals[0].id}


def test_every_page_weighs_under_100_kb_with_its_css_and_js(client, auth, pages):
    auth.resident("voter@example.org")
    paths = ["/", "/tables/keskusta", f"/rounds/{pages['published']}",
             f"/rounds/{pages['published']}/results", f"/rounds/{pages['published']}/verify",
             f"/proposals/{pages['proposal']}", f"/rounds/{pages['open']}/vote",
             "/account", "/my/proposals", "/sign-in", "/staff/sign-in"]
    for path in paths:
        total = weight(client, path)
        assert total < PAGE_BUDGET_BYTES, f"{path}: {total} bytes"


def weight(client, path: str, **headers) -> int:
    """The bytes of the page at ``path`` with its stylesheets and scripts."""
    response = client.get(path, headers=headers)
    assert response.status_code == 200, path
    html = response.data
    total = len(html)
    for asset in re.findall(rb'(?:href|src)="(/static/[^"]+\.(?:css|js))"', html):
        with client.get(asset.decode()) as static_file:
            total += len(static_file.data)
    return total


# A capital's round: Budapest's ballot had 150-175 proposals; 300 leaves room.
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # the page, not the database
@pytest.mark.parametrize("page", ["ballot", "results"])
@pytest.mark.parametrize("proposals", [150, 300])
def test_a_capitals_ballot_and_results_weigh_under_100_kb(app, client, auth, page, proposals):
    built = factories.saved(app, factories.big_round, n=proposals, publish=page == "results",
                            ballots=20)
    if page == "ballot":
        auth.resident("resident@example.org")
        path = f"/rounds/{built.round_id}/vote"
    else:
        path = f"/rounds/{built.round_id}/results"
    for language in ("fi", "sv", "en"):
        client.post("/language", data={"language": language, "next": "/"})
        assert f'<html lang="{language}">'.encode() in client.get(path).data
        total = weight(client, path)
        assert total < PAGE_BUDGET_BYTES, f"{path} in {language}: {total} bytes"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize(("kind", "proposals"), [("knapsack", 300), ("points", 150)])
def test_the_other_ballot_kinds_of_a_capital_weigh_under_100_kb(app, client, auth, kind,
                                                               proposals):
    """A points ballot carries a number field per proposal: it fits 150 proposals (about 230
    at most), a cost-capped one 300 like approval."""
    settings = {"ballot_kind": BallotKind(kind)}
    if kind == "points":
        settings.update(points_total=10, points_max_per_proposal=5)
    built = factories.saved(app, factories.big_round, n=proposals, ballots=5, **settings)
    auth.resident("resident@example.org")
    for language in ("fi", "sv", "en"):
        client.post("/language", data={"language": language, "next": "/"})
        total = weight(client, f"/rounds/{built.round_id}/vote")
        assert total < PAGE_BUDGET_BYTES, f"{kind} ballot in {language}: {total} bytes"
