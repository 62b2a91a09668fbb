from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from hjemflyt.assessment.decisions.models import Decision
from hjemflyt.shared.platform.auth import Principal


def readable(principal: Principal) -> Select[Decision]:
    stmt = select(Decision).options(selectinload(Decision.services))
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

    async def get(self, principal: Principal, decision_id: uuid.UUID) -> Decision | None:
        return await self.session.scalar(readable(principal).where(Decision.id == decision_id))

    async def for_person(self, principal: Principal, person_id: uuid.UUID) -> Sequence[Decision]:
        stmt = readable(principal).where(Decision.person_id == person_id).order_by(Decision.made_at)
        return (await self.session.scalars(stmt)).all()
