"""All SQL of referrals and applications. Reads are scoped to the principal's districts here,
so an endpoint that forgets a check still cannot leak another district's case."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date

from sqlalchemy import Select, or_, select

from hjemflyt.assessment.persons.models import Person
from hjemflyt.assessment.referrals.models import Application, Referral
from hjemflyt.assessment.referrals.rules import OPEN_APPLICATION_STATUSES
from hjemflyt.shared.platform.auth import Principal
from hjemflyt.shared.platform.repository import Repository, scoped


def readable_referrals(principal: Principal) -> Select[Referral]:
    return scoped(select(Referral), principal, district=Referral.district)


def readable_applications(principal: Principal) -> Select[Application]:
    return scoped(select(Application), principal, district=Application.district)


class ReferralRepository(Repository):
    # --- referrals ---------------------------------------------------------------------

    async def add_referral(self, referral: Referral) -> Referral:
        return await self.insert(referral)

    async def add_plo_referral(self, referral: Referral) -> Referral | None:
        """Insert a referral from a PLO message; None if that message id is already stored
        (a concurrent delivery of the same message won)."""
        return await self.insert_once(referral)

    async def get_referral(
        self, principal: Principal, referral_id: uuid.UUID, *, for_update: bool = False
    ) -> Referral | None:
        stmt = readable_referrals(principal).where(Referral.id == referral_id)
        if for_update:
            stmt = stmt.with_for_update()
        return await self.session.scalar(stmt)

    async def referral_by_plo_message(self, message_id: str) -> Referral | None:
        """Unscoped: message ids are unique across the municipality; the caller checks who may see it."""
        return await self.session.scalar(select(Referral).where(Referral.plo_message_id == message_id))

    async def referrals_for_person(self, principal: Principal, person_id: uuid.UUID) -> Sequence[Referral]:
        stmt = (
            readable_referrals(principal)
            .where(Referral.person_id == person_id)
            .order_by(Referral.received_at, Referral.id)
        )
        return (await self.session.scalars(stmt)).all()

    async def person_identity_index(self, person_id: uuid.UUID) -> str | None:
        return await self.session.scalar(select(Person.identity_index).where(Person.id == person_id))

    # --- applications ------------------------------------------------------------------

    async def add_application(self, application: Application) -> Application:
        return await self.insert(application)

    async def get_application(
        self, principal: Principal, application_id: uuid.UUID, *, for_update: bool = False
    ) -> Application | None:
        stmt = readable_applications(principal).where(Application.id == application_id)
        if for_update:
            stmt = stmt.with_for_update()
        return await self.session.scalar(stmt)

    async def application_for_update(self, application_id: uuid.UUID) -> Application | None:
        """Unscoped and locked: for other modules' use cases that already checked access."""
        return await self.session.scalar(
            select(Application).where(Application.id == application_id).with_for_update()
        )

    async def applications_for_person(
        self, principal: Principal, person_id: uuid.UUID
    ) -> Sequence[Application]:
        stmt = (
            readable_applications(principal)
            .where(Application.person_id == person_id)
            .order_by(Application.received_date, Application.created_at, Application.id)
        )
        return (await self.session.scalars(stmt)).all()

    async def overdue(
        self,
        principal: Principal,
        *,
        today: date,
        include_replied: bool,
        district: str | None,
        limit: int,
        after: tuple[date, uuid.UUID] | None,
    ) -> Sequence[Application]:
        """Open applications whose deadline has passed, oldest deadline first. Without
        `include_replied`, only those whose preliminary reply is missing or has run out
        (the same rule as `rules.preliminary_reply_task`)."""
        stmt = readable_applications(principal).where(
            Application.status.in_(sorted(OPEN_APPLICATION_STATUSES)),
            Application.deadline_date < today,
        )
        if not include_replied:
            stmt = stmt.where(
                or_(
                    Application.preliminary_reply_date.is_(None),
                    Application.expected_decision_date < today,
                )
            )
        if district is not None:
            stmt = stmt.where(Application.district == district)
        return await self.keyset_page(
            stmt, (Application.deadline_date, Application.id), after=after, limit=limit
        )
