"""Every SQL statement about rule sets."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date

from sqlalchemy import func, select

from hjemflyt.budget.financing.models import RuleSet
from hjemflyt.shared.platform.db import advisory_xact_lock
from hjemflyt.shared.platform.repository import Repository


class RuleSetRepository(Repository):
    async def next_version(self, key: str) -> int:
        # Serialise new versions of one key (two managers saving at once get 1 and 2).
        await advisory_xact_lock(self.session, "hjemflyt.budget.rule_set", key)
        latest = await self.session.scalar(select(func.max(RuleSet.version)).where(RuleSet.key == key))
        return (latest or 0) + 1

    async def add(self, rule_set: RuleSet) -> RuleSet:
        return await self.insert(rule_set)

    async def get(self, rule_set_id: uuid.UUID, *, for_update: bool = False) -> RuleSet | None:
        stmt = select(RuleSet).where(RuleSet.id == rule_set_id)
        if for_update:
            stmt = stmt.with_for_update()
        return (await self.session.scalars(stmt)).one_or_none()

    async def list(self, key: str | None = None) -> Sequence[RuleSet]:
        stmt = select(RuleSet).order_by(RuleSet.key, RuleSet.version)
        if key is not None:
            stmt = stmt.where(RuleSet.key == key)
        return (await self.session.scalars(stmt)).all()

    async def in_force(self, on: date) -> RuleSet | None:
        """The adopted version with the latest `valid_from` on or before `on`."""
        stmt = (
            select(RuleSet)
            .where(RuleSet.adopted_at.is_not(None), RuleSet.valid_from <= on)
            .order_by(RuleSet.valid_from.desc(), RuleSet.adopted_at.desc())
            .limit(1)
        )
        return (await self.session.scalars(stmt)).one_or_none()
