from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from hjemflyt.notifications.providers.models import Provider


class ProviderRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, provider_org: str, *, for_update: bool = False) -> Provider | None:
        return await self.session.get(Provider, provider_org, with_for_update=for_update)

    async def add(self, values: dict[str, object]) -> Provider | None:
        """Insert a new provider; None if a concurrent request registered it first."""
        stmt = insert(Provider).values(**values).on_conflict_do_nothing().returning(Provider)
        return (await self.session.scalars(stmt)).first()

    async def list(self) -> Sequence[Provider]:
        return (await self.session.scalars(select(Provider).order_by(Provider.name))).all()
