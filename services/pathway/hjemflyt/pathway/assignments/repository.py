from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert

from hjemflyt.pathway.assignments.models import PersonAssignment
from hjemflyt.shared.platform.repository import Repository

ISSUED = "issued"
ENDED = "ended"


class AssignmentRepository(Repository):
    async def record_issued(self, values: dict[str, Any]) -> None:
        """Store an issued assignment; one that ended already (events out of order) stays ended."""
        stmt = insert(PersonAssignment).values(status=ISSUED, **values)
        await self.session.execute(
            stmt.on_conflict_do_nothing(index_elements=[PersonAssignment.assignment_id])
        )

    async def record_end(self, values: dict[str, Any]) -> None:
        """Mark the assignment ended with its actual last day, whatever arrives before or after."""
        stmt = insert(PersonAssignment).values(status=ENDED, **values)
        stmt = stmt.on_conflict_do_update(
            index_elements=[PersonAssignment.assignment_id],
            set_={
                "status": ENDED,
                "end_date": stmt.excluded.end_date,
                "end_reason": stmt.excluded.end_reason,
                "changed_at": stmt.excluded.changed_at,
            },
            where=PersonAssignment.status != ENDED,
        )
        await self.session.execute(stmt)

    async def running(self, person_id: uuid.UUID, on: date) -> int:
        """How many of the person's assignments run on `on` (an ended one ran to its end date)."""
        count = await self.session.scalar(
            select(func.count())
            .select_from(PersonAssignment)
            .where(
                PersonAssignment.person_id == person_id,
                PersonAssignment.start_date <= on,
                PersonAssignment.end_date >= on,
            )
        )
        return int(count or 0)

    async def district_of(self, assignment_id: uuid.UUID) -> str | None:
        return await self.session.scalar(
            select(PersonAssignment.district).where(PersonAssignment.assignment_id == assignment_id)
        )
