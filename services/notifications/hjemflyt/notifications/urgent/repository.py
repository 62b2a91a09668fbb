"""All SQL of urgent requests and their audit trail; the provider's own, the case office's
districts. The system reads (deadline sweep, acknowledgement hooks) are unscoped."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select

from hjemflyt.notifications.reports.scoping import visible
from hjemflyt.notifications.urgent.models import UrgentRequest, UrgentRequestTrail
from hjemflyt.shared.platform.auth import Principal
from hjemflyt.shared.platform.repository import Repository


class UrgentRequestRepository(Repository):
    async def add(self, row: UrgentRequest | UrgentRequestTrail) -> None:
        self.session.add(row)
        await self.session.flush()

    async def get(
        self, principal: Principal, request_id: uuid.UUID, *, for_update: bool = False
    ) -> UrgentRequest | None:
        stmt = visible(select(UrgentRequest), UrgentRequest, principal).where(UrgentRequest.id == request_id)
        if for_update:
            stmt = stmt.with_for_update()
        return await self.session.scalar(stmt)

    async def get_for_system(self, request_id: uuid.UUID) -> UrgentRequest | None:
        return await self.session.scalar(
            select(UrgentRequest).where(UrgentRequest.id == request_id).with_for_update()
        )

    async def trail(self, request_id: uuid.UUID) -> Sequence[UrgentRequestTrail]:
        return (
            await self.session.scalars(
                select(UrgentRequestTrail)
                .where(UrgentRequestTrail.urgent_request_id == request_id)
                .order_by(UrgentRequestTrail.id)
            )
        ).all()

    async def page(
        self,
        principal: Principal,
        *,
        status: str | None,
        limit: int,
        after: tuple[datetime, uuid.UUID] | None,
    ) -> Sequence[UrgentRequest]:
        stmt = visible(select(UrgentRequest), UrgentRequest, principal)
        if status:
            stmt = stmt.where(UrgentRequest.status == status)
        return await self.keyset_page(
            stmt, (UrgentRequest.requested_at, UrgentRequest.id), after=after, limit=limit
        )

    async def past_deadline(self, now: datetime, *, limit: int) -> Sequence[UrgentRequest]:
        stmt = (
            select(UrgentRequest)
            .where(UrgentRequest.status == "sent", UrgentRequest.respond_by < now)
            .order_by(UrgentRequest.respond_by, UrgentRequest.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return (await self.session.scalars(stmt)).all()
