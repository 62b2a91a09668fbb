"""Pure rules of delivered visits and pauses: the month a visit belongs to, its durations,
what counts as a change, and when a month counts as paused."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from hjemflyt.shared.contracts.reports import ReportedVisit
from hjemflyt.shared.platform.clock import OSLO

MONTH_PATTERN = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
SECONDS_PER_HOUR = 3600
HOURS_PLACES = Decimal("0.0001")


def visit_date(planned_start: datetime) -> date:
    """The day a visit belongs to: where it was planned, in Norway (as notifications does)."""
    return planned_start.astimezone(OSLO).date()


def month_key(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def parse_month(month: str) -> tuple[int, int]:
    """(year, month) of `YYYY-MM`; ValueError otherwise."""
    m = MONTH_PATTERN.match(month)
    if m is None:
        raise ValueError(f"{month!r} is not a month as YYYY-MM")
    return int(m.group(1)), int(m.group(2))


def month_bounds(year: int, month: int) -> tuple[date, date]:
    """First day of the month and first day of the next."""
    first = date(year, month, 1)
    following = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
    return first, following


def seconds(start: datetime | None, end: datetime | None) -> int:
    if start is None or end is None or end <= start:
        return 0
    return int((end - start).total_seconds())


def hours(secs: int) -> Decimal:
    """Hours from seconds, to 4 places (for display and sums; money uses the seconds)."""
    return (Decimal(secs) / SECONDS_PER_HOUR).quantize(HOURS_PLACES, ROUND_HALF_UP)


@dataclass(frozen=True)
class VisitFacts:
    """A reported visit as budget keeps it."""

    visit_id: str
    order_id: str
    person_id: str
    district: str
    service_type: str | None
    visit_date: date
    month: str
    planned_seconds: int
    # Actual hours count only for visits that took place (not cancelled).
    actual_seconds: int
    content_sha256: str


def facts(v: ReportedVisit) -> VisitFacts:
    day = visit_date(v.planned_start)
    # Only what changes the statement or actual hours decides whether a re-report is a change
    # (staff and measures are the provider's business, not the settlement's).
    content = {
        "order_id": str(v.order_id),
        "person_id": str(v.person_id),
        "service_type": v.service_type,
        "planned_start": v.planned_start.isoformat(),
        "planned_end": v.planned_end.isoformat(),
        "actual_start": v.actual_start.isoformat() if v.actual_start else None,
        "actual_end": v.actual_end.isoformat() if v.actual_end else None,
        "cancelled": v.cancelled,
        "cancel_cause": v.cancel_cause,
    }
    return VisitFacts(
        visit_id=v.visit_id,
        order_id=str(v.order_id),
        person_id=str(v.person_id),
        district=v.district,
        service_type=v.service_type,
        visit_date=day,
        month=month_key(day),
        planned_seconds=seconds(v.planned_start, v.planned_end),
        actual_seconds=0 if v.cancelled else seconds(v.actual_start, v.actual_end),
        content_sha256=hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest(),
    )


def admitted_days(stays: list[tuple[datetime, datetime | None]], first: date, following: date) -> int:
    """Days of [first, following) on which the person slept away: from the admission day up
    to (not including) the discharge day, in Norway; an open stay runs to the period's end.
    Overlapping stays count each day once."""
    days: set[date] = set()
    for admitted_at, discharged_at in stays:
        start = max(admitted_at.astimezone(OSLO).date(), first)
        end = following if discharged_at is None else min(discharged_at.astimezone(OSLO).date(), following)
        d = start
        while d < end:
            days.add(d)
            d += timedelta(days=1)
    return len(days)


def paused(days_admitted: int, first: date, following: date) -> bool:
    """A month is paused when the person was admitted more than half of its days.

    Why half: DOMAIN § 6 funds per month and stops only the funding above level 4 during a
    pause, while focus funding already follows the hours actually received. A short hospital
    stay (a few days) leaves the provider staffing the person most of the month, so it must
    not cost the month's funding; a month spent mostly away is a pause.
    """
    return days_admitted * 2 > (following - first).days
