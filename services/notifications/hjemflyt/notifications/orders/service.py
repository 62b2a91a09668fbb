"""Orders from decisions: each version a decision sends to a provider becomes a message to
that provider (new, changed with what changed, ended), admissions pause and discharges
resume the person's running orders, and the provider's answers move the order's status.

An order is one row per decision and provider (the newest version); every version is a
message, so the history is exactly what the provider received. A version already seen
(the same decision version issued again under a new event id) or an older one arriving
late changes nothing.
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from hjemflyt.notifications.messages import acks
from hjemflyt.notifications.messages.models import Message
from hjemflyt.notifications.messages.repository import MessageRepository
from hjemflyt.notifications.messages.schemas import MessageOut, ack_out, delivery_out, message_out
from hjemflyt.notifications.messages.service import enqueue
from hjemflyt.notifications.orders.models import Order
from hjemflyt.notifications.orders.repository import OrderRepository
from hjemflyt.notifications.orders.rules import (
    CLOSED,
    NEEDS_ACK,
    OrderStatus,
    changed_fields,
    changes,
    message_kind,
)
from hjemflyt.notifications.orders.schemas import OrderOut
from hjemflyt.notifications.pathways.service import pathway_reference
from hjemflyt.notifications.providers.repository import ProviderRepository
from hjemflyt.notifications.reports.scoping import reading
from hjemflyt.notifications.routines.service import routines_reference
from hjemflyt.notifications.tasks.rules import TaskKind
from hjemflyt.notifications.tasks.service import close_for_reference, open_task
from hjemflyt.shared.contracts.events import (
    ORDER_CREATED,
    AdmissionCancelled,
    OrderCreated,
    OrderIssued,
    PersonAdmitted,
    PersonDischarged,
)
from hjemflyt.shared.contracts.orders import (
    ORDER_ACKNOWLEDGED,
    ORDER_CHANGED,
    ORDER_ENDED,
    ORDER_PAUSED,
    ORDER_RESUMED,
    OrderAcknowledged,
    OrderChanged,
    OrderEnded,
    OrderPaused,
    OrderResumed,
)
from hjemflyt.shared.platform.audit import LoggedRead
from hjemflyt.shared.platform.auth import Principal
from hjemflyt.shared.platform.context import ServiceContext
from hjemflyt.shared.platform.errors import NotFound
from hjemflyt.shared.platform.pagination import Page, decode_position, encode_position


class UnknownProvider(Exception):
    """An order for a provider the registry does not know: retried, then dead-lettered."""


def order_data(order: Order, kind: str, **extra: Any) -> dict[str, Any]:
    """A message's `data`: the order as the provider needs it, and what this message says."""
    return {
        "id": str(order.id),
        "kind": kind,
        "decision_id": str(order.decision_id),
        "decision_version": order.decision_version,
        "provider_org": order.provider_org,
        "district": order.district,
        **order.content,
        **extra,
    }


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def order_content(
    data: OrderIssued, *, routines: dict[str, Any] | None, pathway: dict[str, Any] | None
) -> dict[str, Any]:
    """What an order version says to its provider (stored as the order's `content`, sent
    as the message's `data` with the order's ids): the decision as decided, nothing added."""
    return {
        "basis": data.basis,
        "recipient": data.recipient.model_dump(mode="json"),
        "organisation_model": data.organisation_model,
        "services": [s.model_dump(mode="json") for s in data.services],
        "decision_date": _iso(data.decision_date),
        "start_date": data.start_date.isoformat(),
        "end_date": _iso(data.end_date),
        "evaluation_date": _iso(data.evaluation_date),
        "purpose": data.purpose,
        "user_goal": data.user_goal,
        "end_reason": data.end_reason,
        "case_office_contact": data.case_office_contact,
        "pathway": pathway,
        "routines": routines,
    }


async def _send(ctx: ServiceContext, session: AsyncSession, order: Order, kind: str, **extra: Any) -> Message:
    within = timedelta(hours=ctx.settings.order_ack_hours) if kind in NEEDS_ACK else None
    return await enqueue(
        ctx,
        session,
        provider_org=order.provider_org,
        kind=f"order.{kind}",
        body=order_data(order, kind, **extra),
        person_id=order.person_id,
        district=order.district,
        order_id=order.id,
        ack_within=within,
    )


