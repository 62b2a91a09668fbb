"""All SQL of person documents. Reads are scoped to the principal's districts here, through
the person's current district (a document follows the person when they move)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import Select, func, select

from hjemflyt.assessment.documents.models import PersonDocument
from hjemflyt.assessment.documents.rules import Status
from hjemflyt.assessment.persons.models import Person
from hjemflyt.shared.platform.auth import Principal
from hjemflyt.shared.platform.repository import Repository, scoped


def readable(principal: Principal) -> Select[PersonDocument]:
    stmt = select(PersonDocument)
    if principal.all_districts:
        return stmt
    return scoped(
        stmt.join(Person, Person.id == PersonDocument.person_id), principal, district=Person.district
    )


class DocumentRepository(Repository):
    async def add(self, document: PersonDocument) -> PersonDocument:
        return await self.insert(document)

    async def person_by_identity_index(self, index: str) -> Person | None:
        """The patient a message names (the inbox acts for the whole municipality)."""
        return await self.session.scalar(select(Person).where(Person.identity_index == index))

    async def find(self, document_id: uuid.UUID) -> PersonDocument | None:
        """Unscoped: what an incoming change or cancellation refers to."""
        return await self.session.get(PersonDocument, document_id)

    async def lock_chain(self, chain_id: uuid.UUID) -> None:
        """Lock the chain's first version (its id is the chain's): every change of a chain
        takes this lock first, so changes of one document apply one after the other."""
        await self.session.execute(
            select(PersonDocument.id).where(PersonDocument.id == chain_id).with_for_update()
        )

    async def current_in_chain(self, chain_id: uuid.UUID) -> PersonDocument | None:
        """The chain's current version, locked (after `lock_chain`)."""
        return await self.session.scalar(
            select(PersonDocument)
            .where(PersonDocument.chain_id == chain_id, PersonDocument.status == Status.current.value)
            .order_by(PersonDocument.version.desc())
            .limit(1)
            .with_for_update()
        )

    async def last_version(self, chain_id: uuid.UUID) -> int:
        value = await self.session.scalar(
            select(func.max(PersonDocument.version)).where(PersonDocument.chain_id == chain_id)
        )
        return int(value or 0)

    async def get(self, principal: Principal, document_id: uuid.UUID) -> PersonDocument | None:
        return await self.session.scalar(readable(principal).where(PersonDocument.id == document_id))

    async def for_person(
        self, principal: Principal, person_id: uuid.UUID, *, include_old: bool, limit: int
    ) -> Sequence[PersonDocument]:
        stmt = readable(principal).where(PersonDocument.person_id == person_id)
        if not include_old:
            stmt = stmt.where(PersonDocument.status != Status.replaced.value)
        stmt = stmt.order_by(
            PersonDocument.received_at.desc(),
            PersonDocument.version.desc(),
            PersonDocument.id,
        ).limit(limit)
        return (await self.session.scalars(stmt)).all()

    async def chain(self, chain_id: uuid.UUID) -> Sequence[PersonDocument]:
        """Every version of a document, oldest first (same person, so same scope)."""
        stmt = (
            select(PersonDocument).where(PersonDocument.chain_id == chain_id).order_by(PersonDocument.version)
        )
        return (await self.session.scalars(stmt)).all()
