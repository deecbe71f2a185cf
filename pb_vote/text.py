"""Text that leaves the service in a shape others interpret: one-line text (form fields,
mail subjects) and cells of CSV files a spreadsheet opens. A leaf module: it imports nothing
of pb_vote, so anything may import it."""

import unicodedata

# Control characters (CR, LF, tab, NUL, ...) and the line and paragraph separators.
_NOT_IN_A_LINE = {"Cc", "Zl", "Zp"}
# A spreadsheet reads a cell starting with one of these as a formula (OWASP, CSV injection).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def is_one_line(text: str) -> bool:
    """Whether ``text`` has no line break, tab or other control character."""
    return not any(unicodedata.category(char) in _NOT_IN_A_LINE for char in text)


def one_line(text: str) -> str:
    """``text`` as one line: each line break, tab or other control character becomes a space,
    and each run of spaces one space."""
    spaced = "".join(" " if unicodedata.category(char) in _NOT_IN_A_LINE else char
                     for char in text)
    return " ".join(spaced.split())


def csv_cell(value: object) -> object:
    """A cell for a CSV file: text that a spreadsheet would run as a formula gets a leading
    single quote (OWASP's rule), so it shows as the text it is; numbers stay numbers."""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value
