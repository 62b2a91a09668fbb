"""Consumed: assessment's decision events keep pathway's read model of each person's decisions."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from hjemflyt.pathway.decisions.repository import DecisionRepository
from hjemflyt.shared.contracts.envelope import CloudEvent
from hjemflyt.shared.contracts.events import (
    DECISION_AMENDED,
    DECISION_ENDED,
    DECISION_MADE,
    DecisionAmended,
    DecisionEnded,
    DecisionMade,
)
from hjemflyt.shared.platform.consumer import Subscription


async def on_decision_made(session: AsyncSession, event: CloudEvent, data: DecisionMade) -> None:
    await DecisionRepository(session).record_version(
        {
            "decision_id": data.decision_id,
            "person_id": data.person_id,
            "district": data.district,
            "version": data.version,
            "status": "made",
            "start_date": data.start_date,
            "end_date": data.end_date,
            "evaluation_date": data.evaluation_date,
            "end_reason": None,
            "changed_at": data.made_at,
        }
    )


async def on_decision_amended(session: AsyncSession, event: CloudEvent, data: DecisionAmended) -> None:
    await DecisionRepository(session).record_version(
        {
            "decision_id": data.decision_id,
            "person_id": data.person_id,
            "district": data.district,
            "version": data.version,
            "status": "amended",
            "start_date": data.start_date,
            "end_date": data.end_date,
            "evaluation_date": data.evaluation_date,
            "end_reason": None,
            "changed_at": data.amended_at,
        }
    )


async def on_decision_ended(session: AsyncSession, event: CloudEvent, data: DecisionEnded) -> None:
    await DecisionRepository(session).record_end(
        {
            "decision_id": data.decision_id,
            "person_id": data.person_id,
            "district": data.district,
            "version": data.version,
            "end_date": data.end_date,
            "end_reason": data.reason,
            "changed_at": data.ended_at,
        }
    )


ASSESSMENT: list[Subscription[Any]] = [
    Subscription(DECISION_MADE, on_decision_made),
    Subscription(DECISION_AMENDED, on_decision_amended),
    Subscription(DECISION_ENDED, on_decision_ended),
]
