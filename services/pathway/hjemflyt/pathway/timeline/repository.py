from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import select, tuple_, update
from sqlalchemy.dialects.postgresql import insert

from hjemflyt.pathway.timeline.models import TimelineEntry
from hjemflyt.shared.platform.auth import Principal
from hjemflyt.shared.platform.repository import Repository

PATHWAY = "pathway"  # the `source` of pathway's own entries


class TimelineRepository(Repository):
    async def add(self, values: dict[str, object]) -> None:
        """One entry per event and person: a redelivered event (same id) adds nothing."""
        await self.session.execute(insert(TimelineEntry).values(**values).on_conflict_do_nothing())

    async def add_many(self, rows: Sequence[dict[str, object]]) -> None:
        """Entries of one event that concerns several persons (a visit batch)."""
        if rows:
            await self.session.execute(insert(TimelineEntry).values(list(rows)).on_conflict_do_nothing())

    async def fill_district(self, person_id: uuid.UUID, decision_id: uuid.UUID, district: str) -> None:
        """Give the decision's district to its entries that came without one (orders that
        arrived before the decision: they come on another stream)."""
        await self.session.execute(
            update(TimelineEntry)
            .where(
                TimelineEntry.person_id == person_id,
                TimelineEntry.district.is_(None),
                TimelineEntry.details["decision_id"].astext == str(decision_id),
            )
            .values(district=district)
        )

    async def district_of(self, person_id: uuid.UUID) -> str | None:
        """The person's district: that of their latest entry which names one (orders may not).

        Pathway's own entries (opened, closed, a deadline task) only repeat the district of
        the pathway's start: a task the sweep opens today on a pathway left open in the old
        district must not pull a person who has moved back there. They count only for a
        person with no other entry (a pathway opened by hand)."""
        return await self.session.scalar(
            select(TimelineEntry.district)
            .where(TimelineEntry.person_id == person_id, TimelineEntry.district.is_not(None))
            .order_by(
                (TimelineEntry.source == PATHWAY).asc(),
                TimelineEntry.occurred_at.desc(),
                TimelineEntry.seq.desc(),
            )
            .limit(1)
        )

    async def for_person(
        self,
        principal: Principal,
        person_id: uuid.UUID,
        *,
        kinds: Collection[str] = (),
        after: tuple[datetime, int] | None = None,
        limit: int | None = None,
    ) -> Sequence[TimelineEntry]:
        """The person's entries in time order, if the person is in a district the principal sees.

        `kinds` filters (empty: all); `after` continues after an entry's (occurred_at, seq).
        Entries of the same moment come in the order pathway received them.
        """
        if not principal.all_districts:
            district = await self.district_of(person_id)
            if district is None or district not in principal.districts:
                return []
        stmt = select(TimelineEntry).where(TimelineEntry.person_id == person_id)
        if kinds:
            stmt = stmt.where(TimelineEntry.kind.in_(sorted(kinds)))
        if after is not None:
            stmt = stmt.where(tuple_(TimelineEntry.occurred_at, TimelineEntry.seq) > tuple_(*after))
        stmt = stmt.order_by(TimelineEntry.occurred_at, TimelineEntry.seq)
        if limit is not None:
            stmt = stmt.limit(limit)
        return (await self.session.scalars(stmt)).all()
