"""All SQL of national messages and their tasks. The lists are scoped to the principal's
districts (through the person); the rest serves the module's own use cases and worker."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Select, select, update

from hjemflyt.assessment.messaging.models import PloMessage, PloTask
from hjemflyt.assessment.messaging.rules import Direction, State, TaskKind
from hjemflyt.assessment.persons.models import Person
from hjemflyt.shared.platform.auth import Principal
from hjemflyt.shared.platform.repository import Repository, scoped


def _scoped_messages(principal: Principal) -> Select[PloMessage]:
    stmt = select(PloMessage)
    if principal.all_districts:
        return stmt
    return scoped(stmt.join(Person, Person.id == PloMessage.person_id), principal, district=Person.district)


class MessageRepository(Repository):
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
        stmt = scoped(select(PloTask), principal, district=PloTask.district)
        if open_only:
            stmt = stmt.where(PloTask.resolved_at.is_(None))
        stmt = stmt.order_by(PloTask.created_at, PloTask.id).limit(limit)
        return (await self.session.scalars(stmt)).all()

    async def task(self, principal: Principal, task_id: uuid.UUID) -> PloTask | None:
        stmt = select(PloTask).where(PloTask.id == task_id).with_for_update()
        return await self.session.scalar(scoped(stmt, principal, district=PloTask.district))

    async def open_task(self, kind: TaskKind, decision_id: uuid.UUID) -> bool:
        stmt = select(PloTask.id).where(
            PloTask.kind == kind.value, PloTask.decision_id == decision_id, PloTask.resolved_at.is_(None)
        )
        return await self.session.scalar(stmt.limit(1)) is not None

    async def resolve_open_tasks(self, kind: TaskKind, decision_id: uuid.UUID, at: datetime) -> None:
        await self.session.execute(
            update(PloTask)
            .where(
                PloTask.kind == kind.value,
                PloTask.decision_id == decision_id,
                PloTask.resolved_at.is_(None),
            )
            .values(resolved_at=at)
        )

    async def district_of(self, person_id: uuid.UUID) -> str | None:
        return await self.session.scalar(select(Person.district).where(Person.id == person_id))

    async def by_origin(self, origin: str) -> PloMessage | None:
        return await self.session.scalar(select(PloMessage).where(PloMessage.origin == origin))

    async def chain_start(self, decision_ids: Sequence[uuid.UUID], msg_type: str) -> PloMessage | None:
        """The first valid Ny (N) of `msg_type` sent for any of these decisions."""
        return await self.session.scalar(
            select(PloMessage)
            .where(
                PloMessage.direction == Direction.out.value,
                PloMessage.msg_type == msg_type,
                PloMessage.decision_id.in_(decision_ids),
                PloMessage.shipment == "N",
                PloMessage.status != State.invalid.value,
            )
            .order_by(PloMessage.created_at)
            .limit(1)
        )

    async def sent_for_update(self, msg_id: str) -> PloMessage | None:
        return await self.session.scalar(
            select(PloMessage)
            .where(PloMessage.direction == Direction.out.value, PloMessage.msg_id == msg_id)
            .with_for_update()
        )

    async def received(self, msg_id: str, msg_type: str) -> PloMessage | None:
        """A message received earlier of the same type (what an Endring or Kansellering
        refers to), locked: two changes of one message are applied one after the other."""
        return await self.session.scalar(
            select(PloMessage)
            .where(
                PloMessage.direction == Direction.inbound.value,
                PloMessage.msg_id == msg_id,
                PloMessage.msg_type == msg_type,
            )
            .with_for_update()
        )

    async def pending(self, limit: int) -> Sequence[PloMessage]:
        """Messages waiting for the transport, oldest first; locked, skipping those another
        replica holds."""
        stmt = (
            select(PloMessage)
            .where(PloMessage.status == State.pending.value)
            .order_by(PloMessage.created_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return (await self.session.scalars(stmt)).all()

    async def overdue(self, sent_before: datetime, apprec_type: str) -> Sequence[PloMessage]:
        """Sent messages (not receipts) without an AppRec since before `sent_before` and no
        receipt-missing task yet."""
        stmt = select(PloMessage).where(
            PloMessage.status == State.sent.value,
            PloMessage.msg_type != apprec_type,
            PloMessage.sent_at < sent_before,
            ~select(PloTask.id)
            .where(PloTask.message_id == PloMessage.id, PloTask.kind == TaskKind.receipt_missing.value)
            .exists(),
        )
        return (await self.session.scalars(stmt)).all()
