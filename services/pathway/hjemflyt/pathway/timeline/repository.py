from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from hjemflyt.pathway.timeline.models import TimelineEntry
from hjemflyt.shared.platform.auth import Principal


class TimelineRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, values: dict[str, object]) -> None:
        await self.session.execute(insert(TimelineEntry).values(**values).on_conflict_do_nothing())

    async def district_of(self, person_id: uuid.UUID) -> str | None:
        """The district of the person's latest decision (entries from other producers carry none)."""
        return await self.session.scalar(
            select(TimelineEntry.district)
            .where(TimelineEntry.person_id == person_id, TimelineEntry.district.is_not(None))
            .order_by(TimelineEntry.occurred_at.desc())
            .limit(1)
        )

    async def for_person(self, principal: Principal, person_id: uuid.UUID) -> Sequence[TimelineEntry]:
        if not principal.all_districts:
            district = await self.district_of(person_id)
            if district is None or district not in principal.districts:
                return []
        stmt = (
            select(TimelineEntry)
            .where(TimelineEntry.person_id == person_id)
            .order_by(TimelineEntry.occurred_at, TimelineEntry.id)
        )
        return (await self.session.scalars(stmt)).all()
