"""Every SQL statement about allocations, their lines, changes, buffer ledger and
redistributions; and the inputs the engine reads (population, units, contract prices)."""

from __future__ import annotations

import builtins
import uuid
from collections.abc import Sequence
from decimal import Decimal
from typing import cast

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hjemflyt.budget.allocations.models import (
    Allocation,
    AllocationChange,
    AllocationUnit,
    BufferEntry,
    Redistribution,
)
from hjemflyt.budget.hours.models import ProviderUnit
from hjemflyt.shared.platform.db import advisory_xact_lock
from hjemflyt.shared.platform.repository import Repository

ZERO = Decimal(0)


class AllocationRepository(Repository):
    # --- inputs --------------------------------------------------------------------------

    async def units(self) -> dict[str, tuple[str, dict[str, int]]]:
        """Registered provider units: provider_org -> (kind, contract price per hour by code)."""
        # The price column arrives with the deliveries work; without it there are no prices.
        prices = getattr(ProviderUnit, "contract_prices_ore_per_hour", None)
        columns = [ProviderUnit.provider_org, ProviderUnit.kind]
        if prices is not None:
            columns.append(prices)
        out: dict[str, tuple[str, dict[str, int]]] = {}
        for row in await self.session.execute(select(*columns)):
            found = dict(cast(dict[str, int], row[2]) or {}) if prices is not None else {}
            out[row[0]] = (row[1], found)
        return out

    # --- allocations ---------------------------------------------------------------------

    async def add(self, *rows: object) -> None:
        self.session.add_all(rows)
        await self.session.flush()

    async def lock_year(self, year: int) -> None:
        """Serialise the making of one year's allocation (two managers at once: one gets 409)."""
        await advisory_xact_lock(self.session, "hjemflyt.budget.allocation", year)

    async def for_year(self, year: int) -> Allocation | None:
        return (await self.session.scalars(select(Allocation).where(Allocation.year == year))).one_or_none()

    async def get(self, allocation_id: uuid.UUID, *, for_update: bool = False) -> Allocation | None:
        stmt = select(Allocation).where(Allocation.id == allocation_id)
        if for_update:
            # Serialises tertials, proposals and approvals of one allocation.
            stmt = stmt.with_for_update()
        return (await self.session.scalars(stmt)).one_or_none()

    async def list(self, year: int | None = None) -> Sequence[Allocation]:
        stmt = select(Allocation).order_by(Allocation.year.desc())
        if year is not None:
            stmt = stmt.where(Allocation.year == year)
        return (await self.session.scalars(stmt)).all()

    async def lines(self, allocation_id: uuid.UUID) -> Sequence[AllocationUnit]:
        stmt = (
            select(AllocationUnit)
            .where(AllocationUnit.allocation_id == allocation_id)
            .order_by(AllocationUnit.provider_org)
        )
        return (await self.session.scalars(stmt)).all()

    async def lines_of(
        self, allocation_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, builtins.list[AllocationUnit]]:
        out: dict[uuid.UUID, builtins.list[AllocationUnit]] = {i: [] for i in allocation_ids}
        if not allocation_ids:
            return out
        stmt = (
            select(AllocationUnit)
            .where(AllocationUnit.allocation_id.in_(allocation_ids))
            .order_by(AllocationUnit.allocation_id, AllocationUnit.provider_org)
        )
        for line in await self.session.scalars(stmt):
            out[line.allocation_id].append(line)
        return out

    async def changes(self, allocation_id: uuid.UUID) -> Sequence[AllocationChange]:
        stmt = (
            select(AllocationChange)
            .where(AllocationChange.allocation_id == allocation_id)
            .order_by(AllocationChange.id)
        )
        return (await self.session.scalars(stmt)).all()

    async def buffer(self, allocation_id: uuid.UUID) -> Sequence[BufferEntry]:
        stmt = select(BufferEntry).where(BufferEntry.allocation_id == allocation_id).order_by(BufferEntry.id)
        return (await self.session.scalars(stmt)).all()

    # --- redistributions -----------------------------------------------------------------

    async def redistribution(
        self, redistribution_id: uuid.UUID, *, for_update: bool = False
    ) -> Redistribution | None:
        stmt = select(Redistribution).where(Redistribution.id == redistribution_id)
        if for_update:
            stmt = stmt.with_for_update()
        return (await self.session.scalars(stmt)).one_or_none()

    async def redistributions(self, allocation_id: uuid.UUID) -> Sequence[Redistribution]:
        stmt = (
            select(Redistribution)
            .where(Redistribution.allocation_id == allocation_id)
            .order_by(Redistribution.proposed_at)
        )
        return (await self.session.scalars(stmt)).all()


async def unit_totals(session: AsyncSession, allocation_id: uuid.UUID) -> list[tuple[str, int]]:
    """(provider_org, amount in øre) of each unit of an allocation as it stands now, by
    provider_org; empty for an unknown allocation. For pictures and simulations."""
    stmt = (
        select(AllocationUnit.provider_org, AllocationUnit.amount_ore)
        .where(AllocationUnit.allocation_id == allocation_id)
        .order_by(AllocationUnit.provider_org)
    )
    return [(org, int(amount)) for org, amount in await session.execute(stmt)]
