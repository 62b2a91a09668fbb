"""Consumed: a provider's start confirmation names the person's primary contact (per order)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from hjemflyt.pathway.responsibility.repository import ResponsibilityRepository
from hjemflyt.shared.contracts.envelope import CloudEvent
from hjemflyt.shared.contracts.reports import START_CONFIRMED, StartConfirmed
from hjemflyt.shared.platform.consumer import Subscription


async def on_start_confirmed(session: AsyncSession, event: CloudEvent, data: StartConfirmed) -> None:
    await ResponsibilityRepository(session).record_primary_contact(
        {
            "order_id": data.order_id,
            "person_id": data.person_id,
            "provider_org": data.provider_org,
            "district": data.district,
            "order_version": data.order_version,
            "staff_id": data.primary_contact_staff_id,
            "started_on": data.started_on,
            "confirmed_at": data.confirmed_at,
        }
    )


NOTIFICATIONS: list[Subscription[Any]] = [Subscription(START_CONFIRMED, on_start_confirmed)]
