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

# Months end once a month: a sweep every ten minutes is prompt enough, and cheap (a flag
# raised before is skipped by its id). Replicas may sweep at once: the flag's id is its key,
# so one of them inserts and publishes it, the other finds it there.
SWEEP_SECONDS = 600.0


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
