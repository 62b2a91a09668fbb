"""All SQL of decisions. Reads are scoped to the principal's districts here."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date

from sqlalchemy import Select, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from hjemflyt.assessment.decisions.models import Decision, DecisionService, DecisionVersion, ProviderChoice
from hjemflyt.assessment.decisions.rules import RUNNING
from hjemflyt.shared.platform.auth import Principal


def readable(principal: Principal) -> Select[Decision]:
    stmt = select(Decision).options(selectinload(Decision.services).selectinload(DecisionService.measures))
    if not principal.all_districts:
        stmt = stmt.where(Decision.district.in_(principal.districts))
    return stmt


class DecisionRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, decision: Decision) -> Decision:
        self.session.add(decision)
        await self.session.flush()
        return decision

    async def get(
        self, principal: Principal, decision_id: uuid.UUID, *, for_update: bool = False
    ) -> Decision | None:
        stmt = readable(principal).where(Decision.id == decision_id)
        if for_update:
            # Serialises concurrent changes of one decision (versions must not fork).
            stmt = stmt.with_for_update(of=Decision)
        return await self.session.scalar(stmt)

    async def for_person(self, principal: Principal, person_id: uuid.UUID) -> Sequence[Decision]:
        stmt = readable(principal).where(Decision.person_id == person_id).order_by(Decision.created_at)
        return (await self.session.scalars(stmt)).all()

    async def add_version(self, version: DecisionVersion) -> None:
        self.session.add(version)
        await self.session.flush()

    async def versions(self, decision_id: uuid.UUID) -> Sequence[DecisionVersion]:
        stmt = (
            select(DecisionVersion)
            .where(DecisionVersion.decision_id == decision_id)
            .order_by(DecisionVersion.version)
        )
        return (await self.session.scalars(stmt)).all()

    async def choice(self, decision_id: uuid.UUID, service_type: str) -> ProviderChoice | None:
        return await self.session.scalar(
            select(ProviderChoice).where(
                ProviderChoice.decision_id == decision_id, ProviderChoice.service_type == service_type
            )
        )

    async def choices(self, decision_id: uuid.UUID) -> Sequence[ProviderChoice]:
        stmt = (
            select(ProviderChoice)
            .where(ProviderChoice.decision_id == decision_id)
            .order_by(ProviderChoice.service_type)
        )
        return (await self.session.scalars(stmt)).all()

    async def add_choice(self, choice: ProviderChoice) -> None:
        self.session.add(choice)
        await self.session.flush()

    async def evaluations_due(
        self, principal: Principal, by: date, *, limit: int, after: tuple[date, uuid.UUID] | None
    ) -> Sequence[Decision]:
        stmt = (
            readable(principal)
            .where(Decision.status.in_([s.value for s in RUNNING]), Decision.evaluation_date <= by)
            .order_by(Decision.evaluation_date, Decision.id)
            .limit(limit)
        )
        if after is not None:
            stmt = stmt.where(tuple_(Decision.evaluation_date, Decision.id) > tuple_(*after))
        return (await self.session.scalars(stmt)).all()
