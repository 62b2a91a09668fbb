"""The provider registry: register or change a provider; every change is an event."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from hjemflyt.notifications.providers.repository import ProviderRepository
from hjemflyt.notifications.providers.schemas import ProviderIn, ProviderOut
from hjemflyt.shared.contracts.events import PROVIDER_REGISTERED, ProviderRegistered
from hjemflyt.shared.identity import InvalidOrganisationNumber, parse_organisation_number
from hjemflyt.shared.platform.context import ServiceContext
from hjemflyt.shared.platform.errors import RuleViolation


def organisation_number(value: str) -> str:
    try:
        return parse_organisation_number(value)
    except InvalidOrganisationNumber as exc:
        raise RuleViolation(
            f"The organisation number is not valid: {exc}",
            slug="invalid-organisation-number",
            reason=exc.reason,
        ) from exc


async def put(
    ctx: ServiceContext, session: AsyncSession, provider_org: str, body: ProviderIn
) -> tuple[ProviderOut, bool]:
    """Create or change a provider. Returns (provider, created)."""
    org = organisation_number(provider_org)
    repo = ProviderRepository(session)
    values = body.model_dump(mode="json")
    provider = await repo.add({"provider_org": org, "version": 1, "updated_at": ctx.clock.now(), **values})
    created = provider is not None
    if provider is None:
        # It exists (perhaps registered a moment ago by a concurrent request): lock and change it.
        provider = await repo.get(org, for_update=True)
        assert provider is not None
        unchanged = all(getattr(provider, k) == v for k, v in values.items())
        if unchanged:
            return ProviderOut.model_validate(provider), False
        for key, value in values.items():
            setattr(provider, key, value)
        provider.version += 1
        provider.updated_at = ctx.clock.now()
        await session.flush()
    await ctx.outbox.add(
        session,
        PROVIDER_REGISTERED,
        ProviderRegistered(provider_org=org, version=provider.version, **values),
        subject=org,
    )
    return ProviderOut.model_validate(provider), created
