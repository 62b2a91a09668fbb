"""All SQL of start confirmations, deviations and "masters this" reports; scoped by
principal (the provider's own; the case office's districts)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select, tuple_
from sqlalchemy.dialects.postgresql import insert

from hjemflyt.notifications.reports.models import Deviation, MastersDailyLifeReport, StartConfirmation
from hjemflyt.notifications.reports.scoping import visible
from hjemflyt.shared.platform.auth import Principal
from hjemflyt.shared.platform.repository import Repository


class ReportRepository(Repository):
    # start confirmations
    async def start(
        self, principal: Principal, order_id: uuid.UUID, version: int | None = None
    ) -> StartConfirmation | None:
        """The confirmation of this version of the order, or of its newest confirmed version."""
        stmt = visible(select(StartConfirmation), StartConfirmation, principal).where(
            StartConfirmation.order_id == order_id
        )
        if version is not None:
            stmt = stmt.where(StartConfirmation.order_version == version)
        stmt = stmt.order_by(StartConfirmation.order_version.desc()).limit(1)
        return await self.session.scalar(stmt)

    async def add_start_once(self, values: dict[str, Any]) -> StartConfirmation | None:
        stmt = (
            insert(StartConfirmation).values(**values).on_conflict_do_nothing().returning(StartConfirmation)
        )
        return (await self.session.scalars(stmt)).first()

    async def starts(
        self,
        principal: Principal,
        *,
        person_id: uuid.UUID | None,
        limit: int,
        after: tuple[datetime, uuid.UUID] | None,
    ) -> Sequence[StartConfirmation]:
        stmt = visible(select(StartConfirmation), StartConfirmation, principal)
        if person_id:
            stmt = stmt.where(StartConfirmation.person_id == person_id)
        if after is not None:
            stmt = stmt.where(
                tuple_(StartConfirmation.confirmed_at, StartConfirmation.order_id) > tuple_(*after)
            )
        stmt = stmt.order_by(StartConfirmation.confirmed_at, StartConfirmation.order_id).limit(limit)
        return (await self.session.scalars(stmt)).all()

    # deviations
    async def add(self, row: Deviation | MastersDailyLifeReport) -> None:
        self.session.add(row)
        await self.session.flush()

    async def deviation(self, principal: Principal, deviation_id: uuid.UUID) -> Deviation | None:
        stmt = visible(select(Deviation), Deviation, principal)
        return await self.session.scalar(stmt.where(Deviation.id == deviation_id))

    async def deviations(
        self,
        principal: Principal,
        *,
        severity: str | None,
        order_id: uuid.UUID | None,
        limit: int,
        after: tuple[datetime, uuid.UUID] | None,
    ) -> Sequence[Deviation]:
        stmt = visible(select(Deviation), Deviation, principal)
        if severity:
            stmt = stmt.where(Deviation.severity == severity)
        if order_id:
            stmt = stmt.where(Deviation.order_id == order_id)
        return await self.keyset_page(stmt, (Deviation.reported_at, Deviation.id), after=after, limit=limit)

    # "masters this"
    async def masters_report(
        self, principal: Principal, report_id: uuid.UUID
    ) -> MastersDailyLifeReport | None:
        stmt = visible(select(MastersDailyLifeReport), MastersDailyLifeReport, principal)
        return await self.session.scalar(stmt.where(MastersDailyLifeReport.id == report_id))
