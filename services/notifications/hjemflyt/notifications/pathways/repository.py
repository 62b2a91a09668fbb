"""All SQL of the pathway read model."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from hjemflyt.notifications.pathways.models import PersonPathway
from hjemflyt.shared.platform.repository import Repository


class PathwayRepository(Repository):
    async def opened(
        self,
        *,
        pathway_id: uuid.UUID,
        person_id: uuid.UUID,
        district: str,
        kind: int,
        opened_on: date,
        planned_end: date | None,
        at: datetime,
    ) -> None:
        """Record an opened pathway; one known already (closed or not) keeps its state."""
        await self.session.execute(
            insert(PersonPathway)
            .values(
                pathway_id=pathway_id,
                person_id=person_id,
                district=district,
                kind=kind,
                opened_on=opened_on,
                planned_end=planned_end,
                closed_on=None,
                updated_at=at,
            )
            .on_conflict_do_nothing(index_elements=[PersonPathway.pathway_id])
        )

    async def closed(
        self,
        *,
        pathway_id: uuid.UUID,
        person_id: uuid.UUID,
        district: str,
        kind: int,
        opened_on: date,
        planned_end: date | None,
        closed_on: date,
        at: datetime,
    ) -> None:
        """Record a closed pathway, whether or not its opening was seen (it may come later)."""
        stmt = insert(PersonPathway).values(
            pathway_id=pathway_id,
            person_id=person_id,
            district=district,
            kind=kind,
            opened_on=opened_on,
            planned_end=planned_end,
            closed_on=closed_on,
            updated_at=at,
        )
        await self.session.execute(
            stmt.on_conflict_do_update(
                index_elements=[PersonPathway.pathway_id],
                set_={"closed_on": stmt.excluded.closed_on, "updated_at": stmt.excluded.updated_at},
            )
        )

    async def current(self, person_id: uuid.UUID) -> PersonPathway | None:
        """The person's open pathway (the latest opened, should there be several)."""
        stmt = (
            select(PersonPathway)
            .where(PersonPathway.person_id == person_id, PersonPathway.closed_on.is_(None))
            .order_by(PersonPathway.opened_on.desc(), PersonPathway.updated_at.desc())
            .limit(1)
        )
        return await self.session.scalar(stmt)
