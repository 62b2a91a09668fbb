"""The acknowledgement sweep: unanswered messages past their deadline are escalated once,
by their kind's `overdue` hook (orders: a task for the case office). Replicas share the
work with SKIP LOCKED; `escalated_at` makes it once."""

from __future__ import annotations

from hjemflyt.notifications.messages.service import escalate_overdue
from hjemflyt.shared.platform.context import ServiceContext
from hjemflyt.shared.platform.db import unit_of_work

BATCH = 100


async def sweep_once(ctx: ServiceContext) -> int:
    total = 0
    while True:
        async with unit_of_work(ctx.sessionmaker) as session:
            count = await escalate_overdue(ctx, session, limit=BATCH)
        total += count
        if count < BATCH:
            return total
