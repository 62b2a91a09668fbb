"""All SQL of the adjustment log. A provider sees its own adjustments; the case office (a
case officer or service lead) those of its districts; the integration account every one.
Orders are read through the orders module's own scoping, so another provider's order is
simply not there."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from hjemflyt.notifications.adjustments.models import Adjustment
from hjemflyt.notifications.adjustments.rules import Status
from hjemflyt.notifications.orders.models import Order
from hjemflyt.notifications.orders.repository import readable
from hjemflyt.notifications.reports.scoping import visible
from hjemflyt.shared.platform.auth import Principal
from hjemflyt.shared.platform.repository import Repository


class AdjustmentRepository(Repository):
    async def order_for_update(self, principal: Principal, order_id: uuid.UUID) -> Order | None:
        """The order, locked: adjustments of one order are judged one at a time, so two at
        once cannot each stay inside the frame and together leave it."""
        stmt = (
            readable(principal)
            .where(Order.id == order_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        return await self.session.scalar(stmt)

    async def add_once(self, row: Adjustment) -> bool:
        """Store the adjustment; False if the provider's `client_id` was taken a moment ago
        (the same id sent to two orders at once; one order's adjustments are serialized)."""
        try:
            async with self.session.begin_nested():
                self.session.add(row)
                await self.session.flush()
        except IntegrityError:
            return False
        return True

    async def by_client_id(self, provider_org: str, client_id: str) -> Adjustment | None:
        stmt = select(Adjustment).where(
            Adjustment.provider_org == provider_org, Adjustment.client_id == client_id
        )
        return await self.session.scalar(stmt)

    async def in_force(
        self, order_id: uuid.UUID, decision_version: int, service_type: str
    ) -> Sequence[Adjustment]:
        """The adjustments that shape the plan of one service of this order version, oldest first."""
        stmt = (
            select(Adjustment)
            .where(
                Adjustment.order_id == order_id,
                Adjustment.decision_version == decision_version,
                Adjustment.service_type == service_type,
                Adjustment.status == Status.in_force,
            )
            .order_by(Adjustment.adjusted_at, Adjustment.id)
        )
        return (await self.session.scalars(stmt)).all()

    async def get(
        self, principal: Principal, adjustment_id: uuid.UUID, *, for_update: bool = False
    ) -> Adjustment | None:
        stmt = visible(select(Adjustment), Adjustment, principal).where(Adjustment.id == adjustment_id)
        if for_update:
            stmt = stmt.with_for_update().execution_options(populate_existing=True)
        return await self.session.scalar(stmt)

    async def page(
        self,
        principal: Principal,
        *,
        limit: int,
        after: tuple[datetime, uuid.UUID] | None,
        order_id: uuid.UUID | None = None,
        person_id: uuid.UUID | None = None,
        decision_id: uuid.UUID | None = None,
        district: str | None = None,
        status: str | None = None,
        since: datetime | None = None,
    ) -> Sequence[Adjustment]:
        stmt = visible(select(Adjustment), Adjustment, principal)
        if order_id:
            stmt = stmt.where(Adjustment.order_id == order_id)
        if person_id:
            stmt = stmt.where(Adjustment.person_id == person_id)
        if decision_id:
            stmt = stmt.where(Adjustment.decision_id == decision_id)
        if district:
            stmt = stmt.where(Adjustment.district == district)
        if status:
            stmt = stmt.where(Adjustment.status == status)
        if since:
            stmt = stmt.where(Adjustment.adjusted_at >= since)
        return await self.keyset_page(stmt, (Adjustment.adjusted_at, Adjustment.id), after=after, limit=limit)
