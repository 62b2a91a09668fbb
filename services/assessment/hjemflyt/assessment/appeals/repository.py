"""All SQL of appeals. Reads are scoped here by the appealed decision's district, so an
endpoint that forgets a check still cannot show an appeal from another district."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date

from sqlalchemy import Select, select, tuple_

from hjemflyt.assessment.appeals.models import Appeal
from hjemflyt.assessment.appeals.rules import AppealStatus
from hjemflyt.assessment.decisions.models import Decision
from hjemflyt.shared.platform.auth import Principal
from hjemflyt.shared.platform.repository import Repository, scoped


def readable(principal: Principal) -> Select[Appeal]:
    stmt = select(Appeal)
    if principal.all_districts:
        return stmt
    # An appeal follows its decision's district.
    return scoped(
        stmt.join(Decision, Decision.id == Appeal.decision_id), principal, district=Decision.district
    )


def readable_decisions(principal: Principal) -> Select[Decision]:
    return scoped(select(Decision), principal, district=Decision.district)


class AppealRepository(Repository):
    async def add(self, appeal: Appeal) -> Appeal:
        return await self.insert(appeal)

    async def get(
        self, principal: Principal, appeal_id: uuid.UUID, *, for_update: bool = False
    ) -> Appeal | None:
        stmt = readable(principal).where(Appeal.id == appeal_id)
        if for_update:
            # Serialises the steps of one appeal: two case officers cannot both decide it.
            stmt = stmt.with_for_update(of=Appeal)
        return await self.session.scalar(stmt)

    async def decision(
        self, principal: Principal, decision_id: uuid.UUID, *, for_update: bool = False
    ) -> Decision | None:
        """The decision (without its services) if the principal may see it. Locked when an appeal
        is registered against it, so two registrations of one appeal cannot both pass the check."""
        stmt = readable_decisions(principal).where(Decision.id == decision_id)
        if for_update:
            stmt = stmt.with_for_update(of=Decision)
        return await self.session.scalar(stmt)

    async def open_for_decision(self, decision_id: uuid.UUID) -> Appeal | None:
        stmt = (
            select(Appeal)
            .where(Appeal.decision_id == decision_id, Appeal.status != AppealStatus.closed.value)
            .order_by(Appeal.created_at)
            .limit(1)
        )
        return await self.session.scalar(stmt)

    async def for_decision(self, principal: Principal, decision_id: uuid.UUID) -> Sequence[Appeal]:
        stmt = (
            readable(principal)
            .where(Appeal.decision_id == decision_id)
            .order_by(Appeal.received_date, Appeal.created_at, Appeal.id)
        )
        return (await self.session.scalars(stmt)).all()

    async def awaiting(
        self,
        principal: Principal,
        *,
        statuses: Sequence[AppealStatus],
        limit: int,
        after: tuple[date, uuid.UUID] | None,
    ) -> Sequence[Appeal]:
        """Open appeals, oldest received first (keyset on received date and id)."""
        stmt = (
            readable(principal)
            .where(Appeal.status.in_([s.value for s in statuses]))
            .order_by(Appeal.received_date, Appeal.id)
            .limit(limit)
        )
        if after is not None:
            stmt = stmt.where(tuple_(Appeal.received_date, Appeal.id) > tuple_(*after))
        return (await self.session.scalars(stmt)).all()
