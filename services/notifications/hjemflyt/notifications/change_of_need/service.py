"""Change-of-need reports: the provider reports, the case office answers (a task until then),
the answer goes back to the provider as a message."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from hjemflyt.notifications.change_of_need.models import ChangeOfNeed
from hjemflyt.notifications.change_of_need.repository import ChangeOfNeedRepository
from hjemflyt.notifications.change_of_need.schemas import (
    ChangeOfNeedAnswerIn,
    ChangeOfNeedIn,
    ChangeOfNeedOut,
)
from hjemflyt.notifications.messages.service import enqueue
from hjemflyt.notifications.reports.orders import readable_order
from hjemflyt.notifications.reports.scoping import logged_page, logged_read, provider_only
from hjemflyt.notifications.reports.service import require_not_ended
from hjemflyt.notifications.tasks.rules import TaskKind
from hjemflyt.notifications.tasks.service import close_for_reference, open_task
from hjemflyt.shared.contracts.reports import (
    CHANGE_OF_NEED_ANSWERED,
    CHANGE_OF_NEED_REPORTED,
    ChangeOfNeedAnswered,
    ChangeOfNeedReported,
)
from hjemflyt.shared.platform.audit import Action, LoggedRead
from hjemflyt.shared.platform.auth import Principal
from hjemflyt.shared.platform.context import ServiceContext
from hjemflyt.shared.platform.errors import Conflict, NotFound
from hjemflyt.shared.platform.pagination import Page, decode_position

AWAITING, ANSWERED = "awaiting", "answered"
MESSAGE_KIND = "change_of_need.answered"


async def report(
    ctx: ServiceContext,
    session: AsyncSession,
    principal: Principal,
    order_id: uuid.UUID,
    body: ChangeOfNeedIn,
) -> ChangeOfNeedOut:
    provider_only(principal)
    order = await readable_order(session, principal, order_id)
    require_not_ended(ctx, order)
    now = ctx.clock.now()
    row = ChangeOfNeed(
        id=uuid.uuid4(),
        order_id=order.id,
        provider_org=order.provider_org,
        person_id=order.person_id,
        district=order.district,
        observation=body.observation,
        proposed_change=body.proposed_change,
        evidence=body.evidence,
        proposed_hours_per_month=body.proposed_hours_per_month,
        status=AWAITING,
        reported_at=now,
        reported_by=principal.subject,
    )
    await ChangeOfNeedRepository(session).add(row)
    hours = body.proposed_hours_per_month
    await open_task(
        ctx,
        session,
        TaskKind.change_of_need,
        reference_id=row.id,
        district=order.district,
        person_id=order.person_id,
        provider_org=order.provider_org,
        order_id=order.id,
        details={
            "change_of_need_id": str(row.id),
            "proposed_hours_per_month": str(hours) if hours is not None else None,
        },
    )
    await ctx.outbox.add(
        session,
        CHANGE_OF_NEED_REPORTED,
        ChangeOfNeedReported(
            change_of_need_id=row.id,
            order_id=order.id,
            person_id=order.person_id,
            provider_org=order.provider_org,
            district=order.district,
            proposed_hours_per_month=hours,
            reported_at=now,
        ),
        subject=str(row.id),
    )
    await ctx.access_log.record(
        session,
        principal,
        action=Action.create,
        resource="change-of-need",
        person_ids=[order.person_id],
        purpose="service delivery",
        resource_id=str(row.id),
    )
    return ChangeOfNeedOut.model_validate(row)


async def answer(
    ctx: ServiceContext,
    session: AsyncSession,
    principal: Principal,
    report_id: uuid.UUID,
    body: ChangeOfNeedAnswerIn,
) -> ChangeOfNeedOut:
    row = await ChangeOfNeedRepository(session).get(principal, report_id, for_update=True)
    if row is None:
        raise NotFound("No such change-of-need report.")
    if row.status != AWAITING:
        raise Conflict(
            "This change-of-need report was answered already.",
            slug="already-answered",
            outcome=row.outcome,
            answered_at=row.answered_at.isoformat() if row.answered_at else None,
        )
    now = ctx.clock.now()
    row.status = ANSWERED
    row.outcome = body.outcome.value
    row.answer = body.answer
    row.answered_at = now
    row.answered_by = principal.subject
    message = await enqueue(
        ctx,
        session,
        provider_org=row.provider_org,
        kind=MESSAGE_KIND,
        body={
            "change_of_need_id": str(row.id),
            "order_id": str(row.order_id),
            "outcome": row.outcome,
            "answer": row.answer,
            "reported_at": row.reported_at.isoformat(),
            "answered_at": now.isoformat(),
        },
        person_id=row.person_id,
        district=row.district,
        order_id=row.order_id,
        reference_id=row.id,
    )
    row.message_id = message.id
    await session.flush()
    await close_for_reference(
        ctx,
        session,
        TaskKind.change_of_need,
        row.id,
        by=principal,
        resolution=f"Answered: {row.outcome}",
    )
    await ctx.outbox.add(
        session,
        CHANGE_OF_NEED_ANSWERED,
        ChangeOfNeedAnswered(
            change_of_need_id=row.id,
            order_id=row.order_id,
            person_id=row.person_id,
            provider_org=row.provider_org,
            district=row.district,
            outcome=row.outcome,
            answered_at=now,
        ),
        subject=str(row.id),
    )
    await ctx.access_log.record(
        session,
        principal,
        action=Action.update,
        resource="change-of-need",
        person_ids=[row.person_id],
        purpose="case handling",
        resource_id=str(row.id),
    )
    return ChangeOfNeedOut.model_validate(row)


async def page(
    session: AsyncSession,
    principal: Principal,
    log_read: LoggedRead,
    *,
    status: str | None,
    order_id: uuid.UUID | None,
    limit: int,
    cursor: str | None,
) -> Page[ChangeOfNeedOut]:
    rows = await ChangeOfNeedRepository(session).page(
        principal, status=status, order_id=order_id, limit=limit, after=decode_position(cursor)
    )
    next_cursor = await logged_page(log_read, "change-of-need-list", rows, limit=limit, at="reported_at")
    return Page[ChangeOfNeedOut](
        items=[ChangeOfNeedOut.model_validate(r) for r in rows], next_cursor=next_cursor
    )


async def get(
    session: AsyncSession, principal: Principal, report_id: uuid.UUID, log_read: LoggedRead
) -> ChangeOfNeedOut:
    row = await ChangeOfNeedRepository(session).get(principal, report_id)
    if row is None:
        raise NotFound("No such change-of-need report.")
    await logged_read(log_read, "change-of-need", row)
    return ChangeOfNeedOut.model_validate(row)
