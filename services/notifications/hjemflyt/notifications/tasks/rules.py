"""Task kinds and their titles (pure)."""

from __future__ import annotations

from enum import StrEnum


class TaskKind(StrEnum):
    order_unacknowledged = "order_unacknowledged"
    order_rejected = "order_rejected"
    delivery_failed = "delivery_failed"
    change_of_need = "change_of_need"
    clarification_request = "clarification_request"
    clarification_overdue = "clarification_overdue"
    urgent_request_escalated = "urgent_request_escalated"
    routine_unacknowledged = "routine_unacknowledged"
    masters_daily_life = "masters_daily_life"
    deviation = "deviation"


TITLES: dict[TaskKind, str] = {
    TaskKind.order_unacknowledged: "The provider has not acknowledged the order in time",
    TaskKind.order_rejected: "The provider rejected the order: the person must choose again",
    TaskKind.delivery_failed: "A message could not be delivered to the provider",
    TaskKind.change_of_need: "Change-of-need report to assess and answer",
    TaskKind.clarification_request: "The provider asks for a clarification",
    TaskKind.clarification_overdue: "A clarification request was not answered in time",
    TaskKind.urgent_request_escalated: "An urgent request was declined or not answered in time",
    TaskKind.routine_unacknowledged: "A provider has not acknowledged a published routine",
    TaskKind.masters_daily_life: "The provider reports that the person masters this: consider ending",
    TaskKind.deviation: "A serious deviation was reported",
}
