"""Worklists: what each case officer, service lead, primary contact, team and district must
act on, made from pathway's read models at the clock's today."""

from __future__ import annotations

from collections.abc import Collection
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from hjemflyt.pathway.worklists.repository import WorklistRepository
from hjemflyt.pathway.worklists.rules import Holder, ItemKind, decode_position, encode_position, overdue_days
from hjemflyt.pathway.worklists.schemas import Worklist, WorklistItem
from hjemflyt.shared.platform.audit import Action
from hjemflyt.shared.platform.auth import Principal
from hjemflyt.shared.platform.context import ServiceContext
from hjemflyt.shared.platform.errors import NotFound


async def worklist(
    ctx: ServiceContext,
    session: AsyncSession,
    principal: Principal,
    holder: Holder,
    holder_id: str,
    *,
    kinds: Collection[ItemKind],
    cursor: str | None,
    limit: int,
) -> Worklist:
    if holder == Holder.districts and not principal.may_see_district(holder_id):
        raise NotFound("No such district among yours.")
    today = ctx.clock.today()
    rows = await WorklistRepository(session).items(
        principal,
        holder,
        holder_id,
        today=today,
        now=ctx.clock.now(),
        # The same setting notifications sets its acknowledgement deadlines with.
        ack_within=timedelta(hours=ctx.settings.order_ack_hours),
        kinds=kinds,
        after=decode_position(cursor),
        limit=limit + 1,
    )
    page, more = rows[:limit], len(rows) > limit
    items = [
        WorklistItem(
            kind=ItemKind(r.kind),
            person_id=r.person_id,
            district=r.district,
            reference_id=r.reference_id,
            since=r.since,
            due=r.due,
            overdue_days=overdue_days(r.due, today),
            details=r.details,
        )
        for r in page
    ]
    # One row per person shown, in the same transaction as the read.
    await ctx.access_log.record(
        session,
        principal,
        action=Action.read,
        resource="worklist",
        resource_id=f"{holder.value}/{holder_id}",
        person_ids=list(dict.fromkeys(i.person_id for i in items)),
        purpose="case handling",
    )
    last = items[-1] if more else None
    return Worklist(
        holder=holder,
        id=holder_id,
        as_of=today,
        items=items,
        next_cursor=encode_position(last.due, last.kind.value, last.reference_id) if last else None,
    )
