"""All SQL of the message lists, scoped to the principal's districts (through the person)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import Select, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from hjemflyt.assessment.messaging.models import PloMessage, PloTask
from hjemflyt.assessment.persons.models import Person
from hjemflyt.shared.platform.auth import Principal


def _scoped_messages(principal: Principal) -> Select[PloMessage]:
    stmt = select(PloMessage)
    if not principal.all_districts:
        stmt = stmt.join(Person, Person.id == PloMessage.person_id).where(
            Person.district.in_(principal.districts)
        )
    return stmt


class MessageRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def messages(
        self,
        principal: Principal,
        *,
        person_id: uuid.UUID | None,
        decision_id: uuid.UUID | None,
        status: str | None,
        direction: str | None = None,
        limit: int,
    ) -> Sequence[PloMessage]:
        stmt = _scoped_messages(principal)
        if person_id is not None:
            stmt = stmt.where(PloMessage.person_id == person_id)
        if decision_id is not None:
            stmt = stmt.where(PloMessage.decision_id == decision_id)
        if status is not None:
            stmt = stmt.where(PloMessage.status == status)
        if direction is not None:
            stmt = stmt.where(PloMessage.direction == direction)
        stmt = stmt.order_by(PloMessage.created_at.desc(), PloMessage.id).limit(limit)
        return (await self.session.scalars(stmt)).all()

    async def tasks(self, principal: Principal, *, open_only: bool, limit: int) -> Sequence[PloTask]:
        stmt = select(PloTask)
        if not principal.all_districts:
            stmt = stmt.where(or_(PloTask.district.in_(principal.districts)))
        if open_only:
            stmt = stmt.where(PloTask.resolved_at.is_(None))
        stmt = stmt.order_by(PloTask.created_at, PloTask.id).limit(limit)
        return (await self.session.scalars(stmt)).all()

    async def task(self, principal: Principal, task_id: uuid.UUID) -> PloTask | None:
        stmt = select(PloTask).where(PloTask.id == task_id).with_for_update()
        if not principal.all_districts:
            stmt = stmt.where(PloTask.district.in_(principal.districts))
        return await self.session.scalar(stmt)
