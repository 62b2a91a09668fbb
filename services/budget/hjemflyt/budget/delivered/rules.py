"""Pure rules of decided versus delivered: what a decision amounts to in one calendar month
(hours, frame, measures), how delivery compares with it, when that is flagged, and which
part of a month's visits lies beyond the decision. No IO.

Months are real calendar months: a decision's hours per month count in full for a month it
covers wholly and by days for a month it covers in part (started or ended inside it);
measure frequencies (per day, week, month, quarter, year) become expected times in the
month from the month's real days.
"""

from __future__ import annotations

import calendar
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from hjemflyt.budget.deliveries.rules import month_bounds as month_bounds

ZERO = Decimal(0)
HOURS = Decimal("0.01")
SECONDS_PER_HOUR = 3600

# A weekly measure falls five times in some months against 52/12 = 4.33 in the average month
# a decision's hours per month are written for: 5 / (52/12) - 1 = 15.4 %. Delivery up to that
# much above the decided hours (or the frame's maximum) is an ordinary month, not a delivery
# beyond the decision; above it the settlement withholds the excess and the case office is
# told. Without it every month with five Mondays would be flagged for a Monday visit.
WEEKDAY_SWING = Decimal(5) / (Decimal(52) / 12) - 1
# Far below the decision: under half of the decided hours in a month that is over. Half,
# because a person away for a fortnight (not admitted, e.g. visiting family) or a stable
# user who has declined some visits stays above it, while a provider delivering a fraction
# of what was decided (or a decision that no longer matches the need) falls under it; the
# case office should then ask whether the decision still fits. A frame is below only under
# its own minimum: the frame is the provider's room to adjust (friere faglighet).
BELOW_SHARE = Decimal("0.5")

PERIODS = ("day", "week", "month", "quarter", "year")


class FlagKind(StrEnum):
    above_hours = "above_hours"  # delivered above the decided hours (plus the weekday swing)
    above_frame_max = "above_frame_max"  # delivered above the frame's maximum (plus the swing)
    below_half_hours = "below_half_hours"  # delivered under half of the decided hours
    below_frame_min = "below_frame_min"  # delivered under the frame's minimum


@dataclass(frozen=True)
class Measure:
    code: str | None
    description: str
    times: int
    per: str
    minutes: int | None = None


@dataclass(frozen=True)
class Scope:
    """One decided service of one decision (as the hours read model keeps it)."""

    scope_kind: str  # hours_per_month | frame | minutes_per_measure
    hours_per_month: Decimal  # for a frame: its maximum
    start_date: date
    end_date: date | None  # inclusive; None: indefinite
    frame_min_hours: Decimal | None = None
    frame_max_hours: Decimal | None = None
    measures: tuple[Measure, ...] = ()
    service_type: str | None = None

    @property
    def is_frame(self) -> bool:
        return self.scope_kind == "frame"

    @property
    def ceiling(self) -> Decimal:
        """Hours per month the decision allows at most: the hours, or the frame's maximum."""
        if self.is_frame and self.frame_max_hours is not None:
            return self.frame_max_hours
        return self.hours_per_month

    @property
    def floor(self) -> Decimal:
        """Hours per month under which delivery is far below the decision."""
        if self.is_frame:
            return self.frame_min_hours or ZERO
        return self.hours_per_month * BELOW_SHARE


# --- months and frequencies ---------------------------------------------------------------


def month_days(year: int, month: int) -> int:
    return calendar.monthrange(year, month)[1]


def covered_days(start: date, end: date | None, first: date, following: date) -> int:
    """Days of [first, following) within [start, end] (end inclusive, None: open)."""
    lo = max(start, first)
    hi = following if end is None else min(end + timedelta(days=1), following)
    return max((hi - lo).days, 0)


def times_in_month(times: int, per: str, days: int, days_in_month: int) -> Decimal:
    """Expected times of a measure in a month of which `days` (of `days_in_month`) are covered.

    per day: every covered day; per week: covered days / 7; per month: the month's covered
    share; per quarter: a third of that, per year: a twelfth (a quarter or year is spread
    evenly over its months: which month it falls in is the provider's planning)."""
    if per not in PERIODS:
        raise ValueError(f"{per!r} is not one of {', '.join(PERIODS)}")
    if not 0 <= days <= days_in_month:
        raise ValueError("covered days lie within the month")
    t, d, n = Decimal(times), Decimal(days), Decimal(days_in_month)
    match per:
        case "day":
            return t * d
        case "week":
            return t * d / 7
        case "month":
            return t * d / n
        case "quarter":
            return t * d / n / 3
        case _:
            return t * d / n / 12


