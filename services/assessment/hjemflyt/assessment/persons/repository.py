"""All SQL of persons. Reads are scoped to the principal's districts here, so an endpoint
that forgets a check still cannot leak a person from another district."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Select, select, tuple_
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from hjemflyt.assessment.persons.models import Person
from hjemflyt.shared.platform.auth import Principal


def readable(principal: Principal) -> Select[Person]:
    stmt = select(Person)
    if not principal.all_districts:
        stmt = stmt.where(Person.district.in_(principal.districts))
    return stmt


class PersonRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, person: Person) -> Person | None:
        """Insert the person; None if the identity number was registered meanwhile."""
        try:
            async with self.session.begin_nested():
                self.session.add(person)
                await self.session.flush()
        except IntegrityError:
            return None
        return person

    async def get(self, principal: Principal, person_id: uuid.UUID) -> Person | None:
        return await self.session.scalar(readable(principal).where(Person.id == person_id))

    async def by_identity_index(self, principal: Principal, index: str) -> Person | None:
        return await self.session.scalar(readable(principal).where(Person.identity_index == index))

    async def exists_with_index(self, index: str) -> uuid.UUID | None:
        return await self.session.scalar(select(Person.id).where(Person.identity_index == index))

    async def page(
        self, principal: Principal, *, limit: int, after: tuple[datetime, uuid.UUID] | None
    ) -> Sequence[Person]:
        stmt = readable(principal).order_by(Person.created_at, Person.id).limit(limit)
        if after is not None:
            stmt = stmt.where(tuple_(Person.created_at, Person.id) > tuple_(*after))
        return (await self.session.scalars(stmt)).all()
