"""All SQL of admissions; reads scoped to the principal's districts."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import Select, select

from hjemflyt.assessment.admissions.models import Admission
from hjemflyt.shared.platform.auth import Principal
from hjemflyt.shared.platform.repository import Repository, scoped


def readable(principal: Principal) -> Select[Admission]:
    return scoped(select(Admission), principal, district=Admission.district)


class AdmissionRepository(Repository):
    async def add(self, admission: Admission) -> Admission | None:
        """Insert; None if the person already has an open admission (the partial unique
        index decides, so two concurrent admissions cannot both succeed)."""
        return await self.insert_once(admission)

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
