"""Consumed: decisions (decided hours) and the provider registry (unit names)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from hjemflyt.budget.hours.repository import HoursRepository
from hjemflyt.shared.contracts.envelope import CloudEvent
from hjemflyt.shared.contracts.events import (
    DECISION_MADE,
    PROVIDER_REGISTERED,
    DecisionMade,
    ProviderRegistered,
)
from hjemflyt.shared.platform.consumer import Subscription


async def on_decision_made(session: AsyncSession, event: CloudEvent, data: DecisionMade) -> None:
    await HoursRepository(session).apply(
        [
            {
                "decision_id": data.decision_id,
                "service_code": s.service_code,
                "decision_version": data.version,
                "person_id": data.person_id,
                "district": data.district,
                "provider_org": s.provider_org,
                "hours_per_month": s.hours_per_month,
                "start_date": data.start_date,
                "end_date": data.end_date,
            }
            for s in data.services
        ]
    )


async def on_provider_registered(session: AsyncSession, event: CloudEvent, data: ProviderRegistered) -> None:
    await HoursRepository(session).upsert_unit(
        {
            "provider_org": data.provider_org,
            "name": data.name,
            "kind": data.kind.value,
            "version": data.version,
        }
    )


ASSESSMENT = [Subscription(DECISION_MADE, on_decision_made)]
NOTIFICATIONS = [Subscription(PROVIDER_REGISTERED, on_provider_registered)]
