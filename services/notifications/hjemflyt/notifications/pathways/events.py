"""Consumed from pathway: `pathway.opened`, `pathway.closed` (the read model orders name)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from hjemflyt.notifications.pathways import service
from hjemflyt.shared.contracts.envelope import CloudEvent
from hjemflyt.shared.contracts.pathway import PATHWAY_CLOSED, PATHWAY_OPENED, PathwayClosed, PathwayOpened
from hjemflyt.shared.platform.consumer import Subscription
from hjemflyt.shared.platform.context import ServiceContext


def subscriptions(ctx: ServiceContext) -> list[Subscription[Any]]:
    async def on_opened(session: AsyncSession, event: CloudEvent, data: PathwayOpened) -> None:
        await service.opened(ctx, session, data)

    async def on_closed(session: AsyncSession, event: CloudEvent, data: PathwayClosed) -> None:
        await service.closed(ctx, session, data)

    return [Subscription(PATHWAY_OPENED, on_opened), Subscription(PATHWAY_CLOSED, on_closed)]
