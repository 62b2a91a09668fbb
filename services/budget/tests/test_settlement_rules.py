"""Pure rules of settlement and pauses (no IO)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hjemflyt.budget.deliveries.rules import admitted_days, hours, month_bounds, month_key, paused, visit_date
from hjemflyt.budget.settlements.rules import (
    Agreement,
    Visit,
    amount_ore,
    month_ended,
    month_started,
    price,
    statement_lines,
    total_ore,
)
from hjemflyt.shared.platform.clock import OSLO

AGREEMENT = Agreement({"home-nursing": 65_000}, date(2026, 1, 1), date(2026, 12, 31))


def test_amounts_round_half_up_per_line():
    assert amount_ore(5400, 65_000) == 97_500  # 1 h 30 min at 650.00 kr
    assert amount_ore(1800, 65_001) == 32_501  # 325.005 kr: the half øre rounds up
    assert amount_ore(1800, 64_999) == 32_500  # 324.995 kr: up as well
    assert amount_ore(60, 65_000) == 1_083  # 1 min: 1,083.33 øre
    assert amount_ore(0, 65_000) == 0


@given(st.integers(0, 86_400), st.integers(0, 10_000_000))
def test_amount_is_the_exact_amount_rounded_half_up(seconds, price_ore):
    # Within half an øre of the exact amount, and a half rounds up.
    exact = Fraction(seconds * price_ore, 3600)
    assert -Fraction(1, 2) < amount_ore(seconds, price_ore) - exact <= Fraction(1, 2)


def test_price_reasons():
    assert price(AGREEMENT, "home-nursing", date(2026, 5, 1)) == (65_000, None)
    assert price(AGREEMENT, None, date(2026, 5, 1)) == (None, "no-service-type")
    assert price(AGREEMENT, "meals", date(2026, 5, 1)) == (None, "no-contract-price")
    assert price(AGREEMENT, "home-nursing", date(2025, 12, 31)) == (None, "outside-agreement")
    assert price(AGREEMENT, "home-nursing", date(2027, 1, 1)) == (None, "outside-agreement")


@given(
    st.lists(st.tuples(st.integers(0, 86_400), st.sampled_from(["home-nursing", "meals", None])), max_size=30)
)
def test_the_total_is_the_sum_of_the_lines(visits):
    now = datetime(2026, 5, 1, tzinfo=UTC)
    lines = statement_lines(
        AGREEMENT,
        [
            Visit(f"v{i}", date(2026, 5, 1), now, uuid.uuid4(), uuid.uuid4(), t, 3600, s, False)
            for i, (s, t) in enumerate(visits)
        ],
        [],
        [],
    )
    assert [line.line_no for line in lines] == list(range(1, len(visits) + 1))
    assert total_ore(lines) == sum(line.amount_ore for line in lines)
    assert all((line.price_ore_per_hour is None) == (line.unpriced_reason is not None) for line in lines)


def test_months_can_be_drafted_from_their_start_and_closed_after_their_end():
    today = date(2026, 11, 22)
    assert month_started("2026-11", today)
    assert not month_ended("2026-11", today)
    assert month_ended("2026-10", today)
    assert not month_started("2026-12", today)


@pytest.mark.parametrize(
    ("today", "ended", "running", "ahead"),
    [
        (date(2026, 12, 31), "2026-11", "2026-12", "2027-01"),  # the year's last day
        (date(2027, 1, 1), "2026-12", "2027-01", "2027-02"),  # the year's first day
        (date(2028, 2, 29), "2028-01", "2028-02", "2028-03"),
        (date(2028, 3, 1), "2028-02", "2028-03", "2028-04"),
    ],
)
def test_months_turn_over_at_the_year_and_after_a_leap_day(today, ended, running, ahead):
    assert month_ended(ended, today)
    assert month_started(running, today)
    assert not month_ended(running, today)
    assert not month_started(ahead, today)


@pytest.mark.parametrize(
    ("planned_start", "day"),
    [
        # 00:30 in Oslo is the day before in UTC: the visit is Oslo's day (and month, and year).
        (datetime(2026, 12, 31, 23, 30, tzinfo=UTC), date(2027, 1, 1)),
        (datetime(2028, 2, 29, 23, 30, tzinfo=UTC), date(2028, 3, 1)),  # a leap day's end, UTC+1
        (datetime(2027, 3, 31, 22, 30, tzinfo=UTC), date(2027, 4, 1)),  # summer time: UTC+2
        (datetime(2027, 3, 28, 0, 30, tzinfo=UTC), date(2027, 3, 28)),  # before the switch at 01:00 UTC
        (datetime(2027, 10, 30, 22, 30, tzinfo=UTC), date(2027, 10, 31)),  # the day summer time ends
        (datetime(2027, 10, 31, 22, 59, tzinfo=UTC), date(2027, 10, 31)),  # 23:59 in Oslo, UTC+1 again
        (datetime.combine(date(2027, 1, 31), time(23, 59), OSLO), date(2027, 1, 31)),
    ],
)
def test_a_visit_belongs_to_the_day_and_month_it_was_planned_in_norway(planned_start, day):
    assert visit_date(planned_start) == day
    assert month_key(visit_date(planned_start)) == f"{day.year:04d}-{day.month:02d}"


def test_a_month_is_paused_when_admitted_more_than_half_of_its_days():
    first, following = month_bounds(2026, 2)  # 28 days

    def at(d: int) -> datetime:
        return datetime(2026, 2, d, 8, 0, tzinfo=OSLO)

    assert admitted_days([(at(1), at(15))], first, following) == 14
    assert not paused(14, first, following)  # exactly half: not more than half
    assert paused(admitted_days([(at(1), at(16))], first, following), first, following)
    # Open stays run to the end; overlapping stays count a day once; a day visit counts none.
    assert admitted_days([(at(20), None), (at(22), at(25)), (at(3), at(3))], first, following) == 9
    assert admitted_days([(datetime(2026, 1, 10, tzinfo=OSLO), None)], first, following) == 28


def test_months_have_their_own_length_in_leap_years_and_december_ends_the_year():
    assert month_bounds(2026, 12) == (date(2026, 12, 1), date(2027, 1, 1))
    first, following = month_bounds(2028, 2)  # 29 days
    assert following == date(2028, 3, 1)
    assert admitted_days([(datetime(2028, 1, 10, tzinfo=OSLO), None)], first, following) == 29

    def at(d: int) -> datetime:
        return datetime(2028, 2, d, 8, 0, tzinfo=OSLO)

    # From 15 February to 1 March: 15 of 29 days, more than half (in 2026, 14 of 28: not).
    stay = [(at(15), datetime(2028, 3, 1, 8, 0, tzinfo=OSLO))]
    assert admitted_days(stay, first, following) == 15
    assert paused(15, first, following)
    assert not paused(14, first, following)
    # A stay from the evening of 31 December to 3 January: one December day, two January days.
    new_year = [(datetime(2026, 12, 31, 22, 0, tzinfo=OSLO), datetime(2027, 1, 3, 10, 0, tzinfo=OSLO))]
    assert admitted_days(new_year, *month_bounds(2027, 1)) == 2
    assert admitted_days(new_year, *month_bounds(2026, 12)) == 1
    # Admitted 00:30 on 1 March in Oslo (29 February in UTC): not a February day.
    late = [(datetime(2028, 2, 29, 23, 30, tzinfo=UTC), None)]
    assert admitted_days(late, first, following) == 0
    assert admitted_days(late, *month_bounds(2028, 3)) == 31


def test_hours_are_shown_to_four_places():
    assert str(hours(5400)) == "1.5000"
    assert str(hours(1200)) == "0.3333"
