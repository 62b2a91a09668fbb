"""All SQL of assessments. Reads are scoped here to the districts the principal works in,
by the person's current district: when a person moves, the new district's case officers see
the earlier assessments and the old district's no longer do."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import Select, select, update
from sqlalchemy.orm import selectinload

from hjemflyt.assessment.assessments.models import Assessment
from hjemflyt.assessment.persons.models import Person
from hjemflyt.assessment.persons.repository import readable as readable_persons
from hjemflyt.assessment.referrals.models import Application
from hjemflyt.shared.platform.auth import Principal
from hjemflyt.shared.platform.repository import Repository, scoped

APPLICATION_RECEIVED = "received"
APPLICATION_ASSESSING = "assessing"


def readable(principal: Principal) -> Select[Assessment]:
    stmt = select(Assessment).options(selectinload(Assessment.goals))
    if principal.all_districts:
        return stmt
    # An assessment follows the person's district (it has none of its own to move).
    return scoped(stmt.join(Person, Person.id == Assessment.person_id), principal, district=Person.district)


class AssessmentRepository(Repository):
    async def person(self, principal: Principal, person_id: uuid.UUID) -> Person | None:
        return await self.session.scalar(readable_persons(principal).where(Person.id == person_id))

    async def application(self, principal: Principal, application_id: uuid.UUID) -> Application | None:
        """The application if the principal may see it, locked until the transaction ends so
        it cannot be withdrawn or decided while an assessment is attached to it."""
        stmt = select(Application).where(Application.id == application_id).with_for_update()
        return await self.session.scalar(scoped(stmt, principal, district=Application.district))

    async def start_assessing(self, application_id: uuid.UUID) -> None:
        """A received application is now being assessed; any later status stays as it is."""
        await self.session.execute(
            update(Application)
            .where(Application.id == application_id, Application.status == APPLICATION_RECEIVED)
            .values(status=APPLICATION_ASSESSING)
        )

    async def add(self, assessment: Assessment) -> Assessment:
        return await self.insert(assessment)

    async def get(
        self, principal: Principal, assessment_id: uuid.UUID, *, for_update: bool = False
    ) -> Assessment | None:
        """`for_update` locks the row, so concurrent changes and completions queue up and each
        sees the version the one before it left."""
        stmt = readable(principal).where(Assessment.id == assessment_id)
        if for_update:
            stmt = stmt.with_for_update(of=Assessment)
            # A row read earlier in this session is refreshed with what the lock saw.
            stmt = stmt.execution_options(populate_existing=True)
        return await self.session.scalar(stmt)

    async def for_person(self, principal: Principal, person_id: uuid.UUID) -> Sequence[Assessment]:
        stmt = (
            readable(principal)
            .where(Assessment.person_id == person_id)
            .order_by(Assessment.created_at.desc(), Assessment.id)
        )
        return (await self.session.scalars(stmt)).all()

    async def flush(self) -> None:
        await self.session.flush()
