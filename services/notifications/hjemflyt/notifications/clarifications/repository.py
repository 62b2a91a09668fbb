"""All SQL of clarification requests; the provider's own, the case office's districts."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import select

from hjemflyt.notifications.clarifications.models import Clarification
from hjemflyt.notifications.reports.scoping import visible
from hjemflyt.notifications.tasks.models import Task
from hjemflyt.shared.platform.auth import Principal
from hjemflyt.shared.platform.repository import Repository


class ClarificationRepository(Repository):
    async def add(self, row: Clarification) -> None:
        self.session.add(row)
        await self.session.flush()

    async def get(
        self, principal: Principal, clarification_id: uuid.UUID, *, for_update: bool = False
    ) -> Clarification | None:
        stmt = visible(select(Clarification), Clarification, principal).where(
            Clarification.id == clarification_id
        )
        if for_update:
            stmt = stmt.with_for_update()
        return await self.session.scalar(stmt)

    async def page(
        self,
        principal: Principal,
        *,
        status: str | None,
        direction: str | None,
        limit: int,
        after: tuple[datetime, uuid.UUID] | None,
    ) -> Sequence[Clarification]:
        stmt = visible(select(Clarification), Clarification, principal)
        if status:
            stmt = stmt.where(Clarification.status == status)
        if direction:
            stmt = stmt.where(Clarification.direction == direction)
        return await self.keyset_page(
            stmt, (Clarification.asked_at, Clarification.id), after=after, limit=limit
        )

    async def past_due(self, today: date, *, limit: int) -> Sequence[Clarification]:
        """Open, not yet flagged, due before today; locked, skipping rows another sweeper holds."""
        stmt = (
            select(Clarification)
            .where(
                Clarification.status == "open",
                Clarification.overdue_at.is_(None),
                Clarification.due_date < today,
            )
            .order_by(Clarification.due_date, Clarification.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return (await self.session.scalars(stmt)).all()

    async def closed_by_task(self, *, limit: int) -> Sequence[tuple[Clarification, Task]]:
        """Open provider requests whose task the case office closed through /v1/tasks."""
        stmt = (
            select(Clarification, Task)
            .join(Task, (Task.reference_id == Clarification.id) & (Task.kind == "clarification_request"))
            .where(
                Clarification.status == "open",
                Clarification.direction == "provider_to_case_office",
                Task.status != "open",
            )
            .limit(limit)
            .with_for_update(of=Clarification, skip_locked=True)
        )
        return [(c, t) for c, t in (await self.session.execute(stmt)).all()]
