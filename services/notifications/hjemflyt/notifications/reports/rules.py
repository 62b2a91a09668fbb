"""Rules of the provider reports (pure)."""

from __future__ import annotations

from datetime import datetime, timedelta

from hjemflyt.notifications.reports.schemas import Severity

# Clocks on providers' devices run a little ahead.
FUTURE_TOLERANCE = timedelta(minutes=15)
# Deviations the case office must follow up itself (a task), not only see in statistics.
TASK_SEVERITIES = frozenset({Severity.high, Severity.critical})


def in_future(at: datetime, now: datetime) -> bool:
    return at > now + FUTURE_TOLERANCE


def needs_task(severity: Severity) -> bool:
    return severity in TASK_SEVERITIES
