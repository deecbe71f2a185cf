"""The service's own pages as the city admin writes them (services/service_pages.py): the
Markdown comes out as harmless HTML whatever is typed into it; which text a reader of each
language sees; every save kept and audited; the database keeps every version."""

from html.parser import HTMLParser

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DatabaseError

from pb_vote.extensions import db
from pb_vote.models import AuditEvent, ServicePageVersion, User
from pb_vote.models.pages import PAGE_TEXT_MAX_CHARS
from pb_vote.services import accounts, service_pages
from pb_vote.services.service_pages import (
    ALLOWED_ATTRIBUTES,
    ALLOWED_TAGS,
    ServicePageError,
    render_markdown,
)
from tests import factories

# Real attack strings (OWASP's XSS filter evasion cheat sheet and the like), as an admin's
# account taken over might paste them.
ATTACKS = [
    "<script>alert(document.cookie)</script>",
    "<SCRIPT SRC=https://xss.example/xss.js></SCRIPT>",
    "<img src=x onerror=alert(1)>",
    '<IMG SRC="javascript:alert(\'XSS\');">',
    "<svg/onload=alert(1)>",
    "<body onload=alert(1)>",
    '<iframe src="https://evil.example"></iframe>',
    "<a href=\"javascript:alert(1)\">click</a>",
    '<div style="background:url(javascript:alert(1))">x</div>',
    "<style>body{display:none}</style>",
    "<!--<script>alert(1)</script>-->",
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1))",
    "[click](java\tscript:alert(1))",
    "[click](  javascript:alert(1))",
    "[click](vbscript:msgbox(1))",
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[click](file:///etc/passwd)",
    "<javascript:alert(1)>",
    "<data:text/html,<script>alert(1)</script>>",
    "![x](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
    "![x](https://tracker.example/pixel.gif)",
    '![x" onerror="alert(1)](https://tracker.example/p.gif)',
    '[x](https://ok.example "title\\" onmouseover=\\"alert(1)")',
    "[x](https://ok.example) <b onmouseover=alert(1)>bold</b>",
    "```\n</code></pre><script>alert(1)</script>\n```",
    "| a |\n|---|\n| <img src=x onerror=alert(1)> |",
]


class _Seen(HTMLParser):
    """Every tag and attribute of an HTML fragment."""

    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def _elements(html: str) -> list[tuple[str, dict]]:
    seen = _Seen()
    seen.feed(html)
    seen.close()
    return seen.tags


@pytest.mark.parametrize("attack", ATTACKS)
def test_an_attack_comes_out_harmless(attack):
    html = render_markdown(f"Intro\n\n{attack}\n\nOutro")
    for tag, attributes in _elements(html):
        assert tag in ALLOWED_TAGS, (tag, html)
        for name, value in attributes.items():
            assert name in ALLOWED_ATTRIBUTES.get(tag, set()) | {"rel"}, (name, html)
            assert not name.startswith("on")
            if name == "href":
                scheme = value.split(":", 1)[0].lower() if ":" in value else ""
                assert scheme in ("", "http", "https", "mailto", "tel"), html
                assert "script" not in value.lower(), html
    lowered = html.lower()  # what is left of a tag is text, escaped
    for dangerous in ("<script", "<img", "<svg", "<iframe", "<style", "<body", "<!--"):
        assert dangerous not in lowered, html
    assert "Intro" in html and "Outro" in html


def test_raw_html_is_shown_as_the_text_it_is():
    html = render_markdown("<script>alert(1)</script> and <b>bold</b>")
    assert html == "<p>&lt;script&gt;alert(1)&lt;/script&gt; and &lt;b&gt;bold&lt;/b&gt;</p>\n"


def test_a_javascript_link_is_no_link():
    html = render_markdown("[click](javascript:alert(1)) [ok](https://www.lahti.fi)")
    assert '<a href="https://www.lahti.fi" rel="noopener noreferrer">ok</a>' in html
    assert [tag for tag, _ in _elements(html)].count("a") == 1


