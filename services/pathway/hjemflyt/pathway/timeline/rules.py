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
    decision_activated = "decision-activated"
    decision_ended = "decision-ended"
    provider_chosen = "provider-chosen"
    appeal_received = "appeal-received"
    appeal_decided = "appeal-decided"
    order_created = "order-created"
    # Added with worklists: the person's stays, and every order and report step.
    person_admitted = "person-admitted"
    person_discharged = "person-discharged"
    admission_cancelled = "admission-cancelled"  # the hospital withdrew its admission message
    admission_reopened = "admission-reopened"  # ... or its discharge message
    order_changed = "order-changed"
    order_acknowledged = "order-acknowledged"
    order_paused = "order-paused"
    order_resumed = "order-resumed"
    order_ended = "order-ended"
    # The provider's adjustment log (issue 12): adjustments and the case office's overrules.
    order_adjusted = "order-adjusted"
    adjustment_overruled = "adjustment-overruled"
    start_confirmed = "start-confirmed"
    visits_reported = "visits-reported"
    deviation_reported = "deviation-reported"
    change_of_need_reported = "change-of-need-reported"
    change_of_need_answered = "change-of-need-answered"
    masters_daily_life_reported = "masters-daily-life-reported"
    clarification_requested = "clarification-requested"
    clarification_answered = "clarification-answered"
    clarification_overdue = "clarification-overdue"
    urgent_request_sent = "urgent-request-sent"
    urgent_request_answered = "urgent-request-answered"
    urgent_request_escalated = "urgent-request-escalated"
    task_opened = "task-opened"
    task_closed = "task-closed"
    # pathway assignments (orders before any decision, pathway 1)
    assignment_issued = "assignment-issued"
    assignment_ended = "assignment-ended"
    # budget: a month's delivery above the decision or far below it (issue 12)
    delivery_flagged = "delivery-flagged"
    # pathway's own events (consumed from its own stream, like any other producer's)
    pathway_opened = "pathway-opened"
    pathway_closed = "pathway-closed"
    pathway_task_opened = "pathway-task-opened"


def moment(day: date, recorded_at: datetime) -> datetime:
    """When a step that the event dates only by a legal date happened.

    The payload's date is what counts. If the producer recorded the step on that same day
    (Europe/Oslo), its record time places the step among that day's other steps; a step
    dated another day (registered later, back-dated) is placed at the start of that day.
    """
    if recorded_at.tzinfo is not None and recorded_at.astimezone(OSLO).date() == day:
        return recorded_at.astimezone(UTC)
    return datetime.combine(day, time(0), OSLO).astimezone(UTC)
