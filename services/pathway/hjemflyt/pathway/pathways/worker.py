"""The deadline sweep: a background loop of the pathway service on the injectable clock."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable, Coroutine
from datetime import date
from typing import Any

from hjemflyt.pathway.pathways.service import sweep_batch
from hjemflyt.shared.platform.context import ServiceContext
from hjemflyt.shared.platform.db import unit_of_work

log = logging.getLogger(__name__)

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


def workers(ctx: ServiceContext) -> dict[str, Callable[[], Coroutine[Any, Any, None]]]:
    async def deadlines() -> None:
        while True:
            try:
                opened = await sweep_once(ctx)
                if opened:
                    log.info("opened %d pathway deadline tasks", opened)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("pathway deadline sweep failed; retrying")
            await asyncio.sleep(SWEEP_SECONDS)

    return {"pathway-deadlines": deadlines}
