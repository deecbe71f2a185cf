"""Money in each language, also when the same amount is asked again in another language
(the formatted amounts are remembered per locale); dates and times, one way per language."""

from datetime import UTC, datetime

import pytest
from flask_babel import force_locale

from pb_vote.formatting import local_date, local_datetime, money

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


# 07:04 UTC on 5 March 2026 is 09:04 in Helsinki (winter time), 02:04 in New York.
MOMENT = datetime(2026, 3, 5, 7, 4, 30, tzinfo=UTC)
DATES = [
    ("fi", "5.3.2026", "5.3.2026 klo 9.04", "5.3.2026 klo 9.04.30"),
    ("sv", "5.3.2026", "5.3.2026 kl. 9.04", "5.3.2026 kl. 9.04.30"),
    ("en", "5 March 2026", "5 March 2026 at 09:04", "5 March 2026 at 09:04:30"),
]


@pytest.mark.parametrize(("language", "day", "short", "medium"), DATES)
def test_one_way_to_write_a_date_per_language(app_ctx, language, day, short, medium):
    with force_locale(language):
        assert local_date(MOMENT.date()) == day
        assert local_date(MOMENT.date().isoformat()) == day  # as publications store days
        assert local_datetime(MOMENT, "Europe/Helsinki", "short") == short
        assert local_datetime(MOMENT, "Europe/Helsinki", "medium") == medium
        assert local_datetime(MOMENT, "Europe/Helsinki", "short").startswith(day)


def test_times_are_in_the_rounds_time_zone_also_in_summer(app_ctx):
    with force_locale("fi"):
        assert local_datetime(MOMENT, "America/New_York", "short") == "5.3.2026 klo 2.04"
        assert local_datetime(datetime(2026, 6, 15, 13, 35, tzinfo=UTC), "Europe/Helsinki",
                              "short") == "15.6.2026 klo 16.35"
        assert local_datetime(None) == local_date(None) == ""
