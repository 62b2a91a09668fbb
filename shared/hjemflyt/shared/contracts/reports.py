"""Events of the notifications service: reports (see events.py for the envelope rules).

What providers report back (start confirmations, visits, deviations, change-of-need reports,
"the person masters this") and the case office's answers (change-of-need answers,
clarifications both ways, urgent requests). All pseudonymous: `person_id`, never names or
identity numbers; staff only as the provider's pseudonymous staff id; no free text that may
name someone (descriptions, notes and answers stay in the notifications service).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from uuid import UUID

from pydantic import Field

from hjemflyt.shared.contracts.events import EventData
from hjemflyt.shared.contracts.registry import EventType, register


class StartConfirmed(EventData):
    order_id: UUID
    order_version: int = Field(description="The version of the order (its decision version) confirmed")
    person_id: UUID
    provider_org: str
    district: str
    started_on: date
    primary_contact_staff_id: str = Field(description="The provider's pseudonymous id of the primary contact")
    confirmed_at: datetime


class ReportedVisit(EventData):
    visit_id: str = Field(description="The provider's own id of the visit (unique per provider)")
    order_id: UUID
    person_id: UUID
    district: str
    planned_start: datetime
    planned_end: datetime
    # Optional so events from before it was added still read (a compatible change).
    service_type: str | None = Field(
        default=None,
        description="The municipality's service type code the visit delivered (one of the order's); "
        "null when the provider did not say and the order holds several",
    )
    actual_start: datetime | None = None
    actual_end: datetime | None = None
    staff_id: str | None = Field(default=None, description="Pseudonymous staff id")
    measures_done: list[str] = Field(default_factory=list)
    cancelled: bool = False
    cancel_cause: str | None = Field(
        default=None, description="user_not_home | user_cancelled | admitted | provider_cancelled | other"
    )


class VisitsReported(EventData):
    """One chunk (at most 1,000 visits) of a visit batch; a batch is `chunks` events."""

    provider_org: str
    batch_id: str
    chunk: int = Field(ge=1)
    chunks: int = Field(ge=1)
    visits: list[ReportedVisit]
    reported_at: datetime


class DeviationReported(EventData):
    deviation_id: UUID
    order_id: UUID
    person_id: UUID
    provider_org: str
    district: str
    severity: str = Field(description="low | medium | high | critical")
    category: str
    occurred_at: datetime
    reported_at: datetime


class ChangeOfNeedReported(EventData):
    change_of_need_id: UUID
    order_id: UUID
    person_id: UUID
    provider_org: str
    district: str
    proposed_hours_per_month: Decimal | None = None
    reported_at: datetime


class ChangeOfNeedAnswered(EventData):
    change_of_need_id: UUID
    order_id: UUID
    person_id: UUID
    provider_org: str
    district: str
    outcome: str = Field(description="accepted | partly_accepted | declined | reassessment_scheduled")
    answered_at: datetime


class MastersDailyLifeReported(EventData):
    report_id: UUID
    order_id: UUID
    person_id: UUID
    provider_org: str
    district: str
    observed_on: date
    reported_at: datetime


class ClarificationRequested(EventData):
    clarification_id: UUID
    direction: str = Field(description="provider_to_case_office | case_office_to_provider")
    order_id: UUID
    person_id: UUID
    provider_org: str
    district: str
    due_date: date
    requested_at: datetime


class ClarificationAnswered(EventData):
    clarification_id: UUID
    direction: str
    order_id: UUID
    person_id: UUID
    provider_org: str
    district: str
    late: bool = Field(description="Answered after the due date")
    answered_at: datetime


class ClarificationOverdue(EventData):
    clarification_id: UUID
    direction: str
    order_id: UUID
    person_id: UUID
    provider_org: str
    district: str
    due_date: date
    overdue_at: datetime


class UrgentRequestSent(EventData):
    urgent_request_id: UUID
    order_id: UUID
    person_id: UUID
    provider_org: str
    district: str
    urgency: str = Field(description="immediate | within_hours | today")
    respond_by: datetime
    sent_at: datetime


class UrgentRequestAnswered(EventData):
    urgent_request_id: UUID
    order_id: UUID
    person_id: UUID
    provider_org: str
    district: str
    accepted: bool
    late: bool = Field(description="Answered after the response deadline")
    answered_at: datetime


class UrgentRequestEscalated(EventData):
    urgent_request_id: UUID
    order_id: UUID
    person_id: UUID
    provider_org: str
    district: str
    reason: str = Field(description="declined | no_answer")
    escalated_at: datetime


START_CONFIRMED = register(
    EventType(
        "notifications",
        "start",
        "confirmed",
        1,
        StartConfirmed,
        "A provider confirmed that it started delivering an order, naming the primary contact "
        "(as a pseudonymous staff id).",
    )
)
VISITS_REPORTED = register(
    EventType(
        "notifications",
        "visits",
        "reported",
        1,
        VisitsReported,
        "Visits a provider reported (planned and actual times, pseudonymous staff, measures done, "
        "cancellations with cause), in chunks of at most 1,000 per event.",
    )
)
DEVIATION_REPORTED = register(
    EventType(
        "notifications",
        "deviation",
        "reported",
        1,
        DeviationReported,
        "A provider reported a deviation (avvik) with its severity and category.",
    )
)
CHANGE_OF_NEED_REPORTED = register(
    EventType(
        "notifications",
        "change_of_need",
        "reported",
        1,
        ChangeOfNeedReported,
        "A provider reported a changed need (endringsmelding); the case office must answer it.",
    )
)
CHANGE_OF_NEED_ANSWERED = register(
    EventType(
        "notifications",
        "change_of_need",
        "answered",
        1,
        ChangeOfNeedAnswered,
        "The case office answered a change-of-need report.",
    )
)
MASTERS_DAILY_LIFE_REPORTED = register(
    EventType(
        "notifications",
        "masters_daily_life",
        "reported",
        1,
        MastersDailyLifeReported,
        "A provider reports that the person masters daily life: the case office may end the service.",
    )
)
CLARIFICATION_REQUESTED = register(
    EventType(
        "notifications",
        "clarification",
        "requested",
        1,
        ClarificationRequested,
        "A clarification was requested about an order, by the provider or by the case office.",
    )
)
CLARIFICATION_ANSWERED = register(
    EventType(
        "notifications",
        "clarification",
        "answered",
        1,
        ClarificationAnswered,
        "A clarification request was answered by the other side.",
    )
)
CLARIFICATION_OVERDUE = register(
    EventType(
        "notifications",
        "clarification",
        "overdue",
        1,
        ClarificationOverdue,
        "A clarification request was not answered by its due date.",
    )
)
URGENT_REQUEST_SENT = register(
    EventType(
        "notifications",
        "urgent_request",
        "sent",
        1,
        UrgentRequestSent,
        "An urgent request (e.g. emergency GP to home nursing) was sent to a provider.",
    )
)
URGENT_REQUEST_ANSWERED = register(
    EventType(
        "notifications",
        "urgent_request",
        "answered",
        1,
        UrgentRequestAnswered,
        "A provider accepted or declined an urgent request.",
    )
)
URGENT_REQUEST_ESCALATED = register(
    EventType(
        "notifications",
        "urgent_request",
        "escalated",
        1,
        UrgentRequestEscalated,
        "An urgent request was declined or not answered in time: the case office must act.",
    )
)
