"""All SQL of admissions; reads scoped to the principal's districts."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from hjemflyt.assessment.admissions.models import Admission
from hjemflyt.shared.platform.auth import Principal


def readable(principal: Principal) -> Select[Admission]:
    stmt = select(Admission)
    if not principal.all_districts:
        stmt = stmt.where(Admission.district.in_(principal.districts))
    return stmt


class AdmissionRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, admission: Admission) -> Admission | None:
        """Insert; None if the person already has an open admission (the partial unique
        index decides, so two concurrent admissions cannot both succeed)."""
        try:
            async with self.session.begin_nested():
                self.session.add(admission)
                await self.session.flush()
        except IntegrityError:
            return None
        return admission

    async def get(self, principal: Principal, admission_id: uuid.UUID) -> Admission | None:
        stmt = readable(principal).where(Admission.id == admission_id).with_for_update()
        return await self.session.scalar(stmt)

    async def open_for(self, person_id: uuid.UUID) -> Admission | None:
        """The person's open stay (not discharged, not cancelled), locked; for the hospital's
        messages, which are not scoped to districts (the receiver is the whole municipality)."""
        stmt = (
            select(Admission)
            .where(
                Admission.person_id == person_id,
                Admission.discharged_at.is_(None),
                Admission.cancelled_at.is_(None),
            )
            .with_for_update()
        )
        return await self.session.scalar(stmt)

    async def for_person(self, principal: Principal, person_id: uuid.UUID) -> Sequence[Admission]:
        stmt = (
            readable(principal).where(Admission.person_id == person_id).order_by(Admission.admitted_at.desc())
        )
        return (await self.session.scalars(stmt)).all()
