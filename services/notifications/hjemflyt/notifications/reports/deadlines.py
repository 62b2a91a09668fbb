"""The deadline sweep of the reports modules: clarification requests past their due date,
urgent requests past their response deadline. One short transaction per kind and batch;
`FOR UPDATE SKIP LOCKED`, so replicas can sweep side by side."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession

from hjemflyt.notifications.clarifications import service as clarifications
from hjemflyt.notifications.urgent import service as urgent
from hjemflyt.shared.platform.context import ServiceContext
from hjemflyt.shared.platform.db import unit_of_work

# Urgent requests are answered within minutes: sweep often (an indexed query on a partial index).
SWEEP_SECONDS = 5.0

Sweep = Callable[[ServiceContext, AsyncSession], Awaitable[int]]
SWEEPS: dict[str, Sweep] = {"clarifications": clarifications.sweep, "urgent_requests": urgent.sweep}


async def sweep_once(ctx: ServiceContext) -> dict[str, int]:
    """Run every sweep until nothing is left; how many each flagged."""
    done: dict[str, int] = {}
    for name, sweep in SWEEPS.items():
        total = 0
        while True:
            async with unit_of_work(ctx.sessionmaker) as session:
                count = await sweep(ctx, session)
            total += count
            if count < clarifications.SWEEP_BATCH:
                break
        done[name] = total
    return done
