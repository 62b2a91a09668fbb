"""All SQL of provider credentials."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select

from hjemflyt.notifications.credentials.models import ProviderCredential
from hjemflyt.shared.platform.repository import Repository


class CredentialRepository(Repository):
    async def add(self, credential: ProviderCredential) -> ProviderCredential:
        return await self.insert(credential)

    async def get(self, client_id: str) -> ProviderCredential | None:
        return await self.session.get(ProviderCredential, client_id)

    async def of_provider(
        self, provider_org: str, client_id: str, *, for_update: bool = False
    ) -> ProviderCredential | None:
        stmt = select(ProviderCredential).where(
            ProviderCredential.client_id == client_id, ProviderCredential.provider_org == provider_org
        )
        if for_update:
            stmt = stmt.with_for_update()
        return await self.session.scalar(stmt)

    async def list(self, provider_org: str) -> Sequence[ProviderCredential]:
        stmt = (
            select(ProviderCredential)
            .where(ProviderCredential.provider_org == provider_org)
            .order_by(ProviderCredential.created_at, ProviderCredential.client_id)
        )
        return (await self.session.scalars(stmt)).all()

    async def active_count(self, provider_org: str) -> int:
        stmt = select(func.count()).where(
            ProviderCredential.provider_org == provider_org, ProviderCredential.revoked_at.is_(None)
        )
        return int(await self.session.scalar(stmt) or 0)
