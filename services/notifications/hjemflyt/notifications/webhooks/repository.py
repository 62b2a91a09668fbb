"""All SQL of webhook endpoints."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hjemflyt.notifications.webhooks.models import WebhookEndpoint


async def provider_has_webhook(session: AsyncSession, provider_org: str) -> bool:
    stmt = select(WebhookEndpoint.active).where(WebhookEndpoint.provider_org == provider_org)
    return bool(await session.scalar(stmt))
