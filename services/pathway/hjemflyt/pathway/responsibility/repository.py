from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import Row, func, or_, select, tuple_
from sqlalchemy.dialects.postgresql import distinct_on, insert

from hjemflyt.pathway.decisions.models import PersonDecision
from hjemflyt.pathway.responsibility.models import PrimaryContact, Responsibility
from hjemflyt.pathway.worklists.models import ProviderOrder
from hjemflyt.shared.platform.auth import Principal
from hjemflyt.shared.platform.repository import Repository, scoped


class ResponsibilityRepository(Repository):
    async def record_primary_contact(self, values: dict[str, Any]) -> None:
        """Keep the order's latest confirmation (by version, then time); an older or repeated
        one changes nothing."""
        new = insert(PrimaryContact).values(**values)
        old = PrimaryContact.__table__.c
        await self.session.execute(
            new.on_conflict_do_update(
                index_elements=[PrimaryContact.order_id],
                set_={k: new.excluded[k] for k in values if k != "order_id"},
                where=tuple_(old.order_version, old.confirmed_at)
                < tuple_(new.excluded.order_version, new.excluded.confirmed_at),
            )
        )

    async def put(self, values: dict[str, Any]) -> Responsibility:
        new = insert(Responsibility).values(**values)
        stmt = new.on_conflict_do_update(
            index_elements=[Responsibility.person_id],
            set_={k: new.excluded[k] for k in values if k != "person_id"},
        ).returning(Responsibility)
        row = (await self.session.scalars(stmt)).one()
        return row

    async def get(self, person_id: uuid.UUID) -> Responsibility | None:
        return await self.session.get(Responsibility, person_id)

    async def provider_contacts(self, person_id: uuid.UUID) -> Sequence[PrimaryContact]:
        """The primary contacts providers named on orders that have not ended."""
        pc, o = PrimaryContact, ProviderOrder
        stmt = (
            select(pc)
            .outerjoin(o, o.order_id == pc.order_id)
            .where(pc.person_id == person_id, o.ended_at.is_(None))
            .order_by(pc.provider_org, pc.confirmed_at)
        )
        return (await self.session.scalars(stmt)).all()

    async def may_see(self, principal: Principal, person_id: uuid.UUID) -> bool:
        """Whether the person is in a district the principal sees (from their decisions and
        confirmed orders). A municipality-wide principal sees any person, known or not."""
        if principal.all_districts:
            return True
        districts = (
            select(PersonDecision.district)
            .where(PersonDecision.person_id == person_id)
            .union(select(PrimaryContact.district).where(PrimaryContact.person_id == person_id))
        )
        found = set((await self.session.scalars(districts)).all())
        return bool(found & principal.districts)

    async def has_active_decision(self, person_id: uuid.UUID, today: date) -> bool:
        d = PersonDecision
        return bool(
            await self.session.scalar(
                select(func.count())
                .select_from(d)
                .where(
                    d.person_id == person_id,
                    d.status != "ended",
                    or_(d.end_date.is_(None), d.end_date >= today),
                )
            )
        )

    async def gaps(
        self,
        principal: Principal,
        *,
        today: date,
        district: str | None = None,
        after: tuple[str, uuid.UUID] | None = None,
        limit: int = 100,
    ) -> Sequence[Row[Any]]:
        """Persons with a running (or coming) decision who lack a service lead or a primary
        contact, in districts the principal sees; the district is their latest decision's."""
        d, r, pc, o = PersonDecision, Responsibility, PrimaryContact, ProviderOrder
        active = (
            select(d.person_id, d.district)
            .where(d.status != "ended", or_(d.end_date.is_(None), d.end_date >= today))
            .ext(distinct_on(d.person_id))
            .order_by(d.person_id, d.changed_at.desc())
            .subquery("active")
        )
        contacts = (
            select(pc.person_id, func.count().label("n"))
            .outerjoin(o, o.order_id == pc.order_id)
            .where(o.ended_at.is_(None))
            .group_by(pc.person_id)
            .subquery("contacts")
        )
        n = func.coalesce(contacts.c.n, 0)
        stmt = (
            select(
                active.c.person_id,
                active.c.district,
                r.service_lead,
                r.primary_contact,
                n.label("provider_contacts"),
            )
            .select_from(active)
            .outerjoin(r, r.person_id == active.c.person_id)
            .outerjoin(contacts, contacts.c.person_id == active.c.person_id)
            .where(or_(r.service_lead.is_(None), (r.primary_contact.is_(None)) & (n == 0)))
        )
        if district is not None:
            stmt = stmt.where(active.c.district == district)
        stmt = scoped(stmt, principal, district=active.c.district)
        if after is not None:
            stmt = stmt.where(tuple_(active.c.district, active.c.person_id) > tuple_(*after))
        stmt = stmt.order_by(active.c.district, active.c.person_id).limit(limit)
        return (await self.session.execute(stmt)).all()
