"""Events of the pathway service: pathways opened and closed, deadline tasks opened.

Pseudonymous: a `person_id`, never identity numbers or names.
"""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from pydantic import Field

from hjemflyt.shared.contracts.events import EventData
from hjemflyt.shared.contracts.registry import EventType, register


class PathwayOpened(EventData):
    pathway_id: UUID
    person_id: UUID
    district: str
    kind: int = Field(
        ge=0, le=3, description="0 follow-up call | 1 mastery in 2 weeks | 2 reablement | 3 palliative"
    )
    opened_on: date
    planned_end: date | None = Field(description="By the template; null: no maximum (pathway 3)")
    source: str = Field(description="referral.received | person.discharged | manual")
    opened_at: datetime


class PathwayClosed(EventData):
    pathway_id: UUID
    person_id: UUID
    district: str
    kind: int = Field(ge=0, le=3)
    opened_on: date
    planned_end: date | None
    closed_on: date
    outcome: str = Field(description="no_services | reduced | unchanged | increased")
    overdue: bool = Field(description="Closed after its planned end")
    closed_at: datetime


class PathwayTaskOpened(EventData):
    """A deadline of a pathway passed: the case office must act (pathway's worklists)."""

    task_id: UUID
    kind: str = Field(description="decision_required | new_decision_required | overdue")
    pathway_id: UUID
    person_id: UUID
    district: str
    pathway_kind: int = Field(ge=0, le=3)
    due_date: date
    opened_at: datetime


PATHWAY_OPENED = register(
    EventType(
        "pathway",
        "pathway",
        "opened",
        1,
        PathwayOpened,
        "A pathway (pasientforløp) opened, from a referral, a discharge or by hand.",
    )
)
PATHWAY_CLOSED = register(
    EventType(
        "pathway",
        "pathway",
        "closed",
        1,
        PathwayClosed,
        "A pathway closed with its outcome (no services, reduced, unchanged, increased).",
    )
)
PATHWAY_TASK_OPENED = register(
    EventType(
        "pathway",
        "task",
        "opened",
        1,
        PathwayTaskOpened,
        "A pathway's deadline passed: a decision is required, a new decision is required, "
        "or the pathway is past its planned end (a forgotten closure).",
    )
)