async def _supersede(ctx: ServiceContext, session: AsyncSession, order: Order) -> None:
    """Older unanswered versions are no longer to be answered; their escalations are moot."""
    for old in await MessageRepository(session).supersede_awaiting(order_id=order.id):
        if old.escalated_at is not None:
            await close_for_reference(
                ctx,
                session,
                TaskKind.order_unacknowledged,
                old.id,
                by="notifications",
                resolution="A newer version of the order was sent.",
            )


async def issue(ctx: ServiceContext, session: AsyncSession, data: OrderIssued) -> Message | None:
    """Handle `order.issued`: the message (if any) the provider gets for this version."""
    if await ProviderRepository(session).get(data.provider_org) is None:
        raise UnknownProvider(f"no provider {data.provider_org} in the registry")
    now = ctx.clock.now()
    content = order_content(
        data,
        routines=await routines_reference(session, data.district),
        pathway=await pathway_reference(session, data.person_id),
    )
    repo = OrderRepository(session)
    order = await repo.for_decision(data.decision_id, data.provider_org)
    if order is None:
        kind = message_kind(data.kind, None)
        order = await repo.add_once(
            {
                "id": uuid.uuid4(),
                "decision_id": data.decision_id,
                "decision_version": data.decision_version,
                "provider_org": data.provider_org,
                "person_id": data.person_id,
                "district": data.district,
                "kind": kind,
                "status": (OrderStatus.ended if kind == "ended" else OrderStatus.sent).value,
                "content": content,
                "created_at": now,
                "updated_at": now,
            }
        )
        if order is not None:
            message = await _send(ctx, session, order, kind)
            await ctx.outbox.add(
                session,
                ORDER_CREATED,
                OrderCreated(
                    order_id=order.id,
                    decision_id=order.decision_id,
                    decision_version=order.decision_version,
                    person_id=order.person_id,
                    provider_org=order.provider_org,
                    created_at=order.created_at,
                ),
                subject=str(order.id),
            )
            return message
        # A concurrent handler created it a moment ago: go on as with an existing order.
        order = await repo.for_decision(data.decision_id, data.provider_org)
        assert order is not None
    if data.decision_version <= order.decision_version:
        return None  # this version (or a newer one) was handled already
    kind = message_kind(data.kind, order.status)
    before, was = order.content, OrderStatus(order.status)
    order.decision_version = data.decision_version
    order.content = content
    order.updated_at = now
    if kind == "ended" and was in CLOSED:
        order.kind = kind
        order.status = OrderStatus.ended.value
        await session.flush()
        return None  # rejected or ended already: nothing for the provider to stop
    diff = changes(before, content) if kind == "changed" else {}
    if kind == "changed" and not diff:
        await session.flush()
        return None  # the decision changed in what is not this provider's: nothing to tell
    order.kind = kind
    if kind == "ended":
        order.status = OrderStatus.ended.value
        order.resume_status = None
        order.paused_by = None
    elif was == OrderStatus.paused:
        order.resume_status = OrderStatus.sent.value
    else:
        order.status = OrderStatus.sent.value
    await session.flush()
    await _supersede(ctx, session, order)
    message = await _send(ctx, session, order, kind, **({"changes": diff} if kind == "changed" else {}))
    if kind == "changed":
        await ctx.outbox.add(
            session,
            ORDER_CHANGED,
            OrderChanged(
                order_id=order.id,
                decision_id=order.decision_id,
                decision_version=order.decision_version,
                person_id=order.person_id,
                provider_org=order.provider_org,
                district=order.district,
                changed=changed_fields(diff),
                message_id=message.id,
                changed_at=now,
            ),
            subject=str(order.id),
        )
    elif kind == "ended":
        await ctx.outbox.add(
            session,
            ORDER_ENDED,
            OrderEnded(
                order_id=order.id,
                decision_id=order.decision_id,
                decision_version=order.decision_version,
                person_id=order.person_id,
                provider_org=order.provider_org,
                district=order.district,
                end_date=data.end_date,
                ended_at=now,
            ),
            subject=str(order.id),
        )
    return message


