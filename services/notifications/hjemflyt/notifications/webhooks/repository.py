"""All SQL of webhook endpoints."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from hjemflyt.notifications.webhooks.models import WebhookEndpoint
from hjemflyt.shared.platform.repository import Repository


async def provider_has_webhook(session: AsyncSession, provider_org: str) -> bool:
    stmt = select(WebhookEndpoint.active).where(WebhookEndpoint.provider_org == provider_org)
    return bool(await session.scalar(stmt))


class WebhookRepository(Repository):
    async def get(self, provider_org: str, *, for_update: bool = False) -> WebhookEndpoint | None:
        stmt = select(WebhookEndpoint).where(WebhookEndpoint.provider_org == provider_org)
        if for_update:
            stmt = stmt.with_for_update()
        return await self.session.scalar(stmt)

    async def add(self, values: dict[str, object]) -> WebhookEndpoint | None:
        """Insert; None if a concurrent request created the row first."""
        stmt = insert(WebhookEndpoint).values(**values).on_conflict_do_nothing().returning(WebhookEndpoint)
        return (await self.session.scalars(stmt)).first()

    async def active_for(self, provider_orgs: Iterable[str]) -> dict[str, WebhookEndpoint]:
        stmt = select(WebhookEndpoint).where(
            WebhookEndpoint.provider_org.in_(sorted(set(provider_orgs))), WebhookEndpoint.active.is_(True)
        )
        return {w.provider_org: w for w in (await self.session.scalars(stmt)).all()}
