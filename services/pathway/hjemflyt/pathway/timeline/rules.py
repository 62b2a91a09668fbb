"""Pure rules of the timeline: the kinds of entry, when a date-only step happened, and how
an event becomes an entry (`Entry`, one row of the table in `entries.py`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import Decimal
from enum import StrEnum
from typing import Any
from uuid import UUID

from pydantic import BaseModel

from hjemflyt.shared.contracts.envelope import CloudEvent
from hjemflyt.shared.contracts.registry import EventType
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


When = Callable[[Any, CloudEvent], datetime]


def on_day(day: str, recorded: str | None = None) -> When:
    """A step the payload dates only by a legal date: placed on that day by `moment`, at the
    payload's `recorded` time or else the event's."""
    return lambda data, event: moment(getattr(data, day), getattr(data, recorded) if recorded else event.time)


def plain(value: object) -> object:
    """A payload value as the entry's details store it (JSON): ids and amounts as strings,
    dates and times in ISO 8601, a contract model as its JSON (only the contract's fields:
    fields a later producer adds are not copied unseen)."""
    if isinstance(value, UUID | Decimal):
        return str(value)
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


@dataclass(frozen=True, eq=False)
class Entry:
    """How one event type becomes a timeline entry."""

    event_type: EventType[Any]
    kind: EntryKind
    at: str | When  # the payload's time of the step, or how to place a dated step
    reference: str  # the payload field naming what the entry is about
    details: tuple[str, ...] = ()  # payload fields copied under their own name
    renamed: Mapping[str, str] = field(default_factory=dict)  # detail -> payload field
    # Entries that arrived without a district (its orders, on another stream) get this one's.
    fills_district: bool = False

    def __post_init__(self) -> None:
        # A misspelt field fails at start-up, not on the first event.
        fields = self.event_type.model.model_fields
        named = [self.reference, *self.details, *self.renamed.values()]
        if isinstance(self.at, str):
            named.append(self.at)
        if missing := [n for n in named if n not in fields]:
            raise ValueError(f"{self.event_type.name} has no field {', '.join(missing)}")

    @property
    def source(self) -> str:
        return self.event_type.service

    def row(
        self,
        event: CloudEvent,
        data: Any,
        *,
        person_id: UUID,
        district: str | None,
        more: Mapping[str, object] | None = None,
    ) -> dict[str, object]:
        """The entry's row for `data` (one event, one person), keyed by the event's id;
        `more` details where the event has more than its row says."""
        at = getattr(data, self.at) if isinstance(self.at, str) else self.at(data, event)
        fields = {**{name: name for name in self.details}, **self.renamed}
        details = {key: plain(getattr(data, name)) for key, name in fields.items()}
        return {
            "event_id": event.id,
            "person_id": person_id,
            "district": district,
            "kind": self.kind.value,
            "occurred_at": at,
            "source": self.source,
            "reference": str(getattr(data, self.reference)),
            "details": {**details, **(more or {})},
        }