async def pause(ctx: ServiceContext, session: AsyncSession, data: PersonAdmitted) -> list[Message]:
    """The person was admitted: each running order pauses, and its provider is told."""
    now = ctx.clock.now()
    sent = []
    for order in await OrderRepository(session).running_for_person(data.person_id):
        order.resume_status = order.status
        order.status = OrderStatus.paused.value
        order.paused_by = data.admission_id
        order.updated_at = now
        await session.flush()
        pause_info = {
            "admission_id": str(data.admission_id),
            "admitted_at": data.admitted_at.isoformat(),
            "expected_discharge_date": (
                data.expected_discharge_date.isoformat() if data.expected_discharge_date else None
            ),
        }
        sent.append(await _send(ctx, session, order, "paused", pause=pause_info))
        await ctx.outbox.add(
            session,
            ORDER_PAUSED,
            OrderPaused(
                order_id=order.id,
                person_id=order.person_id,
                provider_org=order.provider_org,
                district=order.district,
                admission_id=data.admission_id,
                paused_at=now,
            ),
            subject=str(order.id),
        )
    return sent


async def resume(ctx: ServiceContext, session: AsyncSession, data: PersonDischarged) -> list[Message]:
    """The person came home: the orders that admission paused resume."""
    info = {"admission_id": str(data.admission_id), "discharged_at": data.discharged_at.isoformat()}
    return await _resume(ctx, session, data.person_id, data.admission_id, info)


async def resume_cancelled(
    ctx: ServiceContext, session: AsyncSession, data: AdmissionCancelled
) -> list[Message]:
    """The admission was cancelled (the stay did not happen): the orders it paused resume."""
    info = {
        "admission_id": str(data.admission_id),
        "admission_cancelled_at": data.cancelled_at.isoformat(),
    }
    return await _resume(ctx, session, data.person_id, data.admission_id, info)


async def _resume(
    ctx: ServiceContext,
    session: AsyncSession,
    person_id: uuid.UUID,
    admission_id: uuid.UUID,
    resume_info: dict[str, str],
) -> list[Message]:
    now = ctx.clock.now()
    sent = []
    for order in await OrderRepository(session).paused_by(person_id, admission_id):
        order.status = order.resume_status or OrderStatus.sent.value
        order.resume_status = None
        order.paused_by = None
        order.updated_at = now
        await session.flush()
        sent.append(await _send(ctx, session, order, "resumed", resume=resume_info))
        await ctx.outbox.add(
            session,
            ORDER_RESUMED,
            OrderResumed(
                order_id=order.id,
                person_id=order.person_id,
                provider_org=order.provider_org,
                district=order.district,
                admission_id=admission_id,
                resumed_at=now,
            ),
            subject=str(order.id),
        )
    return sent


# --- acknowledgements ------------------------------------------------------------------


async def _acknowledged(ctx: ServiceContext, session: AsyncSession, message: Message, order: Order) -> None:
    assert message.acked_at is not None
    late = message.ack_deadline is not None and message.acked_at > message.ack_deadline
    await ctx.outbox.add(
        session,
        ORDER_ACKNOWLEDGED,
        OrderAcknowledged(
            order_id=order.id,
            decision_id=order.decision_id,
            decision_version=int(message.body.get("decision_version", order.decision_version)),
            person_id=order.person_id,
            provider_org=order.provider_org,
            district=order.district,
            message_id=message.id,
            accepted=message.ack_status == "accepted",
            reason=message.ack_reason,
            late=late,
            acknowledged_at=message.acked_at,
        ),
        subject=str(order.id),
    )
    if message.escalated_at is not None:
        await close_for_reference(
            ctx,
            session,
            TaskKind.order_unacknowledged,
            message.id,
            by="notifications",
            resolution=f"The provider answered late: {message.ack_status}.",
        )


async def on_accepted(ctx: ServiceContext, session: AsyncSession, message: Message) -> None:
    order = (
        await OrderRepository(session).by_id(message.order_id, for_update=True) if message.order_id else None
    )
    if order is None:
        return
    if order.status == OrderStatus.sent:
        order.status = OrderStatus.accepted.value
    elif order.status == OrderStatus.paused and order.resume_status == OrderStatus.sent:
        order.resume_status = OrderStatus.accepted.value
    order.updated_at = ctx.clock.now()
    await session.flush()
    await _acknowledged(ctx, session, message, order)


