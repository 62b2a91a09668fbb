"""Clarification requests both ways, with a due date.

- provider -> case office: a task (clarification_request) for the order's district; the case
  office answers (a `clarification.answered` message to the provider, the task closed). Closing
  the task through /v1/tasks counts as the answer too: its resolution is sent as the answer
  (picked up by the deadline sweep).
- case office -> provider: a `clarification.requested` message; the provider answers here.
- Unanswered past the due date: a clarification_overdue task and `clarification.overdue`.
"""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from hjemflyt.notifications.clarifications import rules
from hjemflyt.notifications.clarifications.models import Clarification
from hjemflyt.notifications.clarifications.repository import ClarificationRepository
from hjemflyt.notifications.clarifications.schemas import (
    CaseOfficeClarificationIn,
    ClarificationOut,
    Direction,
    ProviderClarificationIn,
)
from hjemflyt.notifications.messages.service import enqueue
from hjemflyt.notifications.reports.orders import OrderRef, readable_order
from hjemflyt.notifications.reports.scoping import logged_page, logged_read, provider_only
from hjemflyt.notifications.tasks.rules import TaskKind
from hjemflyt.notifications.tasks.service import close_for_reference, open_task
from hjemflyt.shared.contracts.reports import (
    CLARIFICATION_ANSWERED,
    CLARIFICATION_OVERDUE,
    CLARIFICATION_REQUESTED,
    ClarificationAnswered,
    ClarificationOverdue,
    ClarificationRequested,
)
from hjemflyt.shared.platform.audit import Action, LoggedRead
from hjemflyt.shared.platform.auth import Principal, Role
from hjemflyt.shared.platform.context import ServiceContext
from hjemflyt.shared.platform.errors import Conflict, Forbidden, NotFound, RuleViolation
from hjemflyt.shared.platform.pagination import Page, decode_position

OPEN, ANSWERED = "open", "answered"
SWEEP_BATCH = 200


def to_out(row: Clarification) -> ClarificationOut:
    return ClarificationOut(
        id=row.id,
        direction=Direction(row.direction),
        order_id=row.order_id,
        person_id=row.person_id,
        provider_org=row.provider_org,
        district=row.district,
        question=row.question,
        due_date=row.due_date,
        status=row.status,
        asked_at=row.asked_at,
        answer=row.answer,
        answered_at=row.answered_at,
        overdue=row.overdue_at is not None,
    )


async def _create(
    ctx: ServiceContext,
    session: AsyncSession,
    principal: Principal,
    order: OrderRef,
    direction: Direction,
    body: ProviderClarificationIn,
) -> Clarification:
    due, broken = rules.due_date(body.due_date, ctx.clock.today())
    if due is None:
        raise RuleViolation(
            f"due_date must be from today to {rules.LONGEST_DAYS} days ahead.", slug=broken or "due-date"
        )
    now = ctx.clock.now()
    row = Clarification(
        id=uuid.uuid4(),
        direction=direction.value,
        order_id=order.id,
        provider_org=order.provider_org,
        person_id=order.person_id,
        district=order.district,
        question=body.question,
        due_date=due,
        status=OPEN,
        asked_at=now,
        asked_by=principal.subject,
    )
    await ClarificationRepository(session).add(row)
    await ctx.outbox.add(
        session,
        CLARIFICATION_REQUESTED,
        ClarificationRequested(
            clarification_id=row.id,
            direction=row.direction,
            order_id=row.order_id,
            person_id=row.person_id,
            provider_org=row.provider_org,
            district=row.district,
            due_date=due,
            requested_at=now,
        ),
        subject=str(row.id),
    )
    await ctx.access_log.record(
        session,
        principal,
        action=Action.create,
        resource="clarification",
        person_ids=[row.person_id],
        purpose="service delivery" if principal.role == Role.provider else "case handling",
        resource_id=str(row.id),
    )
    return row


async def ask_case_office(
    ctx: ServiceContext,
    session: AsyncSession,
    principal: Principal,
    order_id: uuid.UUID,
    body: ProviderClarificationIn,
) -> ClarificationOut:
    provider_only(principal)
    order = await readable_order(session, principal, order_id)
    row = await _create(ctx, session, principal, order, Direction.provider_to_case_office, body)
    await open_task(
        ctx,
        session,
        TaskKind.clarification_request,
        reference_id=row.id,
        district=row.district,
        person_id=row.person_id,
        provider_org=row.provider_org,
        order_id=row.order_id,
        details={"clarification_id": str(row.id)},
        due_date=row.due_date,
    )
    return to_out(row)


async def ask_provider(
    ctx: ServiceContext, session: AsyncSession, principal: Principal, body: CaseOfficeClarificationIn
) -> ClarificationOut:
    order = await readable_order(session, principal, body.order_id)
    row = await _create(ctx, session, principal, order, Direction.case_office_to_provider, body)
    await enqueue(
        ctx,
        session,
        provider_org=row.provider_org,
        kind="clarification.requested",
        body={
            "clarification_id": str(row.id),
            "order_id": str(row.order_id),
            "question": row.question,
            "due_date": row.due_date.isoformat(),
            "asked_at": row.asked_at.isoformat(),
        },
        person_id=row.person_id,
        district=row.district,
        order_id=row.order_id,
        reference_id=row.id,
    )
    return to_out(row)