def test_an_image_shows_its_description_only():
    assert render_markdown("![Map of the area](https://maps.example/a.png)") == (
        "<p>Map of the area</p>\n")


def test_formatting_that_is_allowed_stays():
    html = render_markdown("# Title\n\n## Section\n\n**bold** *italic* ~~old~~ `code`\n\n"
                           "- one\n- two\n\n3. three\n\n> quoted\n\n"
                           "[mail](mailto:pb@lahti.example) [call](tel:+35838141) "
                           "[privacy](/privacy)\n\n| a | b |\n|---|--:|\n| 1 | 2 |")
    assert "<h1>" not in html  # the page's title is its only h1
    assert html.count("<h2>") == 2
    for kept in ("<strong>bold</strong>", "<em>italic</em>", "<s>old</s>", "<code>code</code>",
                 "<li>one</li>", '<ol start="3">', "<blockquote>", 'href="mailto:pb@lahti.example"',
                 'href="tel:+35838141"', 'href="/privacy"', "<table>", "<td>2</td>"):
        assert kept in html, kept
    assert "style=" not in html


def test_the_built_in_html_becomes_markdown_that_renders_back():
    built_in = ('<p class="lead">Who runs it.</p><h2>Controller</h2><dl class="facts">'
                "<dt>Email</dt><dd><a href=\"mailto:pb@lahti.example\">pb@lahti.example</a></dd>"
                "</dl><ul><li>One *star*</li><li>Two</li></ul>")
    markdown = service_pages.markdown_of(built_in)
    assert markdown == ("Who runs it.\n\n## Controller\n\n"
                        "* **Email:** [pb@lahti.example](mailto:pb@lahti.example)\n\n"
                        "- One \\*star\\*\n- Two\n")
    html = render_markdown(markdown)
    assert "<h2>Controller</h2>" in html and "<li>One *star*</li>" in html


@pytest.fixture
def admin(app_ctx):
    return factories.user("admin@example.org", city_admin=True)


@pytest.mark.parametrize(("saved", "wanted", "main", "shown_lang", "fallback"), [
    ({}, "en", "fi", None, False),                          # nothing written: built-in
    ({"fi": "Suomeksi"}, "fi", "fi", "fi", False),
    ({"fi": "Suomeksi"}, "en", "fi", "fi", True),           # English falls back to Finnish
    ({"fi": "Suomeksi"}, "sv", "fi", "fi", True),
    ({"fi": "Suomeksi", "sv": "På svenska"}, "sv", "fi", "sv", False),
    ({"sv": "På svenska"}, "en", "fi", None, False),        # no main text: built-in English
    ({"sv": "På svenska"}, "fi", "fi", None, False),
    ({"sv": "På svenska"}, "en", "sv", "sv", True),         # a Swedish-speaking city
])
def test_which_text_a_reader_sees(admin, saved, wanted, main, shown_lang, fallback):
    for language, body in saved.items():
        service_pages.save_text(admin, "privacy", language, body)
    shown = service_pages.shown_text("privacy", wanted, main)
    if shown_lang is None:
        assert shown.version is None and shown.html == ""
    else:
        assert (shown.lang, shown.fallback) == (shown_lang, fallback)
        assert shown.version.body == saved[shown_lang]
    assert service_pages.shown_text("about", wanted, main).version is None  # per page


def test_going_back_to_the_built_in_text_is_a_version_too(admin):
    service_pages.save_text(admin, "privacy", "fi", "Ensimmäinen")
    service_pages.use_built_in(admin, "privacy", "fi")
    assert service_pages.shown_text("privacy", "fi", "fi").version is None
    assert service_pages.shown_text("privacy", "en", "fi").version is None  # no fallback left
    with pytest.raises(ServicePageError) as refused:
        service_pages.use_built_in(admin, "privacy", "fi")
    assert refused.value.code == "page_already_built_in"
    history = service_pages.history("privacy", "fi")
    assert [v.body for v in history] == [None, "Ensimmäinen"]
    assert all(v.saved_by == admin for v in history)


