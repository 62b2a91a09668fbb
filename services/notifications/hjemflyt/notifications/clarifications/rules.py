"""Due dates of clarification requests (pure)."""

from __future__ import annotations

from datetime import date, timedelta

DEFAULT_DAYS = 3
LONGEST_DAYS = 60


def due_date(requested: date | None, today: date) -> tuple[date | None, str | None]:
    """(the due date, None) or (None, the rule it breaks)."""
    due = requested or today + timedelta(days=DEFAULT_DAYS)
    if due < today:
        return None, "due-date-in-past"
    if due > today + timedelta(days=LONGEST_DAYS):
        return None, "due-date-too-far"
    return due, None


def is_overdue(due: date, today: date) -> bool:
    """The due day is the last day to answer."""
    return today > due
