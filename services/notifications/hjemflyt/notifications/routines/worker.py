"""The reminder sweep of the notifications service: one round (`sweep_reminders`); main.py
runs it every `HJEMFLYT_ROUTINE_SWEEP_SECONDS`."""

from __future__ import annotations

from hjemflyt.notifications.routines.service import send_due_reminders
from hjemflyt.shared.platform.context import ServiceContext
from hjemflyt.shared.platform.db import unit_of_work


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
