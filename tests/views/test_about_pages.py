"""The footer's pages: contact, privacy notice and accessibility statement, in every
language, with who runs the service taken from configuration."""

import html

import pytest

from tests import factories

PAGES = ("/contact", "/privacy", "/accessibility")
TITLES = {
    "fi": ("Yhteystiedot", "Tietosuojaseloste", "Saavutettavuusseloste"),
    "sv": ("Kontaktuppgifter", "Dataskyddsbeskrivning", "Tillgänglighetsutlåtande"),
    "en": ("Contact", "Privacy notice", "Accessibility statement"),
}


def _text(response) -> str:
    """The page without its soft hyphens (where long compounds may break on a phone)."""
    return response.text.replace("\u00ad", "")


def test_long_titles_may_break_only_where_a_soft_hyphen_says(client):
    page = client.get("/accessibility", headers={"Accept-Language": "fi"}).text
    assert "<h1>Saavutettavuus\u00adseloste</h1>" in page


@pytest.mark.parametrize("language", list(TITLES))
def test_every_page_links_the_three_from_its_footer(client, language):
    page = _text(client.get("/", headers={"Accept-Language": language}))
    footer = page[page.index('<footer class="site-footer">'):]
    for address, title in zip(PAGES, TITLES[language], strict=True):
        assert f'<a href="{address}">{title}</a>' in footer


@pytest.mark.parametrize("language", list(TITLES))
def test_each_page_speaks_the_language(client, language):
    for address, title in zip(PAGES, TITLES[language], strict=True):
        response = client.get(address, headers={"Accept-Language": language})
        assert response.status_code == 200
        assert f"<h1>{title}</h1>" in _text(response)
        assert f'<html lang="{language}">' in response.text


def test_contact_details_come_from_configuration(app, client):
    app.config.update(CITY_NAME="Lahden kaupunki", CITY_CONTACT_EMAIL="pb@lahti.example",
                      CITY_CONTACT_PHONE="03 814 11", CITY_POSTAL_ADDRESS="PL 126, 15141 Lahti",
                      DATA_PROTECTION_EMAIL="tietosuoja@lahti.example")
    contact = client.get("/contact").text
    assert "Lahden kaupunki" in contact
    assert '<a href="mailto:pb@lahti.example">pb@lahti.example</a>' in contact
    assert '<a href="tel:0381411">03 814 11</a>' in contact
    assert "PL 126, 15141 Lahti" in contact
    privacy = client.get("/privacy").text
    assert "Lahden kaupunki" in privacy and "tietosuoja@lahti.example" in privacy
    assert "pb@lahti.example" in client.get("/accessibility").text


def test_without_a_city_name_the_pages_say_the_city(app, client):
    app.config.update(CITY_NAME=None, CITY_CONTACT_PHONE=None, DATA_PROTECTION_EMAIL=None)
    page = client.get("/privacy").text
    assert "The city that runs this service" in page
    # The data protection officer's address falls back to the contact address.
    email = app.config["CITY_CONTACT_EMAIL"]
    assert page.count(f'<a href="mailto:{email}">') == 2
    assert "tel:" not in client.get("/contact").text


def test_privacy_notice_states_what_is_held_and_for_how_long(app, client):
    app.config.update(SIGN_IN_LINK_MAX_AGE_SECONDS=20 * 60, LOGIN_SESSION_DAYS=30,
                      RESULTS_MIN_BALLOTS=25)
    page = client.get("/privacy").text
    for held in ("email address", "postal code", "Your language", "Your participations",
                 "pseudonym", "at least 25 of them"):
        assert held in page
    assert "works for 20 minutes" in page and "after 30 days" in page
    assert "Data Protection Ombudsman" in page


@pytest.mark.parametrize(("language", "said"), [
    ("en", "When you vote signed in, your home postal code and your account's language as "
           "they were at your first vote in a round are also recorded with that "
           "participation, for the round's statistics (which show no group of fewer than 12 "
           "voters). They are removed if you delete your account."),
    ("fi", "tallennetaan myös kotisi postinumero ja tilisi kieli"),
    ("sv", "sparas också ditt postnummer och ditt kontos språk"),
])
def test_privacy_notice_says_what_a_signed_in_vote_records_for_statistics(app, client,
                                                                          language, said):
    app.config.update(STATISTICS_MIN_CELL=12)
    page = client.get("/privacy", headers={"Accept-Language": language}).text
    assert html.unescape(page).count(said) == 1


def test_accessibility_statement_has_the_sections_the_act_asks_for(app, client):
    app.config.update(PUBLIC_BASE_URL="https://pb.example.fi",
                      ACCESSIBILITY_STATEMENT_DATE="2026-11-30")
    page = client.get("/accessibility", headers={"Accept-Language": "fi"}).text
    assert "https://pb.example.fi" in page
    for heading in ("Palvelun saavutettavuuden tila", "Mikä ei vielä ole saavutettavaa",
                    "Palaute", "Valvontaviranomainen"):
        assert f"<h2>{heading}</h2>" in page
    assert "WCAG 2.1" in page and "Traficom" in page
    assert "Seloste on laadittu 30.11.2026." in page


def test_a_malformed_statement_date_is_left_out_not_an_error(app, client):
    app.config["ACCESSIBILITY_STATEMENT_DATE"] = "last spring"
    response = client.get("/accessibility")
    assert response.status_code == 200
    assert "This statement was made on" not in response.text


def test_signed_in_pages_keep_the_footer_links(app, client, auth):
    factories.saved(app, factories.user, email="resident@example.org")
    auth.resident("resident@example.org")
    page = client.get("/account").text
    assert '<a href="/privacy">Privacy notice</a>' in page
