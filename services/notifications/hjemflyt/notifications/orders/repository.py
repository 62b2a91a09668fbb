"""All SQL of orders. A provider principal sees only its own organisation's orders; every
other principal sees none through these reads."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Select, false, select, tuple_
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from hjemflyt.notifications.orders.models import Order
from hjemflyt.shared.platform.auth import Principal, Role


def readable(principal: Principal) -> Select[Order]:
    if principal.role == Role.provider and principal.provider_org:
        return select(Order).where(Order.provider_org == principal.provider_org)
    return select(Order).where(false())


class OrderRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add_once(self, values: dict[str, object]) -> Order | None:
        """Insert the order unless this decision version already has one for this provider."""
        stmt = insert(Order).values(**values).on_conflict_do_nothing().returning(Order)
        return (await self.session.scalars(stmt)).first()

    async def get(self, principal: Principal, order_id: uuid.UUID) -> Order | None:
        return await self.session.scalar(readable(principal).where(Order.id == order_id))

    async def page(
        self, principal: Principal, *, limit: int, after: tuple[datetime, uuid.UUID] | None
    ) -> Sequence[Order]:
        stmt = readable(principal).order_by(Order.created_at, Order.id).limit(limit)
        if after is not None:
            stmt = stmt.where(tuple_(Order.created_at, Order.id) > tuple_(*after))
        return (await self.session.scalars(stmt)).all()
