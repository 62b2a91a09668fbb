from __future__ import annotations

import uuid
from collections.abc import Sequence
from decimal import Decimal

from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from hjemflyt.budget.hours.models import DecidedHours, ProviderUnit


class HoursRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def apply(self, rows: list[dict[str, object]]) -> None:
        """Store a decision version's hours unless a newer version is already stored."""
        if not rows:
            return
        stmt = insert(DecidedHours).values(rows)
        stmt = stmt.on_conflict_do_update(
            index_elements=[DecidedHours.decision_id, DecidedHours.service_code],
            set_={c: stmt.excluded[c] for c in rows[0] if c not in ("decision_id", "service_code")},
            where=DecidedHours.decision_version < stmt.excluded.decision_version,
        )
        await self.session.execute(stmt)
        # Services the newer version no longer grants stop counting.
        first = rows[0]
        await self.session.execute(
            delete(DecidedHours).where(
                DecidedHours.decision_id == first["decision_id"],
                DecidedHours.decision_version < first["decision_version"],
                DecidedHours.service_code.not_in([r["service_code"] for r in rows]),
            )
        )

    async def upsert_unit(self, values: dict[str, object]) -> None:
        stmt = insert(ProviderUnit).values(**values)
        stmt = stmt.on_conflict_do_update(
            index_elements=[ProviderUnit.provider_org],
            set_={k: stmt.excluded[k] for k in values if k != "provider_org"},
            where=ProviderUnit.version < stmt.excluded.version,
        )
        await self.session.execute(stmt)

    async def for_person(self, person_id: uuid.UUID) -> Sequence[DecidedHours]:
        stmt = (
            select(DecidedHours)
            .where(DecidedHours.person_id == person_id)
            .order_by(DecidedHours.service_code)
        )
        return (await self.session.scalars(stmt)).all()

    async def per_provider(self) -> Sequence[tuple[str, str | None, str | None, int, Decimal]]:
        stmt = (
            select(
                DecidedHours.provider_org,
                ProviderUnit.name,
                ProviderUnit.kind,
                func.count(func.distinct(DecidedHours.person_id)),
                func.sum(DecidedHours.hours_per_month),
            )
            .outerjoin(ProviderUnit, ProviderUnit.provider_org == DecidedHours.provider_org)
            .group_by(DecidedHours.provider_org, ProviderUnit.name, ProviderUnit.kind)
            .order_by(DecidedHours.provider_org)
        )
        return [tuple(r) for r in (await self.session.execute(stmt)).all()]  # type: ignore[misc]
