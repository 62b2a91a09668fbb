from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import bindparam, select
from sqlalchemy.dialects.postgresql import insert

from hjemflyt.assessment.providers.models import ApprovedProvider
from hjemflyt.shared.platform.repository import Repository


class ProviderRepository(Repository):
    async def get_many(self, orgs: set[str]) -> dict[str, ApprovedProvider]:
        rows = await self.session.scalars(_BY_ORG, {"orgs": list(orgs)})
        return {p.provider_org: p for p in rows}

    async def list(self) -> Sequence[ApprovedProvider]:
        return (await self.session.scalars(select(ApprovedProvider).order_by(ApprovedProvider.name))).all()

    async def upsert_if_newer(self, values: dict[str, object]) -> None:
        """Apply a provider version unless a newer one is already here (events may arrive late)."""
        stmt = insert(ApprovedProvider).values(**values)
        stmt = stmt.on_conflict_do_update(
            index_elements=[ApprovedProvider.provider_org],
            set_={k: stmt.excluded[k] for k in values if k != "provider_org"},
            where=ApprovedProvider.version < stmt.excluded.version,
        )
        await self.session.execute(stmt)


# Built once (its cache key is memoised on the object).
_BY_ORG = select(ApprovedProvider).where(ApprovedProvider.provider_org.in_(bindparam("orgs", expanding=True)))
