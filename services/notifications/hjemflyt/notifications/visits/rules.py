"""The rules a visit must keep beyond its schema (pure)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from hjemflyt.notifications.visits.schemas import VisitIn
from hjemflyt.shared.platform.clock import OSLO

LONGEST_VISIT = timedelta(hours=24)
# Clocks on providers' devices run a little ahead.
FUTURE_TOLERANCE = timedelta(minutes=15)


def visit_problems(v: VisitIn, now: datetime) -> list[tuple[str, str]]:
    """(rule, message) for each rule the visit breaks; empty if it keeps them all."""
    return [*_time_problems(v, now), *_cancel_problems(v)]


def _time_problems(v: VisitIn, now: datetime) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    if v.planned_end <= v.planned_start:
        out.append(("planned-end-before-start", "planned_end must be after planned_start"))
    elif v.planned_end - v.planned_start > LONGEST_VISIT:
        out.append(("visit-too-long", "a planned visit lasts at most 24 hours"))
    if v.actual_start is not None and v.actual_end is not None:
        if v.actual_end < v.actual_start:
            out.append(("actual-end-before-start", "actual_end must not be before actual_start"))
        elif v.actual_end - v.actual_start > LONGEST_VISIT:
            out.append(("visit-too-long", "an actual visit lasts at most 24 hours"))
    elif v.actual_end is not None:
        out.append(("actual-end-without-start", "actual_end needs actual_start"))
    latest = now + FUTURE_TOLERANCE
    if (v.actual_start and v.actual_start > latest) or (v.actual_end and v.actual_end > latest):
        out.append(("visit-in-future", "a visit cannot have taken place in the future"))
    return out


def _cancel_problems(v: VisitIn) -> list[tuple[str, str]]:
    """A cancelled visit has a cause and nothing done; one that took place has times and staff."""
    out: list[tuple[str, str]] = []
    if v.cancelled:
        if v.cancel_cause is None:
            out.append(("cancel-cause-required", "a cancelled visit needs cancel_cause"))
        if v.measures_done:
            out.append(("cancelled-with-measures", "a cancelled visit has no measures done"))
        return out
    if v.cancel_cause is not None:
        out.append(("cancel-cause-without-cancel", "cancel_cause is only for cancelled visits"))
    if v.actual_start is None or v.actual_end is None:
        out.append(("actual-times-required", "a visit that took place needs actual_start and actual_end"))
    if v.staff_id is None:
        out.append(("staff-required", "a visit that took place needs the staff id"))
    return out


def visit_day(v: VisitIn) -> date:
    """The day a visit belongs to (where it was planned, in Norway)."""
    return v.planned_start.astimezone(OSLO).date()
