"""Orders for the case office (its districts) and for the provider (its own): the list,
one order, and each message sent about it with its delivery and acknowledgement state."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from hjemflyt.notifications.messages.schemas import MessageOut
from hjemflyt.notifications.orders import service
from hjemflyt.notifications.orders.rules import OrderStatus
from hjemflyt.notifications.orders.schemas import OrderOut
from hjemflyt.shared.platform.auth import Principal
from hjemflyt.shared.platform.auth import Scope as AuthScope
from hjemflyt.shared.platform.deps import LoggedReadDep, SessionDep, requires
from hjemflyt.shared.platform.pagination import MAX_LIMIT, Page

router = APIRouter(prefix="/v1/orders", tags=["orders"])
Reader = Annotated[Principal, Depends(requires(AuthScope.orders_read))]


@router.get("", summary="Orders: the case office's districts, or a provider's own")
async def list_orders(
    session: SessionDep,
    principal: Reader,
    log_read: LoggedReadDep,
    status: OrderStatus | None = None,
    district: Annotated[str | None, Query(max_length=100)] = None,
    person_id: uuid.UUID | None = None,
    provider_org: Annotated[str | None, Query(max_length=20)] = None,
    decision_id: uuid.UUID | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
    cursor: str | None = None,
) -> Page[OrderOut]:
    return await service.page(
        session,
        principal,
        log_read,
        limit=limit,
        cursor=cursor,
        status=status.value if status else None,
        district=district,
        person_id=person_id,
        provider_org=provider_org,
        decision_id=decision_id,
    )


@router.get("/{order_id}", summary="One order (a provider: its own; the case office: its districts)")
async def get_order(
    order_id: uuid.UUID, session: SessionDep, principal: Reader, log_read: LoggedReadDep
) -> OrderOut:
    return await service.get(session, principal, order_id, log_read)


@router.get(
    "/{order_id}/messages", summary="Every message about the order, with delivery and acknowledgement"
)
async def order_messages(
    order_id: uuid.UUID, session: SessionDep, principal: Reader, log_read: LoggedReadDep
) -> list[MessageOut]:
    return await service.order_messages(session, principal, order_id, log_read)
