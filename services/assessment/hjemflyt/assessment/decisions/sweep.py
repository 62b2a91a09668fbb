"""The decision clock: sent decisions become active on their start date, running ones end
(reason `expired`) the day after their end date, by Norway's legal date on the service clock.

One short transaction per kind and batch; rows are taken `FOR UPDATE SKIP LOCKED`, so several
replicas sweep side by side and each decision moves once (its status is checked again under
the lock)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from hjemflyt.assessment.decisions import service
from hjemflyt.shared.platform.context import ServiceContext
from hjemflyt.shared.platform.db import unit_of_work

log = logging.getLogger(__name__)

BATCH = 50


async def sweep_once(ctx: ServiceContext) -> dict[str, int]:
    """Expire, then activate, until nothing is due; how many of each. Expiry first: a sent
    decision whose whole period has passed ends without being started."""
    done: dict[str, int] = {}
    for name, step in (("expired", service.expire_due), ("activated", service.activate_due)):
        total = 0
        while True:
            async with unit_of_work(ctx.sessionmaker) as session:
                count = await step(ctx, session, limit=BATCH)
            total += count
            if count < BATCH:
                break
        done[name] = total
    return done


async def run(ctx: ServiceContext) -> None:
    while True:
        try:
            done = await sweep_once(ctx)
            if any(done.values()):
                log.info("decision sweep: %s", done)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("decision sweep failed; retrying")
        await asyncio.sleep(ctx.settings.decision_sweep_seconds)


def workers(ctx: ServiceContext) -> dict[str, Callable[[], Coroutine[Any, Any, None]]]:
    return {"decision-sweep": lambda: run(ctx)}
