"""The reports modules' one view of orders: the few facts they need (id, version, provider,
person, district, status, start and end, service types), read through the orders module's
own scoping (`readable(principal)`: a provider its own orders, the case office its districts'), so
another provider's order is simply not there (404). Nothing else of the order (names,
identity numbers) leaves this file.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ARRAY, Uuid, any_, bindparam
from sqlalchemy.ext.asyncio import AsyncSession

from hjemflyt.notifications.orders.models import Order
from hjemflyt.notifications.orders.repository import readable
from hjemflyt.shared.platform.auth import Principal
from hjemflyt.shared.platform.clock import OSLO
from hjemflyt.shared.platform.errors import NotFound

ENDED = "ended"
# The provider turned it down: it does not deliver under it.
NOT_HELD = frozenset({"rejected"})


@dataclass(frozen=True)
class OrderRef:
    id: uuid.UUID
    version: int
    provider_org: str
    person_id: uuid.UUID
    district: str
    status: str
    start_date: date | None
    # The last day the order may be delivered (its end date; the day it was ended when it
    # ended without one). None: open-ended.
    end_date: date | None
    # The service type codes the order holds (services named only by IPLOS code have none).
    service_types: frozenset[str] = frozenset()

    def ended_before(self, day: date) -> bool:
        return self.end_date is not None and day > self.end_date

    @property
    def held(self) -> bool:
        return self.status not in NOT_HELD


def _date(value: Any) -> date | None:
    if isinstance(value, str) and value:
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


def ref(order: Order) -> OrderRef:
    content = order.content or {}
    end = _date(content.get("end_date"))
    if end is None and order.status == ENDED:
        ended_at = getattr(order, "updated_at", None) or order.created_at
        end = ended_at.astimezone(OSLO).date()
    return OrderRef(
        id=order.id,
        version=order.decision_version,
        provider_org=order.provider_org,
        person_id=order.person_id,
        district=order.district,
        status=order.status,
        start_date=_date(content.get("start_date")),
        end_date=end,
        service_types=frozenset(
            str(s["service_type"])
            for s in content.get("services") or []
            if isinstance(s, dict) and s.get("service_type")
        ),
    )


async def readable_orders(
    session: AsyncSession, principal: Principal, order_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, OrderRef]:
    """The orders among `order_ids` this principal may see (the others are simply absent)."""
    ids = list(set(order_ids))
    if not ids:
        return {}
    # One array parameter, not one per id (a visit batch may name many orders).
    param = bindparam("order_ids", ids, type_=ARRAY(Uuid))
    orders = (await session.scalars(readable(principal).where(Order.id == any_(param)))).all()
    return {o.id: ref(o) for o in orders}


async def readable_order(session: AsyncSession, principal: Principal, order_id: uuid.UUID) -> OrderRef:
    order = await session.scalar(readable(principal).where(Order.id == order_id))
    if order is None:
        raise NotFound("No such order.")
    return ref(order)
