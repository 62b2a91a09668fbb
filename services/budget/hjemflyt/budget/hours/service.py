"""Reading the decided hours: totals per provider unit and per district, and a person's
decisions (logged: they are the person's)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from hjemflyt.budget.hours.models import DecidedHours
from hjemflyt.budget.hours.repository import HoursRepository
from hjemflyt.shared.platform.audit import LoggedRead
from hjemflyt.shared.platform.auth import Principal


async def per_provider(
    session: AsyncSession,
) -> Sequence[tuple[str | None, str | None, str | None, int, Decimal]]:
    return await HoursRepository(session).per_provider()


async def per_district(session: AsyncSession, principal: Principal) -> Sequence[tuple[str, int, Decimal]]:
    return await HoursRepository(session).per_district(principal)


async def for_person(
    session: AsyncSession, person_id: uuid.UUID, log_read: LoggedRead
) -> Sequence[DecidedHours]:
    found = await HoursRepository(session).for_person(person_id)
    if found:
        await log_read("person-hours", [person_id], resource_id=str(person_id))
    return found
