"""Consumed: the provider registry's events, to know who may be chosen."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from hjemflyt.assessment.providers.repository import ProviderRepository
from hjemflyt.shared.contracts.envelope import CloudEvent
from hjemflyt.shared.contracts.events import PROVIDER_REGISTERED, ProviderRegistered
from hjemflyt.shared.platform.consumer import Subscription


async def on_provider_registered(session: AsyncSession, event: CloudEvent, data: ProviderRegistered) -> None:
    await ProviderRepository(session).upsert_if_newer(data.model_dump(mode="json"))


SUBSCRIPTIONS = [Subscription(PROVIDER_REGISTERED, on_provider_registered)]
