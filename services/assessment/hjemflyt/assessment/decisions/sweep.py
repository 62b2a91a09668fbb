"""The decision clock: sent decisions become active on their start date, running ones end
(reason `expired`) the day after their end date, by Norway's legal date on the service clock.

One short transaction per kind and batch; rows are taken `FOR UPDATE SKIP LOCKED`, so several
replicas sweep side by side and each decision moves once (its status is checked again under
the lock)."""

from __future__ import annotations

import logging
import uuid
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from hjemflyt.assessment.decisions import service
from hjemflyt.shared.platform.context import ServiceContext
from hjemflyt.shared.platform.db import unit_of_work

log = logging.getLogger(__name__)

BATCH = 50


class Step(Protocol):
    async def __call__(
        self,
        ctx: ServiceContext,
        session: AsyncSession,
        *,
        limit: int,
        skip: frozenset[uuid.UUID] = ...,
        taken: list[uuid.UUID] | None = ...,
    ) -> int: ...


STEPS: dict[str, Step] = {"expired": service.expire_due, "activated": service.activate_due}


async def _sweep(ctx: ServiceContext, name: str, step: Step) -> int:
    """Move every due decision: a batch per transaction; when a batch fails, its decisions
    one at a time, so that one decision that cannot move (logged, tried again on the next
    sweep) does not hold back the others."""
    moved, skip, batch = 0, frozenset[uuid.UUID](), BATCH
    while True:
        taken: list[uuid.UUID] = []
        try:
            async with unit_of_work(ctx.sessionmaker) as session:
                count = await step(ctx, session, limit=batch, skip=skip, taken=taken)
        except Exception:
            if batch > 1:
                batch = 1  # find the one that fails
                continue
            log.exception("decision sweep (%s) could not move decision %s", name, taken[-1] if taken else "?")
            if not taken:
                raise
            skip |= {taken[-1]}
            continue
        moved += count
        if count < batch:
            return moved


async def sweep_once(ctx: ServiceContext) -> dict[str, int]:
    """Expire, then activate, until nothing is due; how many of each. Expiry first: a sent
    decision whose whole period has passed ends without being started."""
    return {name: await _sweep(ctx, name, step) for name, step in STEPS.items()}
