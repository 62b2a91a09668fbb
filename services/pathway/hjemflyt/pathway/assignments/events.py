"""Consumed: assessment's assignment events keep pathway's read model of each person's
pathway assignments (orders before any decision)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from hjemflyt.pathway.assignments.repository import AssignmentRepository
from hjemflyt.shared.contracts.assignments import (
    ASSIGNMENT_ENDED,
    ASSIGNMENT_ISSUED,
    AssignmentEnded,
    AssignmentIssued,
)
from hjemflyt.shared.contracts.envelope import CloudEvent
from hjemflyt.shared.platform.consumer import Subscription


async def on_assignment_issued(session: AsyncSession, event: CloudEvent, data: AssignmentIssued) -> None:
    await AssignmentRepository(session).record_issued(
        {
            "assignment_id": data.assignment_id,
            "person_id": data.person_id,
            "district": data.district,
            "provider_org": data.provider_org,
            "pathway_id": data.pathway_id,
            "start_date": data.start_date,
            "end_date": data.end_date,
            "end_reason": None,
            "changed_at": data.issued_at,
        }
    )


async def on_assignment_ended(session: AsyncSession, event: CloudEvent, data: AssignmentEnded) -> None:
    await AssignmentRepository(session).record_end(
        {
            "assignment_id": data.assignment_id,
            "person_id": data.person_id,
            "district": data.district,
            "provider_org": data.provider_org,
            "pathway_id": data.pathway_id,
            "start_date": data.start_date,
            "end_date": data.end_date,
            "end_reason": data.reason,
            "changed_at": data.ended_at,
        }
    )


ASSESSMENT: list[Subscription[Any]] = [
    Subscription(ASSIGNMENT_ISSUED, on_assignment_issued),
    Subscription(ASSIGNMENT_ENDED, on_assignment_ended),
]
