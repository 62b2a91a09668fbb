"""All SQL of tasks. Case officers and service leads see their districts' tasks; accounts
acting for the whole municipality see all; providers see none."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Select, false, select, tuple_
from sqlalchemy.dialects.postgresql import insert

from hjemflyt.notifications.tasks.models import Task
from hjemflyt.shared.platform.auth import Principal, Role
from hjemflyt.shared.platform.repository import Repository


def readable(principal: Principal) -> Select[Task]:
    if principal.role == Role.provider:
        return select(Task).where(false())
    stmt = select(Task)
    if not principal.all_districts:
        stmt = stmt.where(Task.district.in_(principal.districts))
    return stmt


class TaskRepository(Repository):
    async def add_once(self, values: dict[str, object]) -> Task | None:
        """Insert unless a task of this kind for this reference exists; None if it did."""
        stmt = (
            insert(Task)
            .values(**values)
            .on_conflict_do_nothing(index_elements=["kind", "reference_id"])
            .returning(Task)
        )
        return (await self.session.scalars(stmt)).first()

    async def get(self, principal: Principal, task_id: uuid.UUID, *, for_update: bool = False) -> Task | None:
        stmt = readable(principal).where(Task.id == task_id)
        if for_update:
            stmt = stmt.with_for_update()
        return await self.session.scalar(stmt)

    async def by_reference(self, kind: str, reference_id: uuid.UUID) -> Task | None:
        return await self.session.scalar(
            select(Task).where(Task.kind == kind, Task.reference_id == reference_id)
        )

    async def page(
        self,
        principal: Principal,
        *,
        limit: int,
        after: tuple[datetime, uuid.UUID] | None,
        status: str | None,
        kind: str | None,
        district: str | None,
        person_id: uuid.UUID | None,
    ) -> Sequence[Task]:
        stmt = readable(principal).order_by(Task.created_at, Task.id).limit(limit)
        if status:
            stmt = stmt.where(Task.status == status)
        if kind:
            stmt = stmt.where(Task.kind == kind)
        if district:
            stmt = stmt.where(Task.district == district)
        if person_id:
            stmt = stmt.where(Task.person_id == person_id)
        if after is not None:
            stmt = stmt.where(tuple_(Task.created_at, Task.id) > tuple_(*after))
        return (await self.session.scalars(stmt)).all()
