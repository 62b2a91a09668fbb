"""All SQL of assignments. Reads are scoped to the principal's districts here."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from datetime import date

from sqlalchemy import Select, select

from hjemflyt.assessment.assignments.models import Assignment
from hjemflyt.assessment.assignments.rules import Status
from hjemflyt.shared.platform.auth import Principal
from hjemflyt.shared.platform.repository import Repository, scoped


def readable(principal: Principal) -> Select[Assignment]:
    # Not by provider: a provider reads its assignments as orders, in notifications.
    return scoped(select(Assignment), principal, district=Assignment.district)


class AssignmentRepository(Repository):
    async def add(self, assignment: Assignment) -> Assignment:
        return await self.insert(assignment)

    async def get(
        self, principal: Principal, assignment_id: uuid.UUID, *, for_update: bool = False
    ) -> Assignment | None:
        stmt = readable(principal).where(Assignment.id == assignment_id)
        if for_update:
            stmt = stmt.with_for_update()
        return await self.session.scalar(stmt)

    async def for_person(self, principal: Principal, person_id: uuid.UUID) -> Sequence[Assignment]:
        stmt = (
            readable(principal)
            .where(Assignment.person_id == person_id)
            .order_by(Assignment.start_date, Assignment.created_at)
        )
        return (await self.session.scalars(stmt)).all()

    async def running(
        self, person_id: uuid.UUID, on: date, providers: Collection[str] | None = None
    ) -> Sequence[Assignment]:
        """The person's issued assignments not yet run out on `on` (for any provider, or
        those given); locked. Unscoped: the caller has read the person already."""
        stmt = select(Assignment).where(
            Assignment.person_id == person_id,
            Assignment.status == Status.issued.value,
            Assignment.end_date >= on,
        )
        if providers is not None:
            stmt = stmt.where(Assignment.provider_org.in_(sorted(providers)))
        stmt = stmt.order_by(Assignment.start_date, Assignment.id).with_for_update()
        return (await self.session.scalars(stmt)).all()
