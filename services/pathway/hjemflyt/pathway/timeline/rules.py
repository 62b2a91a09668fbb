"""Pure rules of the timeline: the kinds of entry and when a date-only step happened."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from enum import StrEnum

from hjemflyt.shared.platform.clock import OSLO


class EntryKind(StrEnum):
    referral_received = "referral-received"
    application_registered = "application-registered"
    assessment_completed = "assessment-completed"
    decision_made = "decision-made"
    decision_amended = "decision-amended"
    decision_ended = "decision-ended"
    provider_chosen = "provider-chosen"
    appeal_received = "appeal-received"
    appeal_decided = "appeal-decided"
    order_created = "order-created"


def moment(day: date, recorded_at: datetime) -> datetime:
    """When a step that the event dates only by a legal date happened.

    The payload's date is what counts. If the producer recorded the step on that same day
    (Europe/Oslo), its record time places the step among that day's other steps; a step
    dated another day (registered later, back-dated) is placed at the start of that day.
    """
    if recorded_at.tzinfo is not None and recorded_at.astimezone(OSLO).date() == day:
        return recorded_at.astimezone(UTC)
    return datetime.combine(day, time(0), OSLO).astimezone(UTC)
