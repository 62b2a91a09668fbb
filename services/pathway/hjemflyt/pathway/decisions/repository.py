from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert

from hjemflyt.pathway.decisions.models import PersonDecision
from hjemflyt.shared.platform.auth import Principal
from hjemflyt.shared.platform.repository import Repository, scoped

ENDED = "ended"


class DecisionRepository(Repository):
    async def record_version(self, values: dict[str, Any]) -> bool:
        """Store a made or amended version unless a newer one is stored or the decision ended.

        Returns whether it was stored.
        """
        new = insert(PersonDecision).values(**values)
        stmt = new.on_conflict_do_update(
            index_elements=[PersonDecision.decision_id],
            set_={k: new.excluded[k] for k in values if k != "decision_id"},
            where=(PersonDecision.version < new.excluded.version) & (PersonDecision.status != ENDED),
        ).returning(PersonDecision.decision_id)
        return (await self.session.execute(stmt)).first() is not None

    async def record_end(self, values: dict[str, Any]) -> None:
        """Mark the decision ended, whatever versions arrive before or after."""
        stmt = insert(PersonDecision).values(status=ENDED, **values)
        stmt = stmt.on_conflict_do_update(
            index_elements=[PersonDecision.decision_id],
            set_={
                "status": ENDED,
                "version": func.greatest(PersonDecision.version, stmt.excluded.version),
                "end_date": stmt.excluded.end_date,
                "end_reason": stmt.excluded.end_reason,
                "changed_at": stmt.excluded.changed_at,
            },
            where=PersonDecision.status != ENDED,
        )
        await self.session.execute(stmt)

    async def district_of(self, decision_id: uuid.UUID) -> str | None:
        return await self.session.scalar(
            select(PersonDecision.district).where(PersonDecision.decision_id == decision_id)
        )

    async def for_person(self, principal: Principal, person_id: uuid.UUID) -> Sequence[PersonDecision]:
        """The person's decisions in districts the principal may see."""
        stmt = select(PersonDecision).where(PersonDecision.person_id == person_id)
        stmt = scoped(stmt, principal, district=PersonDecision.district).order_by(
            PersonDecision.start_date.nulls_last(), PersonDecision.decision_id
        )
        return (await self.session.scalars(stmt)).all()
