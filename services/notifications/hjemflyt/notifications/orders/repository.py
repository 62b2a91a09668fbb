"""All SQL of orders. A provider sees only its own organisation's orders; a case officer or
service lead those of its districts; the integration account (all districts) every one."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Select, select, tuple_
from sqlalchemy.dialects.postgresql import insert

from hjemflyt.notifications.orders.models import Order
from hjemflyt.notifications.orders.rules import RUNNING, OrderStatus
from hjemflyt.shared.platform.auth import Principal
from hjemflyt.shared.platform.repository import Repository, scoped


def readable(principal: Principal) -> Select[Order]:
    return scoped(select(Order), principal, district=Order.district, provider=Order.provider_org)


class OrderRepository(Repository):
    async def add_once(self, values: dict[str, object]) -> Order | None:
        """Insert the order unless the decision already has one for this provider."""
        stmt = insert(Order).values(**values).on_conflict_do_nothing().returning(Order)
        return (await self.session.scalars(stmt)).first()

    async def for_decision(self, decision_id: uuid.UUID, provider_org: str) -> Order | None:
        stmt = (
            select(Order)
            .where(Order.decision_id == decision_id, Order.provider_org == provider_org)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        return await self.session.scalar(stmt)

    async def live_for_decision(self, decision_id: uuid.UUID) -> Sequence[Order]:
        """The decision's orders that still run or are paused (not rejected, not ended)."""
        live = [s.value for s in RUNNING] + [OrderStatus.paused.value]
        stmt = (
            select(Order)
            .where(Order.decision_id == decision_id, Order.status.in_(live))
            .order_by(Order.provider_org)
            .with_for_update()
        )
        return (await self.session.scalars(stmt)).all()

    async def by_id(self, order_id: uuid.UUID, *, for_update: bool = False) -> Order | None:
        stmt = select(Order).where(Order.id == order_id)
        if for_update:
            stmt = stmt.with_for_update().execution_options(populate_existing=True)
        return await self.session.scalar(stmt)

    async def running_for_person(self, person_id: uuid.UUID) -> Sequence[Order]:
        stmt = (
            select(Order)
            .where(Order.person_id == person_id, Order.status.in_([s.value for s in RUNNING]))
            .order_by(Order.created_at, Order.id)
            .with_for_update()
        )
        return (await self.session.scalars(stmt)).all()

    async def paused_by(self, person_id: uuid.UUID, admission_id: uuid.UUID) -> Sequence[Order]:
        stmt = (
            select(Order)
            .where(
                Order.person_id == person_id,
                Order.status == OrderStatus.paused,
                Order.paused_by == admission_id,
            )
            .order_by(Order.created_at, Order.id)
            .with_for_update()
        )
        return (await self.session.scalars(stmt)).all()

    async def get(self, principal: Principal, order_id: uuid.UUID) -> Order | None:
        return await self.session.scalar(readable(principal).where(Order.id == order_id))

    async def page(
        self,
        principal: Principal,
        *,
        limit: int,
        after: tuple[datetime, uuid.UUID] | None,
        status: str | None = None,
        district: str | None = None,
        person_id: uuid.UUID | None = None,
        provider_org: str | None = None,
        decision_id: uuid.UUID | None = None,
    ) -> Sequence[Order]:
        stmt = readable(principal).order_by(Order.created_at, Order.id).limit(limit)
        if status:
            stmt = stmt.where(Order.status == status)
        if district:
            stmt = stmt.where(Order.district == district)
        if person_id:
            stmt = stmt.where(Order.person_id == person_id)
        if provider_org:
            stmt = stmt.where(Order.provider_org == provider_org)
        if decision_id:
            stmt = stmt.where(Order.decision_id == decision_id)
        if after is not None:
            stmt = stmt.where(tuple_(Order.created_at, Order.id) > tuple_(*after))
        return (await self.session.scalars(stmt)).all()
