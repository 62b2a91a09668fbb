"""Every SQL statement of pathways. Reads for people are scoped by principal here: case
officers and service leads see their districts only; managers and integrations all.

Read functions other modules may use (worklists, indicators):

- `PathwayRepository.get(principal, id)`: one pathway, None if missing or not visible.
- `PathwayRepository.list(principal, district=, status=, kind=, overdue_on=, person_id=,
  after=, limit=)`: pathways ordered by (opened_at, id); `overdue_on=d` keeps the open
  ones whose planned end is before `d`.
- `PathwayRepository.open_overdue(on, districts)`: open pathways past their planned end on
  `on`, in `districts` (None: every district). Unscoped: for system reads and indicators.
- `PathwayRepository.tasks(principal, district=, open_only=, kind=, limit=)`: deadline tasks.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, exists, func, or_, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert

from hjemflyt.pathway.assignments.repository import AssignmentRepository
from hjemflyt.pathway.decisions.models import PersonDecision
from hjemflyt.pathway.pathways.models import (
    Pathway,
    PathwayCorrection,
    PathwayReferral,
    PathwayTask,
    PathwayTemplate,
)
from hjemflyt.pathway.pathways.rules import Status
from hjemflyt.shared.platform.auth import Principal
from hjemflyt.shared.platform.repository import Repository, scoped


class PathwayRepository(Repository):
    # --- templates ---------------------------------------------------------------

    async def templates(self) -> Sequence[PathwayTemplate]:
        """The version in force of each kind that has been saved (kinds never saved use the default)."""
        latest = (
            select(PathwayTemplate.kind, func.max(PathwayTemplate.version).label("version"))
            .group_by(PathwayTemplate.kind)
            .subquery()
        )
        stmt = (
            select(PathwayTemplate)
            .join(
                latest,
                and_(PathwayTemplate.kind == latest.c.kind, PathwayTemplate.version == latest.c.version),
            )
            .order_by(PathwayTemplate.kind)
        )
        return (await self.session.scalars(stmt)).all()

    async def template_version(self, kind: int) -> int:
        found = await self.session.scalar(
            select(func.max(PathwayTemplate.version)).where(PathwayTemplate.kind == kind)
        )
        return int(found or 0)

    async def add_template(self, values: dict[str, Any]) -> PathwayTemplate:
        row = PathwayTemplate(**values)
        return await self.insert(row)

    # --- referrals ----------------------------------------------------------------

    async def add_referral(self, values: dict[str, Any]) -> bool:
        """Remember a referral; False if it was known (the same referral again)."""
        stmt = (
            insert(PathwayReferral)
            .values(**values)
            .on_conflict_do_nothing()
            .returning(PathwayReferral.referral_id)
        )
        return (await self.session.execute(stmt)).first() is not None

    async def referral(self, referral_id: uuid.UUID) -> PathwayReferral | None:
        return await self.session.get(PathwayReferral, referral_id)

    async def latest_referral(self, person_id: uuid.UUID) -> PathwayReferral | None:
        return await self.session.scalar(
            select(PathwayReferral)
            .where(PathwayReferral.person_id == person_id)
            .order_by(PathwayReferral.received_at.desc())
            .limit(1)
        )

    # --- pathways -----------------------------------------------------------------

    async def add(self, values: dict[str, Any]) -> Pathway | None:
        """Insert a pathway; None if the person has one open of that kind or the same fact
        (source, source_ref) opened one before."""
        stmt = insert(Pathway).values(**values).on_conflict_do_nothing().returning(Pathway.id)
        new_id = (await self.session.execute(stmt)).scalar_one_or_none()
        if new_id is None:
            return None
        return await self.session.get(Pathway, new_id)

    async def by_id(self, pathway_id: uuid.UUID, *, lock: bool = False) -> Pathway | None:
        """Unscoped (system use and after a scoped check)."""
        stmt = select(Pathway).where(Pathway.id == pathway_id)
        if lock:
            stmt = stmt.with_for_update()
        return await self.session.scalar(stmt)

    async def get(self, principal: Principal, pathway_id: uuid.UUID, *, lock: bool = False) -> Pathway | None:
        """The pathway if it exists in a district the principal sees."""
        found = await self.by_id(pathway_id, lock=lock)
        if found is None or not principal.may_see_district(found.district):
            return None
        return found

    async def open_of_kind(self, person_id: uuid.UUID, kind: int) -> Pathway | None:
        return await self.session.scalar(
            select(Pathway).where(
                Pathway.person_id == person_id, Pathway.kind == kind, Pathway.status == Status.open
            )
        )

    async def open_for_person(self, person_id: uuid.UUID, *, lock: bool = False) -> Sequence[Pathway]:
        stmt = (
            select(Pathway)
            .where(Pathway.person_id == person_id, Pathway.status == Status.open)
            .order_by(Pathway.opened_at, Pathway.id)
        )
        if lock:
            stmt = stmt.with_for_update()
        return (await self.session.scalars(stmt)).all()

    async def opened_after(self, person_id: uuid.UUID, day: date) -> bool:
        """Whether the person has a pathway opened after `day` (an event dated earlier is stale)."""
        found = await self.session.scalar(
            select(exists().where(Pathway.person_id == person_id, Pathway.opened_on > day))
        )
        return bool(found)

    async def list(
        self,
        principal: Principal,
        *,
        district: str | None = None,
        status: str | None = None,
        kind: int | None = None,
        person_id: uuid.UUID | None = None,
        overdue_on: date | None = None,
        after: tuple[datetime, uuid.UUID] | None = None,
        limit: int = 100,
    ) -> Sequence[Pathway]:
        stmt = scoped(select(Pathway), principal, district=Pathway.district)
        if district is not None:
            stmt = stmt.where(Pathway.district == district)
        if status is not None:
            stmt = stmt.where(Pathway.status == status)
        if kind is not None:
            stmt = stmt.where(Pathway.kind == kind)
        if person_id is not None:
            stmt = stmt.where(Pathway.person_id == person_id)
        if overdue_on is not None:
            stmt = stmt.where(Pathway.status == Status.open, Pathway.planned_end < overdue_on)
        return await self.keyset_page(stmt, (Pathway.opened_at, Pathway.id), after=after, limit=limit)

    async def open_overdue(self, on: date, districts: Collection[str] | None = None) -> Sequence[Pathway]:
        """Open pathways whose planned end is before `on`; unscoped (system and indicator reads)."""
        stmt = select(Pathway).where(Pathway.status == Status.open, Pathway.planned_end < on)
        if districts is not None:
            stmt = stmt.where(Pathway.district.in_(sorted(districts)))
        return (await self.session.scalars(stmt.order_by(Pathway.planned_end, Pathway.id))).all()

    async def due_for_sweep(
        self, today: date, limit: int, after: tuple[date, uuid.UUID] | None = None
    ) -> Sequence[Pathway]:
        """Open pathways with a deadline passed and the task for it not yet opened; locked,
        skipping those another sweep (replica) holds."""
        no_overdue_task = ~exists().where(PathwayTask.pathway_id == Pathway.id, PathwayTask.kind == "overdue")
        no_decision_task = ~exists().where(
            PathwayTask.pathway_id == Pathway.id,
            PathwayTask.kind.in_(["decision_required", "new_decision_required"]),
        )
        stmt = (
            select(Pathway)
            .where(
                Pathway.status == Status.open,
                or_(
                    and_(Pathway.planned_end < today, no_overdue_task),
                    and_(Pathway.decision_due <= today, ~Pathway.decision_covered, no_decision_task),
                ),
            )
            .order_by(Pathway.opened_on, Pathway.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        if after is not None:
            # Keyset: a pathway that earns nothing today is not looked at twice in one sweep.
            stmt = stmt.where(tuple_(Pathway.opened_on, Pathway.id) > tuple_(*after))
        return (await self.session.scalars(stmt)).all()

    async def active_decisions(self, person_id: uuid.UUID, on: date) -> int:
        """How many of the person's decisions run on `on` (pathway's read model of decisions)."""
        count = await self.session.scalar(
            select(func.count())
            .select_from(PersonDecision)
            .where(
                PersonDecision.person_id == person_id,
                PersonDecision.status != "ended",
                or_(PersonDecision.start_date.is_(None), PersonDecision.start_date <= on),
                or_(PersonDecision.end_date.is_(None), PersonDecision.end_date >= on),
            )
        )
        return int(count or 0)

    async def services_running(self, person_id: uuid.UUID, on: date) -> int:
        """How many decisions and pathway assignments of the person run on `on`: what
        `has_active_services` counts. An assignment is not a decision (it never covers a
        decision requirement), but measures run under it all the same."""
        return await self.active_decisions(person_id, on) + await AssignmentRepository(self.session).running(
            person_id, on
        )

    async def covering_decision(self, person_id: uuid.UUID, since: datetime, due: date) -> bool:
        """Whether a running decision of the person, made (or last changed) since `since`,
        runs past `due`: a decision whose event came before the pathway opened (out of order)."""
        found = await self.session.scalar(
            select(
                exists().where(
                    PersonDecision.person_id == person_id,
                    PersonDecision.status != "ended",
                    PersonDecision.changed_at >= since,
                    or_(PersonDecision.end_date.is_(None), PersonDecision.end_date > due),
                )
            )
        )
        return bool(found)

    async def set_active_services(self, person_id: uuid.UUID, active: bool, at: datetime) -> None:
        await self.session.execute(
            update(Pathway)
            .where(
                Pathway.person_id == person_id,
                Pathway.status == Status.open,
                Pathway.has_active_services.is_distinct_from(active),
            )
            .values(has_active_services=active, updated_at=at)
        )

    async def flush(self) -> None:
        await self.session.flush()

    # --- corrections --------------------------------------------------------------

    async def add_correction(self, values: dict[str, Any]) -> PathwayCorrection:
        row = PathwayCorrection(**values)
        return await self.insert(row)

    async def corrections(self, pathway_id: uuid.UUID) -> Sequence[PathwayCorrection]:
        return (
            await self.session.scalars(
                select(PathwayCorrection)
                .where(PathwayCorrection.pathway_id == pathway_id)
                .order_by(PathwayCorrection.corrected_at, PathwayCorrection.id)
            )
        ).all()

    # --- tasks --------------------------------------------------------------------

    async def add_task(self, values: dict[str, Any]) -> PathwayTask | None:
        """Open a task once per (pathway, kind); None if it was opened before."""
        stmt = insert(PathwayTask).values(**values).on_conflict_do_nothing().returning(PathwayTask.id)
        new_id = (await self.session.execute(stmt)).scalar_one_or_none()
        return None if new_id is None else await self.session.get(PathwayTask, new_id)

    async def close_tasks(
        self, pathway_id: uuid.UUID, kinds: Collection[str] | None, resolution: str, at: datetime
    ) -> None:
        stmt = update(PathwayTask).where(
            PathwayTask.pathway_id == pathway_id, PathwayTask.closed_at.is_(None)
        )
        if kinds is not None:
            stmt = stmt.where(PathwayTask.kind.in_(sorted(kinds)))
        await self.session.execute(stmt.values(closed_at=at, resolution=resolution))

    async def tasks(
        self,
        principal: Principal,
        *,
        district: str | None = None,
        open_only: bool = True,
        kind: str | None = None,
        pathway_id: uuid.UUID | None = None,
        limit: int = 200,
    ) -> Sequence[PathwayTask]:
        stmt = scoped(select(PathwayTask), principal, district=PathwayTask.district)
        if district is not None:
            stmt = stmt.where(PathwayTask.district == district)
        if open_only:
            stmt = stmt.where(PathwayTask.closed_at.is_(None))
        if kind is not None:
            stmt = stmt.where(PathwayTask.kind == kind)
        if pathway_id is not None:
            stmt = stmt.where(PathwayTask.pathway_id == pathway_id)
        stmt = stmt.order_by(PathwayTask.due, PathwayTask.opened_at, PathwayTask.id).limit(limit)
        return (await self.session.scalars(stmt)).all()
