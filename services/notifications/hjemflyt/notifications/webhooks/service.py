"""Set, rotate and remove a provider's webhook. Secrets are shown once and kept encrypted
(we sign with them, so a hash would not do)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from hjemflyt.notifications.messages.repository import MessageRepository
from hjemflyt.notifications.providers.repository import ProviderRepository
from hjemflyt.notifications.providers.service import organisation_number
from hjemflyt.notifications.webhooks import rules
from hjemflyt.notifications.webhooks.models import WebhookEndpoint
from hjemflyt.notifications.webhooks.repository import WebhookRepository
from hjemflyt.notifications.webhooks.schemas import WebhookIn, WebhookOut, WebhookSecretOut
from hjemflyt.shared.platform.auth import Principal, Role, Scope
from hjemflyt.shared.platform.context import ServiceContext
from hjemflyt.shared.platform.errors import Forbidden, NotFound

# How long the previous secret stays valid after a rotation.
ROTATION = timedelta(hours=24)


def out(endpoint: WebhookEndpoint, ctx: ServiceContext, secret: str | None = None) -> WebhookSecretOut:
    rotating = endpoint.previous_valid_until
    if rotating is not None and rotating <= ctx.clock.now():
        rotating = None
    return WebhookSecretOut(
        provider_org=endpoint.provider_org,
        url=endpoint.url,
        active=endpoint.active,
        rotating_until=rotating,
        created_at=endpoint.created_at,
        updated_at=endpoint.updated_at,
        secret=secret,
    )


def public(endpoint: WebhookEndpoint, ctx: ServiceContext) -> WebhookOut:
    return WebhookOut.model_validate(out(endpoint, ctx).model_dump(exclude={"secret"}))


async def authorise(session: AsyncSession, principal: Principal, provider_org: str) -> str:
    """The integration account (providers:write) for any provider; a provider for itself.
    Another provider's organisation answers 404, as if it did not exist."""
    org = organisation_number(provider_org)
    if principal.role == Role.provider:
        principal.require(Scope.orders_write)
        if principal.provider_org != org:
            raise NotFound("No such provider.")
    elif not principal.has(Scope.providers_write):
        raise Forbidden("Only the provider itself or the integration account manages webhooks.")
    if await ProviderRepository(session).get(org) is None:
        raise NotFound("No such provider.")
    return org


async def put(
    ctx: ServiceContext, session: AsyncSession, principal: Principal, provider_org: str, body: WebhookIn
) -> tuple[WebhookSecretOut, bool]:
    """Set the URL. A new (or re-activated) webhook gets a new secret, shown once (201);
    changing the URL of an active one keeps its secret (200, secret null)."""
    org = await authorise(session, principal, provider_org)
    url = await rules.check_url(body.url, ctx.settings)
    repo = WebhookRepository(session)
    now = ctx.clock.now()
    secret = rules.new_secret()
    endpoint = await repo.add(
        {
            "provider_org": org,
            "url": url,
            "secret": ctx.cipher.encrypt(secret),
            "previous_secret": None,
            "previous_valid_until": None,
            "active": True,
            "created_at": now,
            "updated_at": now,
        }
    )
    if endpoint is None:
        endpoint = await repo.get(org, for_update=True)
        assert endpoint is not None
        if endpoint.active:
            if endpoint.url != url:
                endpoint.url = url
                endpoint.updated_at = now
                await session.flush()
            return out(endpoint, ctx), False
        endpoint.url = url
        endpoint.secret = ctx.cipher.encrypt(secret)
        endpoint.previous_secret = None
        endpoint.previous_valid_until = None
        endpoint.active = True
        endpoint.updated_at = now
        await session.flush()
    messages = MessageRepository(session)
    if await messages.start_pushing(org, now):
        await messages.wake_delivery()
    return out(endpoint, ctx, secret), True


async def get(
    ctx: ServiceContext, session: AsyncSession, principal: Principal, provider_org: str
) -> WebhookOut:
    org = await authorise(session, principal, provider_org)
    endpoint = await WebhookRepository(session).get(org)
    if endpoint is None or not endpoint.active:
        raise NotFound("The provider has no webhook.")
    return public(endpoint, ctx)


async def rotate(
    ctx: ServiceContext, session: AsyncSession, principal: Principal, provider_org: str
) -> WebhookSecretOut:
    """A new secret, shown once; the current one stays valid for 24 hours and messages are
    signed with both meanwhile."""
    org = await authorise(session, principal, provider_org)
    endpoint = await WebhookRepository(session).get(org, for_update=True)
    if endpoint is None or not endpoint.active:
        raise NotFound("The provider has no webhook.")
    now = ctx.clock.now()
    secret = rules.new_secret()
    endpoint.previous_secret = endpoint.secret
    endpoint.previous_valid_until = now + ROTATION
    endpoint.secret = ctx.cipher.encrypt(secret)
    endpoint.updated_at = now
    await session.flush()
    return out(endpoint, ctx, secret)


async def delete(ctx: ServiceContext, session: AsyncSession, principal: Principal, provider_org: str) -> None:
    """Stop pushing: messages not yet delivered wait in the inbox."""
    org = await authorise(session, principal, provider_org)
    endpoint = await WebhookRepository(session).get(org, for_update=True)
    if endpoint is None or not endpoint.active:
        raise NotFound("The provider has no webhook.")
    endpoint.active = False
    endpoint.previous_secret = None
    endpoint.previous_valid_until = None
    endpoint.updated_at = ctx.clock.now()
    await session.flush()
    await MessageRepository(session).stop_pushing(org)
