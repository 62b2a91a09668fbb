"""The deadline sweep of the pathway service on the injectable clock: one round (`sweep_once`);
main.py runs it every `SWEEP_SECONDS`."""

from __future__ import annotations

import uuid
from datetime import date

from hjemflyt.pathway.pathways.service import sweep_batch
from hjemflyt.shared.platform.context import ServiceContext
from hjemflyt.shared.platform.db import unit_of_work

# Deadlines are dates; a minute's delay is nothing, but tests that move the clock should
# not wait long. Each batch locks its rows (SKIP LOCKED), so replicas never open a task twice.
SWEEP_SECONDS = 5.0


async def sweep_once(ctx: ServiceContext) -> int:
    """One sweep over every open pathway with a passed deadline; returns tasks opened."""
    total = 0
    after: tuple[date, uuid.UUID] | None = None
    while True:
        async with unit_of_work(ctx.sessionmaker) as session:
            opened, after = await sweep_batch(ctx, session, after)
        total += opened
        if after is None:
            return total