def months_between(start: date, end: date) -> Iterable[tuple[int, int]]:
    """(year, month) of every month touching [start, end)."""
    y, m = start.year, start.month
    while date(y, m, 1) < end:
        yield y, m
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)


def times_in_period(
    times: int, per: str, start: date, end: date | None, first: date, following: date
) -> Decimal:
    """Expected times of a measure decided for [start, end] within the period [first, following)."""
    total = ZERO
    for y, m in months_between(first, following):
        a, b = month_bounds(y, m)
        a, b = max(a, first), min(b, following)
        total += times_in_month(times, per, covered_days(start, end, a, b), month_days(y, m))
    return total


# --- one person at one provider in one month ----------------------------------------------


@dataclass(frozen=True)
class Decided:
    """What the decisions amount to in one month (summed over the person's services at
    the provider, each by the days it covers)."""

    hours: Decimal  # the decided hours, a frame counted at its maximum
    frame_min_hours: Decimal | None  # sum of the frames' minimums; None: no frame
    frame_max_hours: Decimal | None  # sum of the frames' maximums; None: no frame
    ceiling: Decimal  # hours allowed at most
    floor: Decimal  # under it: far below
    frames_only: bool  # every service is a frame (the flags speak of the frame)

    @property
    def limit(self) -> Decimal:
        """Above this the delivery is beyond the decision: the ceiling plus the weekday swing."""
        return self.ceiling * (1 + WEEKDAY_SWING)


def decided_in_month(scopes: Sequence[Scope], year: int, month: int) -> Decided | None:
    """The month's decided hours, frame and bounds; None when no scope covers a day of it."""
    first, following = month_bounds(year, month)
    n = Decimal(month_days(year, month))
    hours = ceiling = floor = ZERO
    fmin = fmax = None
    covering = [(s, covered_days(s.start_date, s.end_date, first, following)) for s in scopes]
    covering = [(s, d) for s, d in covering if d > 0]
    if not covering:
        return None
    for s, d in covering:
        share = Decimal(d) / n
        hours += s.hours_per_month * share
        ceiling += s.ceiling * share
        floor += s.floor * share
        if s.is_frame:
            fmin = (fmin or ZERO) + (s.frame_min_hours or ZERO) * share
            fmax = (fmax or ZERO) + s.ceiling * share
    return Decided(
        hours=_h(hours),
        frame_min_hours=None if fmin is None else _h(fmin),
        frame_max_hours=None if fmax is None else _h(fmax),
        ceiling=_h(ceiling),
        floor=_h(floor),
        frames_only=all(s.is_frame for s, _ in covering),
    )


def _h(x: Decimal) -> Decimal:
    return x.quantize(HOURS, ROUND_HALF_UP)


def flags(decided: Decided | None, delivered: Decimal, *, month_over: bool) -> list[FlagKind]:
    """What is flagged. Above: at any time (it cannot come down again). Below: only for a
    month that is over (a running month is always short). Nothing without a decision: visits
    under a pathway assignment before any decision, or for a decision budget has not heard
    of, are not compared here."""
    if decided is None:
        return []
    if delivered > decided.limit:
        return [FlagKind.above_frame_max if decided.frames_only else FlagKind.above_hours]
    if month_over and delivered < decided.floor:
        return [FlagKind.below_frame_min if decided.frames_only else FlagKind.below_half_hours]
    return []


def flag_id(person_id: uuid.UUID, provider_org: str, month: str, kind: str) -> uuid.UUID:
    """One flag per person, provider, month and kind: its id is derived from them."""
    return uuid.uuid5(FLAG_NAMESPACE, f"{person_id}|{provider_org}|{month}|{kind}")


FLAG_NAMESPACE = uuid.UUID("6f1c2a64-3b0e-5d7e-9a51-2f4f5a0b7c11")


# --- measures ordered against done --------------------------------------------------------


@dataclass
class MeasureCount:
    code: str | None
    description: str
    ordered_times: Decimal = ZERO
    done_times: int | None = None  # None: an uncoded measure, which visits cannot name


