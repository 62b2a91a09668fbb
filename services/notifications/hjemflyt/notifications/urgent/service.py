"""Urgent requests (e.g. emergency GP to home nursing, DOMAIN § 7): sent as a message the
provider must accept or decline by a deadline; declined or unanswered escalates to the case
office. Every state change is in the request's audit trail (who, what, when).

The provider answers at POST /v1/urgent-requests/{id}/answer or by acknowledging the
message (POST /v1/messages/{id}/acknowledgement): the `urgent_request.` acknowledgement
hooks make both the same answer.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from hjemflyt.notifications.messages.acks import AckHandlers
from hjemflyt.notifications.messages.models import Message
from hjemflyt.notifications.messages.service import acknowledge, enqueue
from hjemflyt.notifications.reports.orders import readable_order
from hjemflyt.notifications.reports.scoping import logged_page, logged_read, provider_only
from hjemflyt.notifications.tasks.rules import TaskKind
from hjemflyt.notifications.tasks.service import open_task
from hjemflyt.notifications.urgent.models import UrgentRequest, UrgentRequestTrail
from hjemflyt.notifications.urgent.repository import UrgentRequestRepository
from hjemflyt.notifications.urgent.schemas import (
    TrailEntry,
    Urgency,
    UrgentAnswerIn,
    UrgentRequestIn,
    UrgentRequestOut,
)
from hjemflyt.shared.contracts.reports import (
    URGENT_REQUEST_ANSWERED,
    URGENT_REQUEST_ESCALATED,
    URGENT_REQUEST_SENT,
    UrgentRequestAnswered,
    UrgentRequestEscalated,
    UrgentRequestSent,
)
from hjemflyt.shared.platform.audit import Action, LoggedRead
from hjemflyt.shared.platform.auth import Principal
from hjemflyt.shared.platform.context import ServiceContext
from hjemflyt.shared.platform.errors import Conflict, NotFound
from hjemflyt.shared.platform.pagination import Page, decode_position

MESSAGE_KIND = "urgent_request.sent"
SENT, ACCEPTED, DECLINED, ESCALATED = "sent", "accepted", "declined", "escalated"
SWEEP_BATCH = 200


class Actor:
    """Who changed an urgent request: a principal, or the system (deadline, message hook)."""

    def __init__(self, subject: str, role: str, organisation: str | None) -> None:
        self.subject, self.role, self.organisation = subject, role, organisation

    @classmethod
    def of(cls, principal: Principal) -> Actor:
        return cls(principal.subject, principal.role.value, principal.provider_org)


SYSTEM = Actor("hjemflyt-notifications", "system", None)


def to_out(row: UrgentRequest, trail: list[UrgentRequestTrail] | None = None) -> UrgentRequestOut:
    return UrgentRequestOut(
        id=row.id,
        order_id=row.order_id,
        person_id=row.person_id,
        provider_org=row.provider_org,
        district=row.district,
        reason=row.reason,
        urgency=Urgency(row.urgency),
        requested_action=row.requested_action,
        respond_within_minutes=row.respond_within_minutes,
        respond_by=row.respond_by,
        status=row.status,
        requested_at=row.requested_at,
        accepted=row.accepted,
        note=row.note,
        answered_at=row.answered_at,
        escalated_at=row.escalated_at,
        message_id=row.message_id,
        trail=[TrailEntry.model_validate(t) for t in trail or []],
    )


async def _trail(
    session: AsyncSession, row: UrgentRequest, actor: Actor, action: str, at: datetime, **details: Any
) -> None:
    await UrgentRequestRepository(session).add(
        UrgentRequestTrail(
            urgent_request_id=row.id,
            at=at,
            actor=actor.subject,
            role=actor.role,
            organisation=actor.organisation,
            action=action,
            details=details,
        )
    )


async def send(
    ctx: ServiceContext, session: AsyncSession, principal: Principal, body: UrgentRequestIn
) -> UrgentRequestOut:
    order = await readable_order(session, principal, body.order_id)
    today = ctx.clock.today()
    if order.ended_before(today) or order.status == "ended":
        raise Conflict(
            "The order is not active: the provider no longer serves the person under it.",
            slug="order-not-active",
        )
    now = ctx.clock.now()
    respond_by = now + timedelta(minutes=body.respond_within_minutes)
    row = UrgentRequest(
        id=uuid.uuid4(),
        order_id=order.id,
        provider_org=order.provider_org,
        person_id=order.person_id,
        district=order.district,
        reason=body.reason,
        urgency=body.urgency.value,
        requested_action=body.requested_action,
        respond_within_minutes=body.respond_within_minutes,
        respond_by=respond_by,
        status=SENT,
        requested_at=now,
        requested_by=principal.subject,
    )
    repo = UrgentRequestRepository(session)
    await repo.add(row)
    message = await enqueue(
        ctx,
        session,
        provider_org=row.provider_org,
        kind=MESSAGE_KIND,
        body={
            "urgent_request_id": str(row.id),
            "order_id": str(row.order_id),
            "reason": row.reason,
            "urgency": row.urgency,
            "requested_action": row.requested_action,
            "respond_by": respond_by.isoformat(),
            "answer": f"/v1/urgent-requests/{row.id}/answer",
        },
        person_id=row.person_id,
        district=row.district,
        order_id=row.order_id,
        reference_id=row.id,
        ack_deadline=respond_by,
    )
    row.message_id = message.id
    await _trail(
        session, row, Actor.of(principal), "sent", now, urgency=row.urgency, respond_by=respond_by.isoformat()
    )
    await ctx.outbox.add(
        session,
        URGENT_REQUEST_SENT,
        UrgentRequestSent(
            urgent_request_id=row.id,
            order_id=row.order_id,
            person_id=row.person_id,
            provider_org=row.provider_org,
            district=row.district,
            urgency=row.urgency,
            respond_by=respond_by,
            sent_at=now,
        ),
        subject=str(row.id),
    )
    await ctx.access_log.record(
        session,
        principal,
        action=Action.create,
        resource="urgent-request",
        person_ids=[row.person_id],
        purpose="urgent care",
        resource_id=str(row.id),
    )
    return to_out(row, list(await repo.trail(row.id)))


async def answer(
    ctx: ServiceContext,
    session: AsyncSession,
    principal: Principal,
    request_id: uuid.UUID,
    body: UrgentAnswerIn,
) -> UrgentRequestOut:
    provider_only(principal)
    repo = UrgentRequestRepository(session)
    row = await repo.get(principal, request_id, for_update=True)
    if row is None:
        raise NotFound("No such urgent request.")
    await _record_answer(
        ctx, session, row, Actor.of(principal), accepted=body.accepted, note=body.note, via="api"
    )
    if row.message_id is not None:
        # The answer is also the message's acknowledgement, so the message shows it and its
        # deadline does not fire; the hook below sees the request answered and does nothing.
        await acknowledge(ctx, session, principal, row.message_id, accepted=body.accepted, reason=body.note)
    await ctx.access_log.record(
        session,
        principal,
        action=Action.update,
        resource="urgent-request",
        person_ids=[row.person_id],
        purpose="urgent care",
        resource_id=str(row.id),
    )
    return to_out(row, list(await repo.trail(row.id)))


async def _record_answer(
    ctx: ServiceContext,
    session: AsyncSession,
    row: UrgentRequest,
    actor: Actor,
    *,
    accepted: bool,
    note: str | None,
    via: str,
) -> None:
    if row.status in (ACCEPTED, DECLINED):
        raise Conflict(
            f"This urgent request was {row.status} already.", slug="already-answered", status_now=row.status
        )
    now = ctx.clock.now()
    late = now > row.respond_by
    row.status = ACCEPTED if accepted else DECLINED
    row.accepted = accepted
    row.note = note
    row.answered_at = now
    row.answered_by = actor.subject
    await session.flush()
    await _trail(session, row, actor, row.status, now, late=late, via=via)
    await ctx.outbox.add(
        session,
        URGENT_REQUEST_ANSWERED,
        UrgentRequestAnswered(
            urgent_request_id=row.id,
            order_id=row.order_id,
            person_id=row.person_id,
            provider_org=row.provider_org,
            district=row.district,
            accepted=accepted,
            late=late,
            answered_at=now,
        ),
        subject=str(row.id),
    )
    if not accepted:
        await _escalate(ctx, session, row, reason="declined")


async def _escalate(ctx: ServiceContext, session: AsyncSession, row: UrgentRequest, *, reason: str) -> None:
    if row.escalated_at is not None:
        return  # escalated before (no answer in time; now also declined): one task is enough
    now = ctx.clock.now()
    if row.status == SENT:
        row.status = ESCALATED
    row.escalated_at = now
    await session.flush()
    await _trail(session, row, SYSTEM, "escalated", now, reason=reason)
    await open_task(
        ctx,
        session,
        TaskKind.urgent_request_escalated,
        reference_id=row.id,
        district=row.district,
        person_id=row.person_id,
        provider_org=row.provider_org,
        order_id=row.order_id,
        details={"urgent_request_id": str(row.id), "reason": reason, "urgency": row.urgency},
        title="An urgent request was declined"
        if reason == "declined"
        else "An urgent request was not answered in time",
    )
    await ctx.outbox.add(
        session,
        URGENT_REQUEST_ESCALATED,
        UrgentRequestEscalated(
            urgent_request_id=row.id,
            order_id=row.order_id,
            person_id=row.person_id,
            provider_org=row.provider_org,
            district=row.district,
            reason=reason,
            escalated_at=now,
        ),
        subject=str(row.id),
    )


async def sweep(ctx: ServiceContext, session: AsyncSession) -> int:
    """Escalate the urgent requests nobody answered by their deadline."""
    rows = await UrgentRequestRepository(session).past_deadline(ctx.clock.now(), limit=SWEEP_BATCH)
    for row in rows:
        await _escalate(ctx, session, row, reason="no_answer")
    return len(rows)


# --- the generic message acknowledgement is the same answer ------------------------------


async def _on_ack(ctx: ServiceContext, session: AsyncSession, message: Message, accepted: bool) -> None:
    if message.reference_id is None:
        return
    row = await UrgentRequestRepository(session).get_for_system(message.reference_id)
    if row is None or row.provider_org != message.provider_org or row.status in (ACCEPTED, DECLINED):
        return
    actor = Actor(f"provider:{message.provider_org}", "provider", message.provider_org)
    note = message.ack_reason if not accepted else None
    await _record_answer(ctx, session, row, actor, accepted=accepted, note=note, via="acknowledgement")


async def _accepted(ctx: ServiceContext, session: AsyncSession, message: Message) -> None:
    await _on_ack(ctx, session, message, True)


async def _rejected(ctx: ServiceContext, session: AsyncSession, message: Message) -> None:
    await _on_ack(ctx, session, message, False)


async def _overdue(ctx: ServiceContext, session: AsyncSession, message: Message) -> None:
    if message.reference_id is None:
        return
    row = await UrgentRequestRepository(session).get_for_system(message.reference_id)
    if row is not None and row.status == SENT:
        await _escalate(ctx, session, row, reason="no_answer")


# What follows a provider's answer to an urgent request (registered in main.py).
ACK_HANDLERS = AckHandlers(accepted=_accepted, rejected=_rejected, overdue=_overdue)


async def page(
    session: AsyncSession,
    principal: Principal,
    log_read: LoggedRead,
    *,
    status: str | None,
    limit: int,
    cursor: str | None,
) -> Page[UrgentRequestOut]:
    rows = await UrgentRequestRepository(session).page(
        principal, status=status, limit=limit, after=decode_position(cursor)
    )
    next_cursor = await logged_page(log_read, "urgent-request-list", rows, limit=limit, at="requested_at")
    return Page[UrgentRequestOut](items=[to_out(r) for r in rows], next_cursor=next_cursor)


async def get(
    session: AsyncSession, principal: Principal, request_id: uuid.UUID, log_read: LoggedRead
) -> UrgentRequestOut:
    """One urgent request with its audit trail."""
    repo = UrgentRequestRepository(session)
    row = await repo.get(principal, request_id)
    if row is None:
        raise NotFound("No such urgent request.")
    await logged_read(log_read, "urgent-request", row)
    return to_out(row, list(await repo.trail(row.id)))
