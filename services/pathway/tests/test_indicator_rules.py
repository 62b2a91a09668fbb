"""The indicators' pure rules: months, weeks, the day stock figures are taken, the board."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hjemflyt.pathway.indicators import rules


def test_months_and_their_stock_day():
    assert rules.parse_month("2026-02") == date(2026, 2, 1)
    for bad in ("2026-13", "2026-1", "26-01", "2026-00", "january"):
        with pytest.raises(ValueError, match="not a month"):
            rules.parse_month(bad)
    assert rules.months(date(2026, 11, 1), date(2027, 2, 1)) == [
        date(2026, 11, 1),
        date(2026, 12, 1),
        date(2027, 1, 1),
        date(2027, 2, 1),
    ]
    assert rules.as_of(date(2024, 2, 1), date(2027, 1, 1)) == date(2024, 2, 29)
    assert rules.as_of(date(2027, 1, 1), date(2027, 1, 20)) == date(2027, 1, 20)  # the running month
    assert rules.as_of(date(2027, 3, 1), date(2027, 1, 20)) == date(2027, 3, 1)  # not begun


def test_oslo_dates_and_weeks():
    # 23:30 UTC on New Year's Eve is already the new year in Oslo.
    assert rules.oslo_date(datetime(2026, 12, 31, 23, 30, tzinfo=UTC)) == date(2027, 1, 1)
    assert rules.parse_week("2026-W53") == (date(2026, 12, 28), date(2027, 1, 3))
    for bad in ("2027-W53", "2027-W00", "2027-3", "2027W03"):
        with pytest.raises(ValueError):  # noqa: PT011 - the message differs by case
            rules.parse_week(bad)
    assert rules.week_of(date(2027, 1, 1)) == "2026-W53"


def test_the_board_is_red_until_every_item_is_shown():
    assert rules.missing_items(None) == list(rules.BoardItem)
    done = dict.fromkeys((i.value for i in rules.BoardItem), True)
    assert rules.missing_items(done) == []
    assert rules.missing_items({**done, "nutrition": False}) == [rules.BoardItem.nutrition]


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 12, 1)))
def test_every_day_lies_in_its_month(day):
    first = day.replace(day=1)
    assert first <= day < rules.next_month(first)
    assert rules.parse_month(rules.month_key(first)) == first
    assert rules.parse_week(rules.week_of(day))[0] <= day <= rules.parse_week(rules.week_of(day))[1]
