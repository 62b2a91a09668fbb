"""The month-end flag sweep of the budget service on the injectable clock: one round
(`sweep_once`); main.py runs it every `SWEEP_SECONDS`."""

from __future__ import annotations

from hjemflyt.budget.delivered.service import sweep
from hjemflyt.shared.platform.context import ServiceContext
from hjemflyt.shared.platform.db import unit_of_work

# Each month is judged once (`delivery_sweep`), so a round that finds nothing new is one small
# read: often enough that a clock moved forward (tests, the demo) is followed within seconds.
# Replicas may sweep at once: a month is claimed by one of them, and a flag's id is its key.
SWEEP_SECONDS = 5.0


async def sweep_once(ctx: ServiceContext) -> int:
    async with unit_of_work(ctx.sessionmaker) as session:
        return await sweep(ctx, session)
