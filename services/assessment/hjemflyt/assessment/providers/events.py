"""Consumed: the provider registry's events, to know who may be chosen."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from hjemflyt.assessment.providers.models import ApprovedProvider
from hjemflyt.assessment.providers.repository import ProviderRepository
from hjemflyt.shared.contracts.envelope import CloudEvent
from hjemflyt.shared.contracts.events import PROVIDER_REGISTERED, ProviderRegistered
from hjemflyt.shared.platform.consumer import Subscription

# What the read model keeps; fields the registry adds to its event later are not ours to store.
COLUMNS = frozenset(c.key for c in ApprovedProvider.__table__.columns)


async def on_provider_registered(session: AsyncSession, event: CloudEvent, data: ProviderRegistered) -> None:
    values = {k: v for k, v in data.model_dump(mode="json").items() if k in COLUMNS}
    await ProviderRepository(session).upsert_if_newer(values)


SUBSCRIPTIONS = [Subscription(PROVIDER_REGISTERED, on_provider_registered)]
