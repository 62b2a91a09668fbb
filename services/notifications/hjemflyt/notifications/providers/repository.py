from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import false, select
from sqlalchemy.dialects.postgresql import insert

from hjemflyt.notifications.providers.models import Provider
from hjemflyt.shared.platform.auth import Principal, Role, Scope
from hjemflyt.shared.platform.repository import Repository


class ProviderRepository(Repository):
    async def get(self, provider_org: str, *, for_update: bool = False) -> Provider | None:
        return await self.session.get(Provider, provider_org, with_for_update=for_update)

    async def readable(self, principal: Principal, provider_org: str) -> Provider | None:
        """The registry entry as `principal` may see it: a provider only its own, anyone
        with providers:read every one."""
        stmt = select(Provider).where(Provider.provider_org == provider_org)
        if principal.role == Role.provider:
            stmt = stmt.where(Provider.provider_org == principal.provider_org)
        elif not principal.has(Scope.providers_read):
            stmt = stmt.where(false())
        return await self.session.scalar(stmt)

    async def add(self, values: dict[str, object]) -> Provider | None:
        """Insert a new provider; None if a concurrent request registered it first."""
        stmt = insert(Provider).values(**values).on_conflict_do_nothing().returning(Provider)
        return (await self.session.scalars(stmt)).first()

    async def list(self) -> Sequence[Provider]:
        return (await self.session.scalars(select(Provider).order_by(Provider.name))).all()

    async def in_districts(self, districts: set[str]) -> Sequence[Provider]:
        """Providers that work in any of `districts`."""
        if not districts:
            return []
        stmt = (
            select(Provider)
            .where(Provider.districts.overlap(sorted(districts)))
            .order_by(Provider.provider_org)
        )
        return (await self.session.scalars(stmt)).all()
