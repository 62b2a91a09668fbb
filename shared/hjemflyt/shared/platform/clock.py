"""The one source of time. Nothing else calls `datetime.now()`.

Deadlines (evaluation dates, appeal deadlines, acknowledgement deadlines, tertials) are
computed from `Clock.now()`. Tests and the development clock control move an offset;
production uses the system clock with no offset and no control endpoint.
"""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

OSLO = ZoneInfo("Europe/Oslo")


class Clock:
    """UTC wall clock with a movable offset (zero unless development clock control moves it)."""

    def __init__(self, offset: timedelta = timedelta(0)) -> None:
        self._offset = offset
        self._lock = threading.Lock()

    def now(self) -> datetime:
        return datetime.now(UTC) + self._offset

    def today(self) -> date:
        """The legal date today, in Norway."""
        return self.now().astimezone(OSLO).date()

    @property
    def offset(self) -> timedelta:
        return self._offset

    def advance(self, delta: timedelta) -> None:
        if delta < timedelta(0):
            raise ValueError("time only moves forward")
        with self._lock:
            self._offset += delta

    def set_offset(self, offset: timedelta) -> None:
        with self._lock:
            self._offset = offset


class FixedClock(Clock):
    """A clock that stands still until moved; for unit tests of time rules."""

    def __init__(self, at: datetime) -> None:
        if at.tzinfo is None:
            raise ValueError("FixedClock needs an aware datetime")
        super().__init__()
        self._at = at.astimezone(UTC)

    def now(self) -> datetime:
        return self._at + self.offset
