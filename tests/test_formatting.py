"""Money in each language, also when the same amount is asked again in another language
(the formatted amounts are remembered per locale)."""

import pytest
from flask_babel import force_locale

from pb_vote.formatting import money

CASES = [
    ("fi", 1_200_000, "12\u00a0000\u00a0€"),
    ("fi", 1_250, "12,50\u00a0€"),
    ("sv", 1_200_000, "12\u00a0000\u00a0€"),
    ("en", 1_200_000, "€12,000"),
    ("en", 1_250, "€12.50"),
]


@pytest.mark.parametrize(("language", "cents", "text"), CASES)
def test_money_in_each_language(app_ctx, language, cents, text):
    with force_locale(language):
        assert money(cents) == text
        assert money(cents) == text  # asked again: the same, from memory


def test_the_same_amount_in_turn_in_every_language(app_ctx):
    for language, cents, text in CASES * 2:
        with force_locale(language):
            assert money(cents) == text
