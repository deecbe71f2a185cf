"""Content in three languages: a table's and a round's texts are written in the table's main
language (Finnish or Swedish), and may also be given in the other two. A visitor reads the
text in their own language, and where it is missing, in the main language (which then says
so with its language tag).

A translated model keeps the main-language text in its own column (``name``, ``title``, ...:
what exports, audits and searches use) and the other languages in one JSON column,
``translations`` = {field: {language: text}}, read with the row: no extra query per item.
"""

from collections.abc import Iterable, Mapping

from pb_vote.models.users import LANGUAGES

MAIN_LANGUAGES = ("fi", "sv")  # a table's own language: Finland's two national languages


class LocalText(str):
    """A text, knowing the language it is written in (``lang``) and whether it stands in for
    a missing translation (``fallback``)."""

    lang: str
    fallback: bool

    def __new__(cls, text: str, lang: str, fallback: bool = False) -> "LocalText":
        made = super().__new__(cls, text)
        made.lang = lang
        made.fallback = fallback
        return made

    def __reduce__(self):
        # Copied or pickled (a cache, a deep copy) with its language, not as a plain str.
        return (LocalText, (str(self), self.lang, self.fallback))


def pick(texts: Mapping[str, str], wanted: str, main: str) -> LocalText:
    """The text in ``wanted`` when there is one; else the ``main`` language's, marked as a
    fallback. ``texts`` maps languages to texts; blank texts count as missing."""
    text = (texts.get(wanted) or "").strip()
    if text:
        return LocalText(texts[wanted], wanted)
    return LocalText(texts.get(main) or "", main, fallback=wanted != main)


def other_languages(main: str) -> tuple[str, ...]:
    """The languages a text may be translated into besides ``main``."""
    return tuple(language for language in LANGUAGES if language != main)


class Translated:
    """Texts in three languages for a model with a ``translations`` JSON column and a
    ``main_language``. Fields named in ``TRANSLATED`` keep the main text in their column."""

    TRANSLATED: tuple[str, ...] = ()

    def texts(self, field: str) -> dict[str, str]:
        """Every language's text of ``field``: the main one first; missing ones left out."""
        main = self.main_language
        found = {main: getattr(self, field) or ""}
        for language, text in ((self.translations or {}).get(field) or {}).items():
            if language != main and language in LANGUAGES and (text or "").strip():
                found[language] = text
        return found

    def text_in(self, field: str, language: str) -> LocalText:
        """``field`` in ``language``, or in the main language when it has no translation."""
        return pick(self.texts(field), language, self.main_language)

    def set_texts(self, field: str, texts: Mapping[str, str]) -> None:
        """Store ``field`` in each language given (the main language's in the column; a
        blank or missing one is no translation)."""
        main = self.main_language
        setattr(self, field, (texts.get(main) or "").strip())
        others = {language: texts[language].strip() for language in other_languages(main)
                  if (texts.get(language) or "").strip()}
        translations = {key: value for key, value in (self.translations or {}).items()
                        if key != field}
        if others:
            translations[field] = others
        self.translations = translations  # a new dict, so the change is saved

    def missing_languages(self, fields: Iterable[str] | None = None) -> dict[str, list[str]]:
        """For each language besides the main one, the fields with a main text but no
        translation (languages lacking nothing are left out)."""
        missing: dict[str, list[str]] = {}
        for field in fields if fields is not None else self.TRANSLATED:
            texts = self.texts(field)
            if not texts[self.main_language].strip():
                continue
            for language in other_languages(self.main_language):
                if language not in texts:
                    missing.setdefault(language, []).append(field)
        return missing
