"""Orders for the case office (its districts) and for the provider (its own): the list,
one order, and each message sent about it with its delivery and acknowledgement state."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from hjemflyt.notifications.messages.models import Message
from hjemflyt.notifications.messages.repository import MessageRepository
from hjemflyt.notifications.messages.schemas import MessageOut, ack_out, delivery_out, message_out
from hjemflyt.notifications.orders.models import Order
from hjemflyt.notifications.orders.repository import OrderRepository
from hjemflyt.notifications.orders.rules import OrderStatus
from hjemflyt.notifications.orders.schemas import OrderOut
from hjemflyt.shared.platform.audit import Action
from hjemflyt.shared.platform.auth import Principal, Role
from hjemflyt.shared.platform.auth import Scope as AuthScope
from hjemflyt.shared.platform.deps import ContextDep, SessionDep, requires
from hjemflyt.shared.platform.errors import NotFound
from hjemflyt.shared.platform.pagination import MAX_LIMIT, Page, decode_position, encode_position

router = APIRouter(prefix="/v1/orders", tags=["orders"])
Reader = Annotated[Principal, Depends(requires(AuthScope.orders_read))]


def purpose(principal: Principal) -> str:
    return "service delivery" if principal.role == Role.provider else "case handling"


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


@router.get("", summary="Orders: the case office's districts, or a provider's own")
async def list_orders(
    ctx: ContextDep,
    session: SessionDep,
    principal: Reader,
    status: OrderStatus | None = None,
    district: Annotated[str | None, Query(max_length=100)] = None,
    person_id: uuid.UUID | None = None,
    provider_org: Annotated[str | None, Query(max_length=20)] = None,
    decision_id: uuid.UUID | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
    cursor: str | None = None,
) -> Page[OrderOut]:
    orders = await OrderRepository(session).page(
        principal,
        limit=limit,
        after=decode_position(cursor),
        status=status.value if status else None,
        district=district,
        person_id=person_id,
        provider_org=provider_org,
        decision_id=decision_id,
    )
    ids = [o.id for o in orders]
    messages = MessageRepository(session)
    latest = await messages.latest_for_orders(ids)
    latest_ack = await messages.latest_ack_for_orders(ids)
    await ctx.access_log.record(
        session,
        principal,
        action=Action.read,
        resource="order-list",
        person_ids=sorted({o.person_id for o in orders}),
        purpose=purpose(principal),
    )
    next_cursor = encode_position(orders[-1].created_at, orders[-1].id) if len(orders) == limit else None
    return Page[OrderOut](
        items=[to_out(o, latest.get(o.id), latest_ack.get(o.id)) for o in orders], next_cursor=next_cursor
    )


async def _readable(ctx: ContextDep, session: SessionDep, principal: Principal, order_id: uuid.UUID) -> Order:
    order = await OrderRepository(session).get(principal, order_id)
    if order is None:
        raise NotFound("No such order.")
    return order


@router.get("/{order_id}", summary="One order (a provider: its own; the case office: its districts)")
async def get_order(order_id: uuid.UUID, ctx: ContextDep, session: SessionDep, principal: Reader) -> OrderOut:
    order = await _readable(ctx, session, principal, order_id)
    messages = MessageRepository(session)
    latest = (await messages.latest_for_orders([order.id])).get(order.id)
    latest_ack = (await messages.latest_ack_for_orders([order.id])).get(order.id)
    await ctx.access_log.record(
        session,
        principal,
        action=Action.read,
        resource="order",
        person_ids=[order.person_id],
        purpose=purpose(principal),
        resource_id=str(order.id),
    )
    return to_out(order, latest, latest_ack)


@router.get(
    "/{order_id}/messages", summary="Every message about the order, with delivery and acknowledgement"
)
async def order_messages(
    order_id: uuid.UUID, ctx: ContextDep, session: SessionDep, principal: Reader
) -> list[MessageOut]:
    order = await _readable(ctx, session, principal, order_id)
    found = await MessageRepository(session).for_order(order.id)
    await ctx.access_log.record(
        session,
        principal,
        action=Action.read,
        resource="order-messages",
        person_ids=[order.person_id],
        purpose=purpose(principal),
        resource_id=str(order.id),
    )
    return [message_out(m) for m in found]