def test_states_say_what_each_language_shows(admin):
    service_pages.save_text(admin, "contact", "fi", "Yhteystiedot")
    states = service_pages.language_states("contact", "fi")
    assert [(s.language, s.shows) for s in states] == [
        ("fi", "own"), ("sv", "fallback"), ("en", "fallback")]
    assert states[0].version.body == "Yhteystiedot"
    assert [s.shows for s in service_pages.language_states("about", "fi")] == ["built_in"] * 3


@pytest.mark.parametrize(("body", "code"), [
    ("", "page_text_empty"),
    ("   \r\n\t ", "page_text_empty"),
    ("x" * (PAGE_TEXT_MAX_CHARS + 1), "page_text_too_long"),
])
def test_a_text_that_cannot_be_saved_is_refused(admin, body, code):
    with pytest.raises(ServicePageError) as refused:
        service_pages.save_text(admin, "privacy", "fi", body)
    assert refused.value.code == code
    assert service_pages.history("privacy", "fi") == []


def test_saving_the_same_text_again_is_refused(admin):
    service_pages.save_text(admin, "privacy", "fi", "Teksti\r\n\r\nToinen kappale\n")
    with pytest.raises(ServicePageError) as refused:
        service_pages.save_text(admin, "privacy", "fi", "  Teksti\n\nToinen kappale")
    assert refused.value.code == "page_text_unchanged"


def test_every_save_is_audited(admin):
    first = service_pages.save_text(admin, "accessibility", "sv", "Utlåtande")
    second = service_pages.save_text(admin, "accessibility", "sv", "Nytt utlåtande",
                                     restored_from=first.id)
    service_pages.use_built_in(admin, "accessibility", "sv")
    events = db.session.execute(select(AuditEvent).order_by(AuditEvent.id)).scalars().all()
    assert [(e.action, e.object_id, e.actor_id, e.actor_role) for e in events] == [
        ("service_page.saved", "accessibility/sv", admin.id, "city_admin"),
        ("service_page.saved", "accessibility/sv", admin.id, "city_admin"),
        ("service_page.built_in", "accessibility/sv", admin.id, "city_admin"),
    ]
    assert events[1].details == {"page": "accessibility", "language": "sv",
                                 "version": second.id, "characters": 14,
                                 "restored_from": first.id}


def test_the_database_keeps_every_version(admin):
    service_pages.save_text(admin, "privacy", "fi", "Alkuperäinen")
    db.session.commit()
    for statement in ("UPDATE service_page_versions SET body = 'forged'",
                      "UPDATE service_page_versions SET saved_at = saved_at",
                      "DELETE FROM service_page_versions"):
        with pytest.raises(DatabaseError, match="keeps every version"):
            db.session.execute(text(statement))
        db.session.rollback()
    assert db.session.execute(select(ServicePageVersion.body)).scalar_one() == "Alkuperäinen"


def test_deleting_the_admins_account_keeps_the_versions(admin):
    service_pages.save_text(admin, "privacy", "fi", "Teksti")
    db.session.commit()
    accounts.delete_account(db.session.get(User, admin.id))
    db.session.commit()
    db.session.expire_all()
    version = db.session.execute(select(ServicePageVersion)).scalar_one()
    assert (version.body, version.saved_by_id) == ("Teksti", None)


def test_the_database_refuses_an_unknown_page_or_language(admin):
    for page, language in (("terms", "fi"), ("privacy", "de")):
        db.session.add(ServicePageVersion(page=page, language=language, body="x"))
        with pytest.raises(DatabaseError):
            db.session.flush()
        db.session.rollback()
