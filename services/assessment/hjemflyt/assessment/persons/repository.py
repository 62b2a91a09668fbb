"""All SQL of persons. Reads are scoped to the principal's districts here, so an endpoint
that forgets a check still cannot leak a person from another district."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Select, select, tuple_

from hjemflyt.assessment.persons.models import Person
from hjemflyt.shared.platform.auth import Principal
from hjemflyt.shared.platform.repository import Repository, scoped


def readable(principal: Principal) -> Select[Person]:
    return scoped(select(Person), principal, district=Person.district)


class PersonRepository(Repository):
    async def add(self, person: Person) -> Person | None:
        """Insert the person; None if the identity number was registered meanwhile."""
        return await self.insert_once(person)

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
