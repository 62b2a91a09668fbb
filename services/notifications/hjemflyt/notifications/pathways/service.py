"""Keeps the pathway read model and answers what an order says about the person's pathway."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from hjemflyt.notifications.pathways.repository import PathwayRepository
from hjemflyt.shared.contracts.pathway import PathwayClosed, PathwayOpened
from hjemflyt.shared.platform.context import ServiceContext


async def opened(ctx: ServiceContext, session: AsyncSession, data: PathwayOpened) -> None:
    await PathwayRepository(session).opened(
        pathway_id=data.pathway_id,
        person_id=data.person_id,
        district=data.district,
        kind=data.kind,
        opened_on=data.opened_on,
        planned_end=data.planned_end,
        at=ctx.clock.now(),
    )


async def closed(ctx: ServiceContext, session: AsyncSession, data: PathwayClosed) -> None:
    await PathwayRepository(session).closed(
        pathway_id=data.pathway_id,
        person_id=data.person_id,
        district=data.district,
        kind=data.kind,
        opened_on=data.opened_on,
        planned_end=data.planned_end,
        closed_on=data.closed_on,
        at=ctx.clock.now(),
    )


async def pathway_reference(session: AsyncSession, person_id: uuid.UUID) -> dict[str, Any] | None:
    """What an order says about the person's pathway: the open one as
    {"pathway_id", "kind", "opened_on", "planned_end"}, or None if they are in none
    (or pathway has not told us yet)."""
    found = await PathwayRepository(session).current(person_id)
    if found is None:
        return None
    return {
        "pathway_id": str(found.pathway_id),
        "kind": found.kind,
        "opened_on": found.opened_on.isoformat(),
        "planned_end": found.planned_end.isoformat() if found.planned_end else None,
    }
