"""The provider's inbox: its orders, newest last, with a cursor."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from hjemflyt.notifications.orders.models import Order
from hjemflyt.notifications.orders.repository import OrderRepository
from hjemflyt.notifications.orders.schemas import OrderOut
from hjemflyt.shared.platform.audit import Action
from hjemflyt.shared.platform.auth import Principal, Role, Scope
from hjemflyt.shared.platform.deps import ContextDep, SessionDep, requires
from hjemflyt.shared.platform.errors import Forbidden, NotFound
from hjemflyt.shared.platform.pagination import MAX_LIMIT, Page, decode_position, encode_position

router = APIRouter(prefix="/v1", tags=["orders"])
Reader = Annotated[Principal, Depends(requires(Scope.orders_read))]


def to_out(order: Order) -> OrderOut:
    return OrderOut.model_validate(
        {
            "id": order.id,
            "kind": order.kind,
            "status": order.status,
            "decision_id": order.decision_id,
            "decision_version": order.decision_version,
            "provider_org": order.provider_org,
            "district": order.district,
            "created_at": order.created_at,
            **order.content,
        }
    )


@router.get("/inbox", summary="Your organisation's orders (provider token)")
async def inbox(
    ctx: ContextDep,
    session: SessionDep,
    principal: Reader,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
    cursor: str | None = None,
) -> Page[OrderOut]:
    if principal.role != Role.provider:
        raise Forbidden("The inbox is a provider's; the case office lists orders at /v1/orders.")
    after = decode_position(cursor)
    orders = await OrderRepository(session).page(principal, limit=limit, after=after)
    await ctx.access_log.record(
        session,
        principal,
        action=Action.read,
        resource="order-list",
        person_ids=[o.person_id for o in orders],
        purpose="service delivery",
    )
    next_cursor = None
    if len(orders) == limit:
        last = orders[-1]
        next_cursor = encode_position(last.created_at, last.id)
    return Page[OrderOut](items=[to_out(o) for o in orders], next_cursor=next_cursor)


@router.get("/orders/{order_id}", summary="One of your organisation's orders")
async def get_order(order_id: uuid.UUID, ctx: ContextDep, session: SessionDep, principal: Reader) -> OrderOut:
    order = await OrderRepository(session).get(principal, order_id)
    if order is None:
        raise NotFound("No such order.")
    await ctx.access_log.record(
        session,
        principal,
        action=Action.read,
        resource="order",
        person_ids=[order.person_id],
        purpose="service delivery",
        resource_id=str(order.id),
    )
    return to_out(order)
