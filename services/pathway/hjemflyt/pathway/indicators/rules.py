"""Pure rules of the indicators: months and weeks, Oslo dates, medians, the quality board."""

from __future__ import annotations

import re
import statistics
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from enum import StrEnum

from hjemflyt.shared.platform.clock import OSLO

MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
WEEK = re.compile(r"^(\d{4})-W(0[1-9]|[1-4]\d|5[0-3])$")
# A request spans at most this many months: the answer is one row per district and month.
MAX_MONTHS = 60


class BoardItem(StrEnum):
    """What the journal must show each week for the person to be green (DOMAIN § 8)."""

    right_of_access_informed = "right_of_access_informed"
    care_plan_updated = "care_plan_updated"
    nutrition = "nutrition"
    vital_signs = "vital_signs"
    fall_assessment = "fall_assessment"


def parse_month(value: str) -> date:
    """'YYYY-MM' -> the month's first day; ValueError otherwise."""
    m = MONTH.match(value)
    if m is None:
        raise ValueError(f"{value!r} is not a month (YYYY-MM)")
    return date(int(m[1]), int(m[2]), 1)


def next_month(first: date) -> date:
    return date(first.year + first.month // 12, first.month % 12 + 1, 1)


def months(first: date, last: date) -> list[date]:
    """First days of every month from `first` to `last`, both included."""
    out = []
    m = first
    while m <= last:
        out.append(m)
        m = next_month(m)
    return out


def month_key(first: date) -> str:
    return f"{first.year:04d}-{first.month:02d}"


def as_of(first: date, today: date) -> date:
    """The day a month's stock figures (open, overdue, backlog) are taken: its last day, or
    today for the running month. Before the month began: its first day."""
    return max(first, min(next_month(first) - timedelta(days=1), today))


def oslo_date(at: datetime) -> date:
    return at.astimezone(OSLO).date()


def parse_week(value: str) -> tuple[date, date]:
    """'YYYY-Www' (ISO week) -> its Monday and Sunday; ValueError otherwise."""
    m = WEEK.match(value)
    if m is None:
        raise ValueError(f"{value!r} is not an ISO week (YYYY-Www)")
    monday = date.fromisocalendar(int(m[1]), int(m[2]), 1)
    return monday, monday + timedelta(days=6)


def week_of(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year:04d}-W{week:02d}"


def missing_items(done: dict[str, bool] | None) -> list[BoardItem]:
    """The items the journal does not show yet; all of them when nothing was recorded."""
    return [item for item in BoardItem if not (done or {}).get(item.value, False)]


def median(values: Sequence[float]) -> float | None:
    return float(statistics.median(values)) if values else None


def mean(values: Sequence[float]) -> float | None:
    return float(statistics.fmean(values)) if values else None


def share(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None