async def on_rejected(ctx: ServiceContext, session: AsyncSession, message: Message) -> None:
    order = (
        await OrderRepository(session).by_id(message.order_id, for_update=True) if message.order_id else None
    )
    if order is None:
        return
    if order.status != OrderStatus.ended:
        order.status = OrderStatus.rejected.value
        order.resume_status = None
        order.paused_by = None
    order.updated_at = ctx.clock.now()
    await session.flush()
    await open_task(
        ctx,
        session,
        TaskKind.order_rejected,
        reference_id=message.id,
        district=order.district,
        person_id=order.person_id,
        provider_org=order.provider_org,
        order_id=order.id,
        details={
            "message_id": str(message.id),
            "decision_id": str(order.decision_id),
            "decision_version": message.body.get("decision_version"),
            "reason": message.ack_reason,
        },
    )
    await _acknowledged(ctx, session, message, order)


async def on_overdue(ctx: ServiceContext, session: AsyncSession, message: Message) -> None:
    await open_task(
        ctx,
        session,
        TaskKind.order_unacknowledged,
        reference_id=message.id,
        district=message.district,
        person_id=message.person_id,
        provider_org=message.provider_org,
        order_id=message.order_id,
        details={
            "message_id": str(message.id),
            "kind": message.kind,
            "deadline": message.ack_deadline.isoformat() if message.ack_deadline else None,
            "delivery_state": message.delivery_state,
        },
    )


# What follows a provider's answer to an order message (registered in main.py).
ACK_HANDLERS = acks.AckHandlers(accepted=on_accepted, rejected=on_rejected, overdue=on_overdue)


def to_out(order: Order, latest: Message | None = None, latest_ack: Message | None = None) -> OrderOut:
    return OrderOut.model_validate(
        {
            "id": order.id,
            "kind": order.kind,
            "status": order.status,
            "decision_id": order.decision_id,
            "decision_version": order.decision_version,
            "provider_org": order.provider_org,
            "person_id": order.person_id,
            "district": order.district,
            "created_at": order.created_at,
            "updated_at": order.updated_at,
            "routines": None,
            **order.content,
            "ack": ack_out(latest_ack) if latest_ack else None,
            "delivery": delivery_out(latest) if latest else None,
        }
    )


async def page(
    session: AsyncSession,
    principal: Principal,
    log_read: LoggedRead,
    *,
    limit: int,
    cursor: str | None,
    status: str | None,
    district: str | None,
    person_id: uuid.UUID | None,
    provider_org: str | None,
    decision_id: uuid.UUID | None,
) -> Page[OrderOut]:
    """Orders the principal sees, each with its latest message and acknowledgement."""
    orders = await OrderRepository(session).page(
        principal,
        limit=limit,
        after=decode_position(cursor),
        status=status,
        district=district,
        person_id=person_id,
        provider_org=provider_org,
        decision_id=decision_id,
    )
    ids = [o.id for o in orders]
    messages = MessageRepository(session)
    latest = await messages.latest_for_orders(ids)
    latest_ack = await messages.latest_ack_for_orders(ids)
    await reading(log_read)("order-list", sorted({o.person_id for o in orders}))
    next_cursor = encode_position(orders[-1].created_at, orders[-1].id) if len(orders) == limit else None
    return Page[OrderOut](
        items=[to_out(o, latest.get(o.id), latest_ack.get(o.id)) for o in orders], next_cursor=next_cursor
    )


async def _readable(session: AsyncSession, principal: Principal, order_id: uuid.UUID) -> Order:
    order = await OrderRepository(session).get(principal, order_id)
    if order is None:
        raise NotFound("No such order.")
    return order


async def get(
    session: AsyncSession, principal: Principal, order_id: uuid.UUID, log_read: LoggedRead
) -> OrderOut:
    order = await _readable(session, principal, order_id)
    messages = MessageRepository(session)
    latest = (await messages.latest_for_orders([order.id])).get(order.id)
    latest_ack = (await messages.latest_ack_for_orders([order.id])).get(order.id)
    await reading(log_read)("order", [order.person_id], resource_id=str(order.id))
    return to_out(order, latest, latest_ack)


async def order_messages(
    session: AsyncSession, principal: Principal, order_id: uuid.UUID, log_read: LoggedRead
) -> list[MessageOut]:
    """Every message about the order, with its delivery and acknowledgement state."""
    order = await _readable(session, principal, order_id)
    found = await MessageRepository(session).for_order(order.id)
    await reading(log_read)("order-messages", [order.person_id], resource_id=str(order.id))
    return [message_out(m) for m in found]
