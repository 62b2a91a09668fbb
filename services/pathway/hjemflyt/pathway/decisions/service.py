"""Reading a person's decisions as pathway knows them."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from hjemflyt.pathway.decisions.models import PersonDecision
from hjemflyt.pathway.decisions.repository import DecisionRepository
from hjemflyt.shared.platform.audit import LoggedRead
from hjemflyt.shared.platform.auth import Principal


async def for_person(
    session: AsyncSession, principal: Principal, person_id: uuid.UUID, log_read: LoggedRead
) -> Sequence[PersonDecision]:
    """The latest version of each of the person's decisions (logged when there are any)."""
    found = await DecisionRepository(session).for_person(principal, person_id)
    if found:
        await log_read("decisions", [person_id])
    return found