async def answer(
    ctx: ServiceContext, session: AsyncSession, principal: Principal, clarification_id: uuid.UUID, text: str
) -> ClarificationOut:
    row = await ClarificationRepository(session).get(principal, clarification_id, for_update=True)
    if row is None:
        raise NotFound("No such clarification request.")
    from_provider = principal.role == Role.provider
    if from_provider != (row.direction == Direction.case_office_to_provider):
        raise Forbidden("The other side answers this clarification request.", slug="answered-by-other-side")
    if row.status != OPEN:
        raise Conflict("This clarification request was answered already.", slug="already-answered")
    await _answer(ctx, session, row, text=text, by=principal.subject)
    await ctx.access_log.record(
        session,
        principal,
        action=Action.update,
        resource="clarification",
        person_ids=[row.person_id],
        purpose="service delivery" if from_provider else "case handling",
        resource_id=str(row.id),
    )
    return to_out(row)


async def _answer(
    ctx: ServiceContext, session: AsyncSession, row: Clarification, *, text: str, by: str
) -> None:
    now = ctx.clock.now()
    row.status = ANSWERED
    row.answer = text
    row.answered_at = now
    row.answered_by = by
    await session.flush()
    if row.direction == Direction.provider_to_case_office:
        await enqueue(
            ctx,
            session,
            provider_org=row.provider_org,
            kind="clarification.answered",
            body={
                "clarification_id": str(row.id),
                "order_id": str(row.order_id),
                "question": row.question,
                "answer": text,
                "answered_at": now.isoformat(),
            },
            person_id=row.person_id,
            district=row.district,
            order_id=row.order_id,
            reference_id=row.id,
        )
        await close_for_reference(
            ctx, session, TaskKind.clarification_request, row.id, by=by, resolution="Answered"
        )
    await close_for_reference(
        ctx, session, TaskKind.clarification_overdue, row.id, by=by, resolution="Answered late"
    )
    await ctx.outbox.add(
        session,
        CLARIFICATION_ANSWERED,
        ClarificationAnswered(
            clarification_id=row.id,
            direction=row.direction,
            order_id=row.order_id,
            person_id=row.person_id,
            provider_org=row.provider_org,
            district=row.district,
            late=rules.is_overdue(row.due_date, ctx.clock.today()),
            answered_at=now,
        ),
        subject=str(row.id),
    )


async def sweep(ctx: ServiceContext, session: AsyncSession) -> int:
    """Flag the clarification requests past their due date (a task and an event each); a
    provider's request whose task the case office closed counts as answered by that."""
    repo = ClarificationRepository(session)
    for row, task in await repo.closed_by_task(limit=SWEEP_BATCH):
        await _answer(ctx, session, row, text=task.resolution or "", by=task.closed_by or "case office")
    rows = await repo.past_due(ctx.clock.today(), limit=SWEEP_BATCH)
    flagged = 0
    for row in rows:
        now = ctx.clock.now()
        row.overdue_at = now
        await open_task(
            ctx,
            session,
            TaskKind.clarification_overdue,
            reference_id=row.id,
            district=row.district,
            person_id=row.person_id,
            provider_org=row.provider_org,
            order_id=row.order_id,
            details={"clarification_id": str(row.id), "direction": row.direction},
            due_date=row.due_date,
        )
        await ctx.outbox.add(
            session,
            CLARIFICATION_OVERDUE,
            ClarificationOverdue(
                clarification_id=row.id,
                direction=row.direction,
                order_id=row.order_id,
                person_id=row.person_id,
                provider_org=row.provider_org,
                district=row.district,
                due_date=row.due_date,
                overdue_at=now,
            ),
            subject=str(row.id),
        )
        flagged += 1
    await session.flush()
    return flagged


async def page(
    session: AsyncSession,
    principal: Principal,
    log_read: LoggedRead,
    *,
    status: str | None,
    direction: str | None,
    limit: int,
    cursor: str | None,
) -> Page[ClarificationOut]:
    rows = await ClarificationRepository(session).page(
        principal, status=status, direction=direction, limit=limit, after=decode_position(cursor)
    )
    next_cursor = await logged_page(log_read, "clarification-list", rows, limit=limit, at="asked_at")
    return Page[ClarificationOut](items=[to_out(r) for r in rows], next_cursor=next_cursor)


async def get(
    session: AsyncSession, principal: Principal, clarification_id: uuid.UUID, log_read: LoggedRead
) -> ClarificationOut:
    row = await ClarificationRepository(session).get(principal, clarification_id)
    if row is None:
        raise NotFound("No such clarification request.")
    await logged_read(log_read, "clarification", row)
    return to_out(row)
