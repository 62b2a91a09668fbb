"""The provider registry: register or change a provider; every change is an event."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from hjemflyt.notifications.providers.models import Provider
from hjemflyt.notifications.providers.repository import ProviderRepository
from hjemflyt.notifications.providers.rules import agreement_problems
from hjemflyt.notifications.providers.schemas import ProviderIn, ProviderOut
from hjemflyt.shared.contracts.events import PROVIDER_REGISTERED, ProviderKind, ProviderRegistered
from hjemflyt.shared.identity import InvalidOrganisationNumber, parse_organisation_number
from hjemflyt.shared.platform.auth import Principal
from hjemflyt.shared.platform.context import ServiceContext
from hjemflyt.shared.platform.errors import NotFound, RuleViolation


def organisation_number(value: str) -> str:
    try:
        return parse_organisation_number(value)
    except InvalidOrganisationNumber as exc:
        raise RuleViolation(
            f"The organisation number is not valid: {exc}",
            slug="invalid-organisation-number",
            reason=exc.reason,
        ) from exc


def to_out(provider: Provider) -> ProviderOut:
    return ProviderOut.model_validate(
        {
            "provider_org": provider.provider_org,
            "version": provider.version,
            "updated_at": provider.updated_at,
            "name": provider.name,
            "kind": provider.kind,
            "service_codes": provider.service_codes,
            "districts": provider.districts,
            "service_types": provider.service_types,
            "contract_prices": [
                {"service_type": t, "ore_per_hour": p} for t, p in sorted(provider.contract_prices.items())
            ],
            "contacts": provider.contacts,
            "agreement_valid_from": provider.agreement_valid_from,
            "agreement_valid_to": provider.agreement_valid_to,
        }
    )


def column_values(body: ProviderIn) -> dict[str, Any]:
    """The body as stored: prices as {service_type: øre}, contacts as JSON, in a canonical
    order so that re-sending the same entry is recognised as unchanged."""
    broken = agreement_problems(
        private=body.kind == ProviderKind.private,
        service_types=body.service_types,
        prices=[(p.service_type, p.ore_per_hour) for p in body.contract_prices],
        valid_from=body.agreement_valid_from,
        valid_to=body.agreement_valid_to,
    )
    if broken:
        raise RuleViolation(broken.detail, slug=broken.slug, service_types=broken.service_types)
    return {
        "name": body.name,
        "kind": body.kind.value,
        "service_codes": body.service_codes,
        "districts": body.districts,
        "service_types": body.service_types,
        "contract_prices": {p.service_type: p.ore_per_hour for p in body.contract_prices},
        "contacts": [c.model_dump(mode="json") for c in body.contacts],
        "agreement_valid_from": body.agreement_valid_from,
        "agreement_valid_to": body.agreement_valid_to,
    }


def announcement(provider: Provider) -> ProviderRegistered:
    """What the bus learns: the agreement, but of the contacts only their roles."""
    return ProviderRegistered(
        provider_org=provider.provider_org,
        version=provider.version,
        name=provider.name,
        kind=ProviderKind(provider.kind),
        service_codes=provider.service_codes,
        districts=provider.districts,
        service_types=provider.service_types,
        contract_prices_ore_per_hour=dict(sorted(provider.contract_prices.items())),
        agreement_valid_from=provider.agreement_valid_from,
        agreement_valid_to=provider.agreement_valid_to,
        contact_roles=sorted({c["role"] for c in provider.contacts}),
    )


async def put(
    ctx: ServiceContext, session: AsyncSession, provider_org: str, body: ProviderIn
) -> tuple[ProviderOut, bool]:
    """Create or change a provider. Returns (provider, created)."""
    org = organisation_number(provider_org)
    values = column_values(body)
    repo = ProviderRepository(session)
    provider = await repo.add({"provider_org": org, "version": 1, "updated_at": ctx.clock.now(), **values})
    created = provider is not None
    if provider is None:
        # It exists (perhaps registered a moment ago by a concurrent request): lock and change it.
        provider = await repo.get(org, for_update=True)
        assert provider is not None
        unchanged = all(getattr(provider, k) == v for k, v in values.items())
        if unchanged:
            return to_out(provider), False
        for key, value in values.items():
            setattr(provider, key, value)
        provider.version += 1
        provider.updated_at = ctx.clock.now()
        await session.flush()
    await ctx.outbox.add(session, PROVIDER_REGISTERED, announcement(provider), subject=org)
    return to_out(provider), created


async def list_all(session: AsyncSession) -> list[ProviderOut]:
    return [to_out(p) for p in await ProviderRepository(session).list()]


async def get(session: AsyncSession, principal: Principal, provider_org: str) -> ProviderOut:
    """One provider: providers:read sees any, a provider its own entry; others (and a
    malformed number) 404."""
    try:
        org = parse_organisation_number(provider_org)
    except InvalidOrganisationNumber as exc:
        raise NotFound("No such provider.") from exc
    provider = await ProviderRepository(session).readable(principal, org)
    if provider is None:
        raise NotFound("No such provider.")
    return to_out(provider)
