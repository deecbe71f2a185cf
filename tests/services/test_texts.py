"""The fallback rule of content in three languages (models/texts.py): a text in the wanted
language when it has one, else the main language's, marked as a fallback; and the round's
categories, translated in order."""

import copy
import pickle

import pytest

from pb_vote.models import Proposal, Round, Table
from pb_vote.models.texts import LocalText, pick

TEXTS = {"fi": "Keskusta", "sv": "Centrum"}


@pytest.mark.parametrize(("wanted", "main", "text", "lang", "fallback"), [
    ("fi", "fi", "Keskusta", "fi", False),
    ("sv", "fi", "Centrum", "sv", False),
    ("en", "fi", "Keskusta", "fi", True),   # no English: the main language, marked
    ("en", "sv", "Centrum", "sv", True),    # a Swedish-speaking table falls back to Swedish
    ("fi", "sv", "Keskusta", "fi", False),
])
def test_pick_gives_the_wanted_language_or_the_main_one(wanted, main, text, lang, fallback):
    picked = pick(TEXTS, wanted, main)
    assert (picked, picked.lang, picked.fallback) == (text, lang, fallback)
    assert isinstance(picked, LocalText) and isinstance(picked, str)


def test_a_text_keeps_its_language_when_copied_or_pickled():
    picked = pick(TEXTS, "en", "fi")
    for copied in (copy.deepcopy(picked), pickle.loads(pickle.dumps(picked))):
        assert (copied, copied.lang, copied.fallback) == ("Keskusta", "fi", True)


def test_a_blank_translation_counts_as_missing():
    picked = pick({"fi": "Puistot", "sv": "   "}, "sv", "fi")
    assert (picked, picked.lang, picked.fallback) == ("Puistot", "fi", True)


def _table(main: str = "fi") -> Table:
    table = Table(slug="ita", main_language=main, translations={})
    table.set_texts("name", {"fi": "Itä", "sv": "Öster", "en": " "})
    table.set_texts("description", {"fi": "Mukkula ja Kivimaa."})
    return table


def test_a_table_keeps_the_main_text_in_its_column_and_the_others_beside_it():
    table = _table()
    assert table.name == "Itä" and table.description == "Mukkula ja Kivimaa."
    assert table.translations == {"name": {"sv": "Öster"}}
    assert table.texts("name") == {"fi": "Itä", "sv": "Öster"}
    assert table.text_in("name", "sv") == "Öster"
    english = table.text_in("name", "en")
    assert (english, english.lang, english.fallback) == ("Itä", "fi", True)
    assert table.missing_languages() == {"sv": ["description"],
                                         "en": ["name", "description"]}


def test_setting_one_field_leaves_the_other_fields_translations():
    table = _table()
    table.set_texts("description", {"fi": "Mukkula.", "en": "Mukkula."})
    assert table.translations == {"name": {"sv": "Öster"}, "description": {"en": "Mukkula."}}
    table.set_texts("name", {"fi": "Itä"})
    assert table.translations == {"description": {"en": "Mukkula."}}


def test_a_swedish_table_falls_back_to_swedish():
    table = Table(slug="norr", main_language="sv", translations={})
    table.set_texts("name", {"sv": "Norr", "fi": "Pohjoinen"})
    assert table.name == "Norr" and table.translations == {"name": {"fi": "Pohjoinen"}}
    english = table.text_in("name", "en")
    assert (english, english.lang) == ("Norr", "sv")


def _round() -> Round:
    round_ = Round(table=_table(), categories=["Puistot", "Liikunta", "Kulttuuri"],
                   translations={})
    round_.set_texts("title", {"fi": "Itä 2027", "sv": "Öster 2027", "en": "East 2027"})
    round_.set_texts("description", {"fi": "Ideoita itään."})
    return round_


def test_round_categories_are_translated_in_order_and_fall_back_one_by_one():
    round_ = _round()
    round_.set_category_translations({"sv": ["Parker", "", "Kultur"], "en": ["Parks"]})
    assert round_.category_in("Puistot", "sv") == "Parker"
    assert round_.category_in("Kulttuuri", "sv") == "Kultur"
    sports = round_.category_in("Liikunta", "sv")
    assert (sports, sports.lang, sports.fallback) == ("Liikunta", "fi", True)
    assert round_.category_in("Kulttuuri", "en").lang == "fi"
    assert round_.category_texts("Puistot") == {"fi": "Puistot", "sv": "Parker", "en": "Parks"}
    # The title's translations are untouched by the categories'.
    assert round_.text_in("title", "en") == "East 2027"


def test_a_round_says_which_texts_each_language_lacks():
    round_ = _round()
    round_.set_category_translations({"sv": ["Parker", "Idrott", "Kultur"]})
    assert round_.missing_languages() == {"sv": ["description"],
                                          "en": ["description", "categories"]}
    round_.description = ""  # no description at all: nothing to translate
    assert round_.missing_languages() == {"en": ["categories"]}


def test_a_proposal_is_shown_as_written_in_its_own_language():
    proposal = Proposal(title="Musikkvällar för unga", language="sv")
    title = proposal.text_in("title", "fi")
    assert (title, title.lang) == ("Musikkvällar för unga", "sv")
