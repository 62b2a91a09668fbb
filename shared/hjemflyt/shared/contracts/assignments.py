"""Events of assessment's pathway assignments: in pathway 1 the case office sends the
provider an assignment before any decision (DOMAIN §§ 2, 5). None is needed for 14 days;
measures that run longer need a decision.

Pseudonymous: a `person_id`, never identity numbers or names. The provider's order for an
assignment is the ordinary `order.issued` with `basis` "assignment" and `decision_id` the
assignment's id.
"""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from pydantic import Field

from hjemflyt.shared.contracts.events import DecidedService, EventData
from hjemflyt.shared.contracts.registry import EventType, register


class AssignmentIssued(EventData):
    assignment_id: UUID
    person_id: UUID
    district: str
    provider_org: str = Field(pattern=r"^\d{9}$")
    pathway_id: UUID | None = Field(default=None, description="The pathway the person is in, if named")
    start_date: date
    end_date: date = Field(description="The last day; at most 14 days from the start, both included")
    services: list[DecidedService]
    issued_at: datetime


class AssignmentEnded(EventData):
    assignment_id: UUID
    person_id: UUID
    district: str
    provider_org: str = Field(pattern=r"^\d{9}$")
    pathway_id: UUID | None = None
    start_date: date
    end_date: date = Field(description="The last day measures ran under the assignment")
    reason: str = Field(
        description="ended | masters_daily_life | deceased | moved | nursing_home | own_wish | superseded"
    )
    superseded_by: UUID | None = Field(default=None, description="The decision that replaced it")
    ended_at: datetime


ASSIGNMENT_ISSUED = register(
    EventType(
        "assessment",
        "assignment",
        "issued",
        1,
        AssignmentIssued,
        "A pathway assignment was sent to a provider before any decision (pathway 1, at most 14 days).",
    )
)
ASSIGNMENT_ENDED = register(
    EventType(
        "assessment",
        "assignment",
        "ended",
        1,
        AssignmentEnded,
        "A pathway assignment ended early, by hand or superseded by a decision for the same provider.",
    )
)
