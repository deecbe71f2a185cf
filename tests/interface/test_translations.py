"""Every user-facing string is in every catalogue; Finnish and Swedish are complete."""

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
CATALOGUES = ROOT / "pb_vote" / "translations"
METHODS = [("**.py", "python"), ("**.html", "jinja2"), ("**.txt", "jinja2")]
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None}


def extracted() -> set[str]:
    """The msgids in the code and templates now (what `make extract-messages` would find)."""
    found = set()
    for folder in ("pb_vote", "templates"):
        for _, _, message, _, _ in extract_from_dir(
            ROOT / folder, METHODS, keywords=KEYWORDS,
            options_map={"**.html": {"extensions": "jinja2.ext.i18n"}},
        ):
            found.add(message[0] if isinstance(message, tuple) else message)
    return {m for m in found if m}


@pytest.fixture(scope="module")
def messages():
    return extracted()


@pytest.mark.parametrize("language", ["fi", "sv", "en"])
def test_every_string_is_in_the_catalogue(messages, language):
    with open(CATALOGUES / language / "LC_MESSAGES" / "messages.po", "rb") as handle:
        catalogue = read_po(handle)
    missing = sorted(m for m in messages if m not in catalogue)
    assert not missing, f"not in the {language} catalogue (run make extract-messages): {missing}"


@pytest.mark.parametrize("language", ["fi", "sv"])
def test_finnish_and_swedish_are_translated(messages, language):
    with open(CATALOGUES / language / "LC_MESSAGES" / "messages.po", "rb") as handle:
        catalogue = read_po(handle)
    untranslated = []
    for message in catalogue:
        if not message.id or message.id not in messages:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.fuzzy or not all(strings):
            untranslated.append(message.id if isinstance(message.id, str) else message.id[0])
    assert not untranslated, f"{language}: untranslated or fuzzy: {untranslated}"


def test_the_extraction_finds_the_templates(messages):
    assert "Your vote is recorded" in messages and "Skip to content" in messages