def measures_in_month(
    scopes: Sequence[Scope], done: Mapping[str, int], year: int, month: int
) -> list[MeasureCount]:
    """Ordered (expected times in the month) against done (visits naming the code), by code.

    Uncoded measures are listed by description with no done count; codes done but never
    ordered are listed with 0 ordered."""
    first, following = month_bounds(year, month)
    n = month_days(year, month)
    out: dict[tuple[str, str], MeasureCount] = {}
    for s in scopes:
        days = covered_days(s.start_date, s.end_date, first, following)
        if days == 0:
            continue
        for m in s.measures:
            key = ("code", m.code) if m.code else ("text", m.description)
            row = out.get(key)
            if row is None:
                row = out[key] = MeasureCount(m.code, m.description)
            row.ordered_times += times_in_month(m.times, m.per, days, n)
    for code, count in done.items():
        row = out.get(("code", code))
        if row is None:
            row = out[("code", code)] = MeasureCount(code, code)
        row.done_times = count
    for (kind, _), row in out.items():
        row.ordered_times = _h(row.ordered_times)
        if kind == "code" and row.done_times is None:
            row.done_times = 0
    return sorted(out.values(), key=lambda r: (r.code is None, r.code or "", r.description))


# --- the settlement: visits beyond the decision -------------------------------------------


@dataclass(frozen=True)
class Timed:
    """A delivered visit as the split sees it, in the order it was delivered."""

    key: object  # the caller's id of the visit
    actual_seconds: int


def split_beyond(visits: Sequence[Timed], limit_hours: Decimal) -> dict[object, int]:
    """Seconds of each visit beyond the decision: visits are taken in the order given
    (delivery order) and count against the month's limit; the visit that crosses it is
    split, every later visit lies beyond wholly. Visits within the limit are absent."""
    limit = int((limit_hours * SECONDS_PER_HOUR).to_integral_value(ROUND_HALF_UP))
    used = 0
    beyond: dict[object, int] = {}
    for v in visits:
        room = max(limit - used, 0)
        used += v.actual_seconds
        over = v.actual_seconds - min(room, v.actual_seconds)
        if over:
            beyond[v.key] = over
    return beyond


@dataclass(frozen=True)
class Limit:
    """Hours a person's decisions allow at one provider in one month: in all, and per
    service type when every decided service names its type (None otherwise)."""

    total: Decimal
    per_service: Mapping[str, Decimal] | None = None


def limit_in_month(scopes: Sequence[Scope], year: int, month: int) -> Limit | None:
    """The month's limits (`Decided.limit`) of a person's scopes at a provider; None when no
    scope covers a day of the month."""
    decided = decided_in_month(scopes, year, month)
    if decided is None:
        return None
    if any(s.service_type is None for s in scopes):
        return Limit(decided.limit)
    per_service = {}
    for t in sorted({s.service_type for s in scopes if s.service_type is not None}):
        d = decided_in_month([s for s in scopes if s.service_type == t], year, month)
        if d is not None:
            per_service[t] = d.limit
    return Limit(decided.limit, per_service)


def beyond_decision(visits: Sequence[tuple[Timed, str | None]], limit: Limit) -> dict[object, int]:
    """Seconds beyond the decision of each of a person's visits at a provider in a month
    (in delivery order, each with its service type).

    Per service when the decisions name every service's type and every visit names its
    type: a service's visits count against that service's limit, and a service never
    decided has none (all of it is beyond). Otherwise (a visit whose provider did not say
    the type, a decision without types) all visits count against the person's total."""
    if limit.per_service is not None and all(t is not None for _, t in visits):
        out: dict[object, int] = {}
        for t in sorted({t for _, t in visits if t is not None}):
            mine = [v for v, vt in visits if vt == t]
            out |= split_beyond(mine, limit.per_service.get(t, ZERO))
        return out
    return split_beyond([v for v, _ in visits], limit.total)


@dataclass
class PersonMonth:
    """One row of decided versus delivered: a person at a provider in a month."""

    person_id: uuid.UUID
    provider_org: str
    district: str | None
    month: str
    decided: Decided | None
    delivered_hours: Decimal
    measures: list[MeasureCount] = field(default_factory=list)
    scope_kinds: list[str] = field(default_factory=list)
    flags: list[FlagKind] = field(default_factory=list)

    @property
    def difference_hours(self) -> Decimal | None:
        """Delivered minus decided (negative: less delivered); None without a decision."""
        return None if self.decided is None else self.delivered_hours - self.decided.hours
