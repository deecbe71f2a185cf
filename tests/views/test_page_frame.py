"""The frame of every page (templates/base.html): a one-row header whose links fold into
a Menu disclosure on phones, the language choice, and the wide layout of staff pages."""

from tests import factories


def _section(page: str, start: str, end: str) -> str:
    return page[page.index(start):page.index(end, page.index(start))]


def test_signed_out_header_has_sign_in_and_languages_and_no_menu(client):
    page = client.get("/").text
    assert '<a href="/sign-in">Sign in</a>' in page
    assert "phone-menu" not in page
    languages = _section(page, '<details class="header-menu language-menu" name="header-menu">',
                         "</details>")
    assert '<span class="visually-hidden">Language: </span>' in languages
    for code, name in (("fi", "Suomi"), ("sv", "Svenska"), ("en", "English")):
        assert f'value="{code}" lang="{code}"' in languages and name in languages
    assert 'value="en" lang="en" aria-current="true">English' in languages


def test_signed_in_links_are_in_the_wide_nav_and_in_the_phone_menu(app, client, auth):
    factories.saved(app, factories.city)
    auth.staff("admin@example.org")
    page = client.get("/manage").text
    wide = _section(page, '<nav aria-label="Main" class="main-nav wide-nav">', "</nav>")
    # The two disclosures share a name: opening one closes the other (no JavaScript).
    menu = _section(page, '<details class="header-menu phone-menu" name="header-menu">',
                    "</details>")
    assert "<summary>Menu</summary>" in menu
    for link in ('href="/manage"', 'href="/admin"', 'href="/my/proposals"', 'href="/account"',
                 'form="sign-out"'):
        assert link in wide and link in menu
    # Both Sign out buttons send one form: its token is on the page once.
    assert page.count('<form id="sign-out" method="post" action="/sign-out" hidden>') == 1


def test_staff_pages_are_marked_wide_and_reading_pages_are_not(app, client, auth):
    factories.saved(app, factories.city)
    auth.staff("coordinator@example.org")
    assert '<body class="staff-page">' in client.get("/manage").text
    assert '<body class="staff-page">' in client.get("/manage/tables/keskusta").text
    assert "<body>" in client.get("/").text
    assert "<body>" in client.get("/privacy").text
