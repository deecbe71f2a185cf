"""One-line text and CSV cells (pb_vote/text.py)."""

import pytest

from pb_vote.text import csv_cell, is_one_line, one_line


@pytest.mark.parametrize("text", ["Benches by the lake", "Åbo–Turku 2027 ✓", "", "a  b"])
def test_ordinary_text_is_one_line(text):
    assert is_one_line(text)
    assert one_line(text) == " ".join(text.split())


@pytest.mark.parametrize("text", ["a\nb", "a\r\nb", "a\rb", "a\tb", "a\x00b", "a\x0bb",
                                  "a\x85b", "a\u2028b", "a\u2029b", "a\x1bb"])
def test_breaks_tabs_and_control_characters_are_not(text):
    assert not is_one_line(text)
    assert one_line(text) == "a b"


@pytest.mark.parametrize(("cell", "written"), [
    ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"),
    ("+1+2", "'+1+2"), ("-1-2", "'-1-2"), ("@SUM(A1)", "'@SUM(A1)"),
    ("\t=1", "'\t=1"), ("\r=1", "'\r=1"),
    ("Benches", "Benches"), ("a=b", "a=b"), ("", ""),
    (-5, -5), (12, 12), (None, None),
])
def test_csv_cells_that_a_spreadsheet_would_run_get_a_quote(cell, written):
    assert csv_cell(cell) == written
