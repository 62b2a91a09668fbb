"""All SQL of settlements. Scoping by principal lives here: a provider reads only its own
issued statements, their lines and its own disputes (anything else is simply not found);
the contract owner (manager) reads all, drafts included.

No access log: statements carry persons only by their pseudonymous `person_id` (no names,
no identity numbers, nothing a provider could not already see in its own orders), so a
read here is not a read of personal data in the sense of DESIGN § 6.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy import Select, delete, false, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from hjemflyt.budget.deliveries.models import DeliveredVisit, VisitCorrection
from hjemflyt.budget.hours.models import ProviderUnit
from hjemflyt.budget.settlements.models import BeyondDecisionApproval, Dispute, Settlement, SettlementLine
from hjemflyt.budget.settlements.rules import (
    CORRECTION,
    VISIT,
    AcceptedDispute,
    Agreement,
    Correction,
    Line,
    Visit,
)
from hjemflyt.shared.platform.auth import Principal, Role
from hjemflyt.shared.platform.repository import Repository

ISSUED, DRAFT = "issued", "draft"
OPEN, ACCEPTED = "open", "accepted"


def readable_settlements(principal: Principal) -> Select[Settlement]:
    stmt = select(Settlement)
    if principal.role == Role.provider:
        stmt = stmt.where(Settlement.provider_org == principal.provider_org, Settlement.status == ISSUED)
    elif principal.role != Role.manager:
        stmt = stmt.where(false())  # no other role holds the settlement scopes; stay closed if one does
    return stmt


def readable_disputes(principal: Principal) -> Select[Dispute]:
    stmt = select(Dispute)
    if principal.role == Role.provider:
        stmt = stmt.where(Dispute.provider_org == principal.provider_org)
    elif principal.role != Role.manager:
        stmt = stmt.where(false())
    return stmt


def _visit(row: DeliveredVisit | VisitCorrection) -> Visit:
    return Visit(
        visit_id=row.visit_id,
        visit_date=row.visit_date,
        planned_start=row.planned_start,
        order_id=row.order_id,
        person_id=row.person_id,
        service_type=row.service_type,
        planned_seconds=row.planned_seconds,
        actual_seconds=row.actual_seconds,
        cancelled=row.cancelled,
    )


class SettlementRepository(Repository):
    async def unit(self, provider_org: str) -> ProviderUnit | None:
        return await self.session.get(ProviderUnit, provider_org)

    async def get(
        self, principal: Principal, settlement_id: uuid.UUID, *, for_update: bool = False
    ) -> Settlement | None:
        stmt = readable_settlements(principal).where(Settlement.id == settlement_id)
        if for_update:
            stmt = stmt.with_for_update()
        return await self.session.scalar(stmt)

    async def find(self, provider_org: str, month: str) -> Settlement | None:
        found: Settlement | None = await self.session.scalar(
            select(Settlement).where(Settlement.provider_org == provider_org, Settlement.month == month)
        )
        return found

    async def list_settlements(
        self,
        principal: Principal,
        *,
        provider_org: str | None,
        month: str | None,
        status: str | None,
        limit: int,
        after: tuple[str, str] | None,
    ) -> Sequence[Settlement]:
        """Newest month first, then by provider; keyset on (month, provider_org)."""
        stmt = readable_settlements(principal)
        if provider_org is not None:
            stmt = stmt.where(Settlement.provider_org == provider_org)
        if month is not None:
            stmt = stmt.where(Settlement.month == month)
        if status is not None:
            stmt = stmt.where(Settlement.status == status)
        if after is not None:
            m, org = after
            stmt = stmt.where(
                (Settlement.month < m) | ((Settlement.month == m) & (Settlement.provider_org > org))
            )
        stmt = stmt.order_by(Settlement.month.desc(), Settlement.provider_org).limit(limit)
        return (await self.session.scalars(stmt)).all()

    async def add(self, settlement: Settlement) -> None:
        self.session.add(settlement)
        await self.session.flush()

    async def delete(self, settlement: Settlement) -> None:
        await self.session.delete(settlement)
        await self.session.flush()

    # --- the inputs of a statement -------------------------------------------------------

    async def month_visits(self, provider_org: str, month: str) -> list[Visit]:
        rows = await self.session.scalars(
            select(DeliveredVisit).where(
                DeliveredVisit.provider_org == provider_org, DeliveredVisit.month == month
            )
        )
        return [_visit(r) for r in rows]

    async def pending_corrections(self, provider_org: str) -> list[Correction]:
        """Corrections not on an issued statement yet, each with what was settled for its
        visit so far (all issued visit and correction lines of the provider for it)."""
        rows = (
            await self.session.scalars(
                select(VisitCorrection).where(
                    VisitCorrection.provider_org == provider_org, VisitCorrection.settled_in.is_(None)
                )
            )
        ).all()
        if not rows:
            return []
        settled = dict(
            (
                await self.session.execute(
                    select(SettlementLine.visit_id, func.sum(SettlementLine.amount_ore))
                    .join(Settlement, Settlement.id == SettlementLine.settlement_id)
                    .where(
                        Settlement.provider_org == provider_org,
                        Settlement.status == ISSUED,
                        SettlementLine.kind.in_([VISIT, CORRECTION]),
                        SettlementLine.visit_id.in_([r.visit_id for r in rows]),
                    )
                    .group_by(SettlementLine.visit_id)
                )
            ).all()
        )
        return [Correction(r.id, _visit(r), r.corrects_month, int(settled.get(r.visit_id, 0))) for r in rows]

    async def accepted_disputes(self, provider_org: str) -> list[AcceptedDispute]:
        """Accepted disputes not yet paid on an issued statement, with their line's facts."""
        rows = await self.session.execute(
            select(Dispute, SettlementLine, Settlement.month)
            .join(SettlementLine, SettlementLine.id == Dispute.line_id)
            .join(Settlement, Settlement.id == Dispute.settlement_id)
            .where(
                Dispute.provider_org == provider_org,
                Dispute.status == ACCEPTED,
                Dispute.adjusted_in.is_(None),
            )
        )
        out = []
        for d, line, month in rows:
            assert d.adjustment_ore is not None  # set when accepted
            out.append(
                AcceptedDispute(
                    d.id,
                    d.created_at,
                    d.adjustment_ore,
                    month,
                    line.visit_id,
                    line.visit_date,
                    line.order_id,
                    line.person_id,
                    line.service_type,
                )
            )
        return out

    @staticmethod
    def agreement(unit: ProviderUnit) -> Agreement:
        return Agreement(
            prices_ore_per_hour={k: int(v) for k, v in (unit.contract_prices_ore_per_hour or {}).items()},
            valid_from=unit.agreement_valid_from,
            valid_to=unit.agreement_valid_to,
        )

    # --- lines ---------------------------------------------------------------------------

    async def replace_lines(self, settlement_id: uuid.UUID, lines: list[Line]) -> None:
        await self.session.execute(
            delete(SettlementLine).where(SettlementLine.settlement_id == settlement_id)
        )
        if lines:
            rows: list[dict[str, Any]] = [
                asdict(line) | {"id": uuid.uuid4(), "settlement_id": settlement_id} for line in lines
            ]
            await self.session.execute(insert(SettlementLine), rows)

    async def lines(
        self, settlement_id: uuid.UUID, *, limit: int, after: int | None
    ) -> Sequence[SettlementLine]:
        stmt = select(SettlementLine).where(SettlementLine.settlement_id == settlement_id)
        if after is not None:
            stmt = stmt.where(SettlementLine.line_no > after)
        stmt = stmt.order_by(SettlementLine.line_no).limit(limit)
        return (await self.session.scalars(stmt)).all()

    async def line(self, settlement_id: uuid.UUID, line_no: int) -> SettlementLine | None:
        return await self.session.scalar(
            select(SettlementLine).where(
                SettlementLine.settlement_id == settlement_id, SettlementLine.line_no == line_no
            )
        )

    async def mark_settled(self, settlement_id: uuid.UUID, lines: list[Line]) -> None:
        """The corrections and disputes on an issued statement are paid: never again."""
        corrections = [line.correction_id for line in lines if line.correction_id is not None]
        disputes = [line.dispute_id for line in lines if line.dispute_id is not None]
        if corrections:
            await self.session.execute(
                update(VisitCorrection)
                .where(VisitCorrection.id.in_(corrections))
                .values(settled_in=settlement_id)
            )
        if disputes:
            await self.session.execute(
                update(Dispute).where(Dispute.id.in_(disputes)).values(adjusted_in=settlement_id)
            )

    # --- beyond the decision ---------------------------------------------------------------

    async def approved_persons(self, settlement_id: uuid.UUID) -> set[uuid.UUID]:
        rows = await self.session.scalars(
            select(BeyondDecisionApproval.person_id).where(
                BeyondDecisionApproval.settlement_id == settlement_id
            )
        )
        return set(rows)

    async def has_beyond(self, settlement_id: uuid.UUID, person_id: uuid.UUID) -> bool:
        found = await self.session.scalar(
            select(func.count()).where(
                SettlementLine.settlement_id == settlement_id,
                SettlementLine.person_id == person_id,
                SettlementLine.beyond_decision_seconds > 0,
            )
        )
        return bool(found)

    async def approve(
        self, settlement_id: uuid.UUID, person_id: uuid.UUID, note: str, at: datetime, by: str
    ) -> None:
        stmt = pg_insert(BeyondDecisionApproval).values(
            settlement_id=settlement_id, person_id=person_id, note=note, approved_at=at, approved_by=by
        )
        await self.session.execute(stmt.on_conflict_do_nothing())

    # --- disputes ------------------------------------------------------------------------

    async def open_dispute_for(self, line_id: uuid.UUID) -> Dispute | None:
        return await self.session.scalar(
            select(Dispute).where(Dispute.line_id == line_id, Dispute.status == OPEN)
        )

    async def add_dispute(self, dispute: Dispute) -> None:
        self.session.add(dispute)
        await self.session.flush()

    async def dispute(
        self,
        principal: Principal,
        settlement_id: uuid.UUID,
        dispute_id: uuid.UUID,
        *,
        for_update: bool = False,
    ) -> tuple[Dispute, int] | None:
        """The dispute and its line's number."""
        stmt = (
            readable_disputes(principal)
            .add_columns(SettlementLine.line_no)
            .join(SettlementLine, SettlementLine.id == Dispute.line_id)
            .where(Dispute.id == dispute_id, Dispute.settlement_id == settlement_id)
        )
        if for_update:
            stmt = stmt.with_for_update(of=Dispute)
        row = (await self.session.execute(stmt)).first()
        return None if row is None else (row[0], row[1])

    async def disputes(self, principal: Principal, settlement_id: uuid.UUID) -> list[tuple[Dispute, int]]:
        stmt = (
            readable_disputes(principal)
            .add_columns(SettlementLine.line_no)
            .join(SettlementLine, SettlementLine.id == Dispute.line_id)
            .where(Dispute.settlement_id == settlement_id)
            .order_by(Dispute.created_at, Dispute.id)
        )
        return [(d, n) for d, n in await self.session.execute(stmt)]
