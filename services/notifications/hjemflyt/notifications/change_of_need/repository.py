"""All SQL of change-of-need reports; the provider's own, the case office's districts."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select

from hjemflyt.notifications.change_of_need.models import ChangeOfNeed
from hjemflyt.notifications.reports.scoping import visible
from hjemflyt.shared.platform.auth import Principal
from hjemflyt.shared.platform.repository import Repository


class ChangeOfNeedRepository(Repository):
    async def add(self, row: ChangeOfNeed) -> None:
        self.session.add(row)
        await self.session.flush()

    async def get(
        self, principal: Principal, report_id: uuid.UUID, *, for_update: bool = False
    ) -> ChangeOfNeed | None:
        stmt = visible(select(ChangeOfNeed), ChangeOfNeed, principal).where(ChangeOfNeed.id == report_id)
        if for_update:
            stmt = stmt.with_for_update()
        return await self.session.scalar(stmt)

    async def page(
        self,
        principal: Principal,
        *,
        status: str | None,
        order_id: uuid.UUID | None,
        limit: int,
        after: tuple[datetime, uuid.UUID] | None,
    ) -> Sequence[ChangeOfNeed]:
        stmt = visible(select(ChangeOfNeed), ChangeOfNeed, principal)
        if status:
            stmt = stmt.where(ChangeOfNeed.status == status)
        if order_id:
            stmt = stmt.where(ChangeOfNeed.order_id == order_id)
        return await self.keyset_page(
            stmt, (ChangeOfNeed.reported_at, ChangeOfNeed.id), after=after, limit=limit
        )
