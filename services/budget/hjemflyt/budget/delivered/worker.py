"""The month-end flag sweep: a background loop of the budget service on the injectable clock."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from hjemflyt.budget.delivered.service import sweep
from hjemflyt.shared.platform.context import ServiceContext
from hjemflyt.shared.platform.db import unit_of_work

log = logging.getLogger(__name__)

# Each month is judged once (`delivery_sweep`), so a round that finds nothing new is one small
# read: often enough that a clock moved forward (tests, the demo) is followed within seconds.
# Replicas may sweep at once: a month is claimed by one of them, and a flag's id is its key.
SWEEP_SECONDS = 5.0


async def sweep_once(ctx: ServiceContext) -> int:
    async with unit_of_work(ctx.sessionmaker) as session:
        return await sweep(ctx, session)


def workers(ctx: ServiceContext) -> dict[str, Callable[[], Coroutine[Any, Any, None]]]:
    async def flags() -> None:
        while True:
            try:
                raised = await sweep_once(ctx)
                if raised:
                    log.info("flagged %d deliveries far from their decisions", raised)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("delivery flag sweep failed; retrying")
            await asyncio.sleep(SWEEP_SECONDS)

    return {"delivery-flags": flags}
