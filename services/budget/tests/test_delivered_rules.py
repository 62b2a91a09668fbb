"""Decided versus delivered as pure rules: months of their own length, frequencies into
times in a month, decisions covering part of a month, flags, and the split of a month's
visits at the decision's limit."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hjemflyt.budget.delivered.rules import (
    BELOW_SHARE,
    WEEKDAY_SWING,
    FlagKind,
    Limit,
    Measure,
    Scope,
    Timed,
    beyond_decision,
    covered_days,
    decided_in_month,
    flag_id,
    flags,
    limit_in_month,
    measures_in_month,
    month_days,
    split_beyond,
    times_in_month,
    times_in_period,
)
from hjemflyt.budget.financing.rules import ActivityModel, RuleSetBody, activity_ore
from hjemflyt.budget.settlements.rules import Agreement, Visit, statement_lines, total_ore, withheld_ore

D = Decimal


def hours_scope(h: str, start: date = date(2024, 1, 1), end: date | None = None, **kw) -> Scope:
    return Scope("hours_per_month", D(h), start, end, **kw)


def frame(lo: str | None, hi: str, start: date = date(2024, 1, 1), end: date | None = None) -> Scope:
    return Scope("frame", D(hi), start, end, D(lo) if lo else None, D(hi))


def test_months_have_their_real_length():
    assert [month_days(2024, m) for m in range(1, 13)] == [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
    assert month_days(2023, 2) == 28
    assert month_days(2100, 2) == 28  # not a leap year
    assert month_days(2000, 2) == 29


@pytest.mark.parametrize(
    ("times", "per", "year", "month", "expected"),
    [
        (1, "day", 2024, 2, D(29)),  # every day of a leap February
        (2, "day", 2023, 2, D(56)),
        (3, "week", 2024, 1, D(3) * 31 / 7),  # "wound care 3 times a week" in January: 13.29
        (3, "week", 2023, 2, D(12)),  # four whole weeks
        (1, "month", 2024, 4, D(1)),
        (1, "quarter", 2024, 5, D(1) / 3),
        (12, "year", 2024, 11, D(1)),
        (4, "year", 2024, 12, D(1) / 3),  # "a B12 injection every third month"
    ],
)
def test_frequencies_become_times_in_a_whole_month(times, per, year, month, expected):
    n = month_days(year, month)
    assert times_in_month(times, per, n, n) == expected


def test_a_month_covered_in_part_counts_its_covered_days():
    # A decision from 20 January: 12 of January's 31 days.
    assert covered_days(date(2024, 1, 20), None, date(2024, 1, 1), date(2024, 2, 1)) == 12
    # Ending on 10 February (inclusive): 10 days.
    assert covered_days(date(2023, 12, 1), date(2024, 2, 10), date(2024, 2, 1), date(2024, 3, 1)) == 10
    # Not in the month at all.
    assert covered_days(date(2024, 3, 1), None, date(2024, 2, 1), date(2024, 3, 1)) == 0
    assert covered_days(date(2023, 1, 1), date(2024, 1, 31), date(2024, 2, 1), date(2024, 3, 1)) == 0
    assert times_in_month(1, "day", 12, 31) == 12
    assert times_in_month(1, "month", 12, 31) == D(12) / 31


def test_unknown_periods_and_impossible_days_are_refused():
    with pytest.raises(ValueError, match="fortnight"):
        times_in_month(1, "fortnight", 30, 30)
    with pytest.raises(ValueError, match="within the month"):
        times_in_month(1, "day", 32, 31)


@given(
    st.integers(1, 20),
    st.sampled_from(["day", "week", "month", "quarter", "year"]),
    st.dates(date(2000, 1, 1), date(2099, 12, 1)),
)
def test_a_years_months_add_up_to_the_frequency_over_the_year(times, per, start):
    """Over any 12 whole months a decision covers, the month by month expectations add up to
    the frequency over the year: per month 12 times, per quarter 4, per year once, per day
    every day, per week days / 7."""
    first = date(start.year, start.month, 1)
    following = date(first.year + 1, first.month, 1)
    total = times_in_period(times, per, first - timedelta(days=1), None, first, following)
    days = (following - first).days
    expected = {"day": D(days), "week": D(days) / 7, "month": D(12), "quarter": D(4), "year": D(1)}[per]
    assert abs(total - times * expected) < D("1e-20")


@given(st.integers(1, 12), st.integers(2000, 2099), st.integers(1, 31), st.integers(0, 40))
def test_covered_days_never_exceed_the_month(month, year, day, length):
    n = month_days(year, month)
    start = date(year, month, min(day, n))
    first = date(year, month, 1)
    following = first + timedelta(days=n)
    got = covered_days(start, start + timedelta(days=length), first, following)
    assert 0 <= got <= n
    assert got == min(length + 1, (following - start).days)


def test_decided_hours_in_a_month_are_the_decisions_by_the_days_they_cover():
    # 20 h/month, starting on the 16th of a 30-day month: 15/30 of it.
    d = decided_in_month([hours_scope("20", date(2024, 4, 16))], 2024, 4)
    assert d is not None
    assert d.hours == D("10.00")
    assert d.ceiling == D("10.00")
    assert d.floor == D("5.00")
    assert d.frame_min_hours is None
    assert not d.frames_only
    # Superseded mid-month: 10 h for 1-15 April, 30 h from 16 April: 5 + 15.
    both = [hours_scope("10", date(2024, 1, 1), date(2024, 4, 15)), hours_scope("30", date(2024, 4, 16))]
    assert decided_in_month(both, 2024, 4).hours == D("20.00")  # type: ignore[union-attr]
    assert decided_in_month([hours_scope("20", date(2024, 5, 1))], 2024, 4) is None


def test_a_frame_is_decided_at_its_maximum_and_far_below_only_under_its_minimum():
    d = decided_in_month([frame("4", "10")], 2024, 3)
    assert d is not None
    assert (d.hours, d.frame_min_hours, d.frame_max_hours, d.floor) == (D(10), D(4), D(10), D(4))
    assert d.frames_only
    # A frame without a minimum is never far below.
    assert decided_in_month([frame(None, "10")], 2024, 3).floor == 0  # type: ignore[union-attr]


def test_flags_above_the_decision_at_any_time_and_far_below_only_once_the_month_is_over():
    d = decided_in_month([hours_scope("12")], 2024, 1)
    assert d is not None
    limit = D(12) * (1 + WEEKDAY_SWING)  # 13.846...
    assert flags(d, D("13.84"), month_over=True) == []
    assert flags(d, D("13.85"), month_over=False) == [FlagKind.above_hours]
    assert flags(d, limit, month_over=True) == []
    assert flags(d, D("5.99"), month_over=False) == []  # the month is running
    assert flags(d, D("5.99"), month_over=True) == [FlagKind.below_half_hours]
    assert flags(d, D(12) * BELOW_SHARE, month_over=True) == []
    f = decided_in_month([frame("4", "10")], 2024, 1)
    assert flags(f, D("11.6"), month_over=True) == [FlagKind.above_frame_max]
    assert flags(f, D("3.99"), month_over=True) == [FlagKind.below_frame_min]
    assert flags(f, D("4"), month_over=True) == []
    # Without a decision (an assignment before one) nothing is flagged.
    assert flags(None, D(100), month_over=True) == []


def test_the_weekday_swing_is_five_of_a_weekday_against_the_average_month():
    assert D(1) + WEEKDAY_SWING == D(5) / (D(52) / 12)
    assert D("0.15") < WEEKDAY_SWING < D("0.16")


def test_a_flag_has_one_id_per_person_provider_month_and_kind():
    p = uuid.uuid4()
    assert flag_id(p, "812345672", "2024-01", "above_hours") == flag_id(
        p, "812345672", "2024-01", "above_hours"
    )
    assert flag_id(p, "812345672", "2024-01", "above_hours") != flag_id(
        p, "812345672", "2024-02", "above_hours"
    )
    assert flag_id(p, "812345672", "2024-01", "above_hours") != flag_id(
        p, "812345672", "2024-01", "below_half_hours"
    )


def test_measures_ordered_against_done_by_code():
    wound = Measure("SAR", "Sårstell", 3, "week")
    medicines = Measure("MED", "Oppfølging av faste medisiner", 1, "day")
    talk = Measure(None, "Samtale", 2, "month")
    scopes = [hours_scope("12", measures=(wound, medicines, talk))]
    rows = measures_in_month(scopes, {"SAR": 12, "EXTRA": 1}, 2024, 1)
    assert [(r.code, r.description, r.ordered_times, r.done_times) for r in rows] == [
        ("EXTRA", "EXTRA", D("0.00"), 1),  # done but never ordered
        ("MED", "Oppfølging av faste medisiner", D("31.00"), 0),
        ("SAR", "Sårstell", D("13.29"), 12),  # 3 * 31 / 7
        (None, "Samtale", D("2.00"), None),  # uncoded: visits cannot name it
    ]
    # Empty measures (decisions from before the structured order): nothing ordered.
    assert measures_in_month([hours_scope("12")], {}, 2024, 1) == []


def test_visits_beyond_the_limit_in_delivery_order_and_the_crossing_one_split():
    visits = [Timed("a", 3600), Timed("b", 3600), Timed("c", 1800), Timed("d", 600)]
    assert split_beyond(visits, D("2.25")) == {"c": 900, "d": 600}
    assert split_beyond(visits, D("10")) == {}
    assert split_beyond(visits, D("0")) == {"a": 3600, "b": 3600, "c": 1800, "d": 600}


@given(st.lists(st.integers(0, 4 * 3600), max_size=30), st.decimals(0, 60, places=2))
def test_the_split_pays_exactly_the_limit_when_above_it(seconds, limit):
    visits = [Timed(i, s) for i, s in enumerate(seconds)]
    beyond = split_beyond(visits, limit)
    total = sum(seconds)
    cap = int(limit * 3600)
    assert all(0 < b <= seconds[k] for k, b in beyond.items())  # type: ignore[index]
    assert total - sum(beyond.values()) == min(total, cap)
    # Only a tail is beyond: once a visit is beyond wholly, so is every later one.
    order = sorted(beyond)  # type: ignore[type-var]
    assert order == list(range(len(seconds) - len(order), len(seconds))) or any(s == 0 for s in seconds)


# --- the activity model on ordered measures -----------------------------------------------


def test_the_activity_model_reads_as_before_and_pays_on_ordered_measures():
    # An existing rule set without a basis reads as delivered.
    old = RuleSetBody.model_validate(
        {
            "name": "ABI",
            "valid_from": "2024-01-01",
            "parts": [
                {
                    "applies_to": "municipal",
                    "financing": {
                        "model": "activity",
                        "rate_ore_per_hour": 60_000,
                        "norms_minutes": {"SAR": 20},
                    },
                }
            ],
        }
    )
    model = old.parts[0].financing
    assert isinstance(model, ActivityModel)
    assert model.basis == "delivered"
    ordered = ActivityModel(basis="ordered", rate_ore_per_hour=60_000, norms_minutes={"SAR": 20, "MED": 10})
    # Wound care 3 times a week in January (13.2857 times) * 20 min + medicines daily (31) * 10 min
    # = 575.714 min * 600 kr / 60 = 5 757.14 kr.
    times = {
        "SAR": times_in_period(3, "week", date(2023, 1, 1), None, date(2024, 1, 1), date(2024, 2, 1)),
        "MED": times_in_period(1, "day", date(2023, 1, 1), None, date(2024, 1, 1), date(2024, 2, 1)),
    }
    assert activity_ore(ordered, times) == 575_714
    assert (
        activity_ore(ordered, {"SAR": 3, "MED": 0}) == activity_ore(ordered, ["SAR", "SAR", "SAR"]) == 60_000
    )


def test_an_activity_unit_paid_on_ordered_measures_needs_what_the_decisions_order():
    from hjemflyt.budget.allocations.rules import needs

    body = RuleSetBody.model_validate(
        {
            "name": "ABI on orders",
            "valid_from": "2024-01-01",
            "parts": [
                {
                    "applies_to": ["812345672"],
                    "financing": {
                        "model": "activity",
                        "basis": "ordered",
                        "rate_ore_per_hour": 60_000,
                        "norms_minutes": {"SAR": 20},
                    },
                },
                {
                    "applies_to": ["900000006"],
                    "financing": {
                        "model": "activity",
                        "rate_ore_per_hour": 60_000,
                        "norms_minutes": {"SAR": 20},
                    },
                },
            ],
        }
    )
    # 156 wound care visits ordered for the year (3 a week), 10 done in the year before.
    got = needs(
        body,
        [],
        units={"812345672": "private", "900000006": "private"},
        measures={"812345672": {"SAR": 10}, "900000006": {"SAR": 10}},
        ordered={"812345672": {"SAR": D(156)}, "900000006": {"SAR": D(156)}},
    )
    assert got["812345672"].need_ore == 156 * 20 * 1000  # 20 min at 600 kr/h = 200 kr each
    assert "ordered" in got["812345672"].notes[0]
    assert got["900000006"].need_ore == 10 * 20 * 1000  # delivered, as before


# --- the statement: per person and service --------------------------------------------------


def test_limits_per_service_when_every_decided_service_names_its_type():
    nursing = hours_scope("10", service_type="home-nursing")
    help_ = hours_scope("4", service_type="practical-help")
    limit = limit_in_month([nursing, help_], 2024, 1)
    assert limit is not None
    assert limit.total == D(14) * (1 + WEEKDAY_SWING)
    assert limit.per_service == {
        "home-nursing": D(10) * (1 + WEEKDAY_SWING),
        "practical-help": D(4) * (1 + WEEKDAY_SWING),
    }
    assert limit_in_month([nursing, hours_scope("4")], 2024, 1).per_service is None  # type: ignore[union-attr]
    assert limit_in_month([hours_scope("4", date(2024, 2, 1))], 2024, 1) is None


def test_visits_count_against_their_own_service_and_an_undecided_service_is_beyond():
    limit = Limit(D(3), {"home-nursing": D(2), "practical-help": D(1)})
    h = 3600
    typed = [
        (Timed("n1", 2 * h), "home-nursing"),
        (Timed("p1", h), "practical-help"),
        (Timed("n2", h), "home-nursing"),  # the third nursing hour: beyond nursing's 2 h
        (Timed("m1", h), "meals"),  # never decided
    ]
    assert beyond_decision(typed, limit) == {"n2": h, "m1": h}
    # One visit without a type (the provider did not say): all count against the total of
    # 3 h, in delivery order: n1 and p1 fill it.
    untyped = [*typed[:3], (Timed("x", h), None)]
    assert beyond_decision(untyped, limit) == {"n2": h, "x": h}


def test_a_statement_withholds_the_part_beyond_and_pays_it_once_approved():
    person, other = uuid.uuid4(), uuid.uuid4()
    agreement = Agreement({"home-nursing": 65_000}, None, None)

    def visit(visit_id: str, day: int, minutes: int, who: uuid.UUID = person) -> Visit:
        start = datetime(2024, 1, day, 9, tzinfo=UTC)
        return Visit(
            visit_id, start.date(), start, uuid.uuid4(), who, "home-nursing", 3600, minutes * 60, False
        )

    visits = [visit("a", 1, 60), visit("b", 2, 60), visit("c", 3, 30), visit("z", 1, 600, other)]
    limits = {person: Limit(D("2.25"), {"home-nursing": D("2.25")})}  # 2 h 15 min
    lines = statement_lines(agreement, visits, [], [], limits)
    by_id = {line.visit_id: line for line in lines}
    c = by_id["c"]
    # c: 30 min, 15 of them beyond: 162.50 kr paid, 162.50 kr withheld.
    assert (c.beyond_decision_seconds, c.amount_ore, c.beyond_decision_ore) == (900, 16_250, 16_250)
    assert by_id["z"].beyond_decision_seconds == 0  # no decision known: paid as delivered
    assert total_ore(lines) == 65_000 * 2 + 16_250 + 650_000
    assert withheld_ore(lines) == 16_250
    approved = statement_lines(agreement, visits, [], [], limits, approved={person})
    assert total_ore(approved) == 65_000 * 2 + 32_500 + 650_000
    assert withheld_ore(approved) == 0
    assert [line.beyond_decision_approved for line in approved if line.visit_id == "c"] == [True]
    # Without limits the statement is as it always was.
    assert total_ore(statement_lines(agreement, visits, [], [])) == total_ore(approved)


@given(
    st.lists(st.tuples(st.integers(0, 3 * 60), st.booleans()), min_size=1, max_size=20),
    st.decimals(0, 20, places=2),
)
def test_paid_and_withheld_add_up_to_the_lines_as_delivered(visits, limit):
    person = uuid.uuid4()
    agreement = Agreement({"home-nursing": 65_001}, None, None)
    rows = [
        Visit(
            f"v{i}",
            date(2024, 3, 1 + i),
            datetime(2024, 3, 1 + i, 9, tzinfo=UTC),
            uuid.uuid4(),
            person,
            "home-nursing" if typed else None,
            3600,
            minutes * 60,
            False,
        )
        for i, (minutes, typed) in enumerate(visits)
    ]
    plain = statement_lines(agreement, rows, [], [])
    held = statement_lines(agreement, rows, [], [], {person: Limit(limit, {"home-nursing": limit})})
    assert total_ore(held) + withheld_ore(held) == total_ore(plain)
    paid_seconds = sum(line.actual_seconds - line.beyond_decision_seconds for line in held)
    assert paid_seconds == min(sum(m * 60 for m, _ in visits), int(limit * 3600))
