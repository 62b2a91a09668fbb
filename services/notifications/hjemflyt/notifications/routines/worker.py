"""The reminder sweep: a background loop of the notifications service."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from hjemflyt.notifications.routines.service import send_due_reminders
from hjemflyt.shared.platform.context import ServiceContext
from hjemflyt.shared.platform.db import unit_of_work

log = logging.getLogger(__name__)


async def sweep_reminders(ctx: ServiceContext) -> int:
    """One sweep: remind every provider due a reminder. Each batch is one transaction;
    locked rows are skipped, so replicas and overlapping sweeps never remind twice."""
    total = 0
    while True:
        async with unit_of_work(ctx.sessionmaker) as session:
            sent = await send_due_reminders(ctx, session)
        total += sent
        if sent == 0:
            return total


def workers(ctx: ServiceContext) -> dict[str, Callable[[], Coroutine[Any, Any, None]]]:
    async def reminders() -> None:
        while True:
            try:
                await sweep_reminders(ctx)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("routine reminder sweep failed; retrying")
            await asyncio.sleep(ctx.settings.routine_sweep_seconds)

    return {"routine-reminders": reminders}
