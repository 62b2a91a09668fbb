"""The one source of time. Nothing else calls `datetime.now()`.

Deadlines (evaluation dates, appeal deadlines, acknowledgement deadlines, tertials) are
computed from `Clock.now()`. Production uses the system clock as it is. Outside production
two things may move it: a fixed `shift` from settings (`HJEMFLYT_CLOCK_SHIFT_SECONDS`: the
test suite pins every process to one day with it) and a forward-only `offset` that tests and
the development clock control advance.
"""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

OSLO = ZoneInfo("Europe/Oslo")


class Clock:
    """UTC wall clock moved by a fixed shift and a forward-only offset (both zero in production).

    The shift says which day the process lives in (set once, at start); the offset is how far
    tests and the development clock control have moved time since (`/_dev/clock` reports it).
    """

    def __init__(self, offset: timedelta = timedelta(0), *, shift: timedelta = timedelta(0)) -> None:
        self._offset = offset
        self._shift = shift
        self._lock = threading.Lock()

    def now(self) -> datetime:
        return datetime.now(UTC) + self._shift + self._offset  # noqa: TID251 - the one clock

    @staticmethod
    def wall_now() -> datetime:
        """The system clock, unmoved: for timestamps that others check against their own system
        clock (a token's iat/exp, a webhook signature's timestamp), never for domain time."""
        return datetime.now(UTC)  # noqa: TID251 - the one clock

    def today(self) -> date:
        """The legal date today, in Norway."""
        return self.now().astimezone(OSLO).date()

    @property
    def offset(self) -> timedelta:
        return self._offset

    @property
    def shift(self) -> timedelta:
        return self._shift

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
