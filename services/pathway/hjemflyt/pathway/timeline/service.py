"""Reading a person's timeline, a page at a time (logged when it shows any entry)."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from hjemflyt.pathway.timeline.models import TimelineEntry
from hjemflyt.pathway.timeline.repository import TimelineRepository
from hjemflyt.shared.platform.audit import LoggedRead
from hjemflyt.shared.platform.auth import Principal


async def for_person(
    session: AsyncSession,
    principal: Principal,
    person_id: uuid.UUID,
    log_read: LoggedRead,
    *,
    kinds: Collection[str],
    after: tuple[datetime, int] | None,
    limit: int,
) -> tuple[Sequence[TimelineEntry], bool]:
    """Up to `limit` entries after `after`, oldest first; and whether more follow."""
    found = await TimelineRepository(session).for_person(
        principal, person_id, kinds=kinds, after=after, limit=limit + 1
    )
    entries, more = found[:limit], len(found) > limit
    if entries:
        await log_read("timeline", [person_id])
    return entries, more
