"""All SQL of the routine registry."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import BindParameter, Select, and_, bindparam, exists, func, select, update
from sqlalchemy.dialects.postgresql import distinct_on, insert
from sqlalchemy.orm import aliased

from hjemflyt.notifications.routines.models import Routine, RoutineComment, RoutineDelivery, RoutineVersion
from hjemflyt.shared.platform.repository import Repository


class RoutineRepository(Repository):
    # --- routines and versions ---------------------------------------------------------

    async def add_routine(self, values: dict[str, object]) -> Routine | None:
        """Insert unless (key, district) exists (then None)."""
        stmt = insert(Routine).values(**values).on_conflict_do_nothing().returning(Routine)
        return (await self.session.scalars(stmt)).first()

    async def by_key(self, key: str, district: str | None) -> Routine | None:
        cond = Routine.district.is_(None) if district is None else Routine.district == district
        return await self.session.scalar(select(Routine).where(Routine.key == key, cond))

    async def kinds_of_key(self, key: str) -> set[str]:
        return set((await self.session.scalars(select(Routine.kind).where(Routine.key == key))).all())

    async def get(self, routine_id: uuid.UUID, *, for_update: bool = False) -> Routine | None:
        return await self.session.get(Routine, routine_id, with_for_update=for_update)

    async def list(self) -> Sequence[Routine]:
        stmt = select(Routine).order_by(Routine.key, Routine.district.nulls_first())
        return (await self.session.scalars(stmt)).all()

    async def add_version(self, version: RoutineVersion) -> RoutineVersion:
        return await self.insert(version)

    async def next_number(self, routine_id: uuid.UUID) -> int:
        last = await self.session.scalar(
            select(func.max(RoutineVersion.number)).where(RoutineVersion.routine_id == routine_id)
        )
        return int(last or 0) + 1

    async def versions(self, routine_id: uuid.UUID) -> Sequence[RoutineVersion]:
        stmt = (
            select(RoutineVersion)
            .where(RoutineVersion.routine_id == routine_id)
            .order_by(RoutineVersion.number)
        )
        return (await self.session.scalars(stmt)).all()

    async def version(
        self, routine_id: uuid.UUID, number: int, *, for_update: bool = False
    ) -> RoutineVersion | None:
        stmt = select(RoutineVersion).where(
            RoutineVersion.routine_id == routine_id, RoutineVersion.number == number
        )
        if for_update:
            stmt = stmt.with_for_update()
        return await self.session.scalar(stmt)

    async def supersede_published(self, routine_id: uuid.UUID, except_id: uuid.UUID) -> None:
        await self.session.execute(
            update(RoutineVersion)
            .where(
                RoutineVersion.routine_id == routine_id,
                RoutineVersion.status == "published",
                RoutineVersion.id != except_id,
            )
            .values(status="superseded")
        )

    async def latest_published(self, district: str | None) -> Sequence[tuple[Routine, RoutineVersion]]:
        """Each routine's latest published version: templates, and `district`'s overrides
        (every district's when `district` is None)."""
        stmt = (
            select(Routine, RoutineVersion)
            .join(RoutineVersion, RoutineVersion.routine_id == Routine.id)
            .where(RoutineVersion.published_at.is_not(None))
            .order_by(Routine.id, RoutineVersion.number.desc())
            .ext(distinct_on(Routine.id))
        )
        if district is not None:
            stmt = stmt.where((Routine.district.is_(None)) | (Routine.district == district))
        return [(r, v) for r, v in (await self.session.execute(stmt)).all()]

    async def overridden_districts(self, key: str) -> set[str]:
        """Districts with a published override of `key`."""
        stmt = (
            select(Routine.district)
            .join(RoutineVersion, RoutineVersion.routine_id == Routine.id)
            .where(
                Routine.key == key, Routine.district.is_not(None), RoutineVersion.published_at.is_not(None)
            )
            .distinct()
        )
        return {d for d in (await self.session.scalars(stmt)).all() if d is not None}

    async def district_version(self, district: str) -> tuple[int, datetime | None]:
        """How many publications have affected `district`, and the latest one's time: every
        publication of its overrides, and every publication of a template made while the
        district had no published override of that key. Only grows: publications are never
        undone."""
        count, latest = (await self.session.execute(_DISTRICT_VERSION, {"district": district})).one()
        return int(count), latest

    # --- comments ------------------------------------------------------------------------

    async def add_comment(self, comment: RoutineComment) -> RoutineComment:
        return await self.insert(comment)

    async def comments(self, version_id: uuid.UUID, provider_org: str | None) -> Sequence[RoutineComment]:
        stmt = (
            select(RoutineComment)
            .where(RoutineComment.version_id == version_id)
            .order_by(RoutineComment.created_at, RoutineComment.id)
        )
        if provider_org is not None:
            stmt = stmt.where(RoutineComment.provider_org == provider_org)
        return (await self.session.scalars(stmt)).all()

    # --- deliveries and acknowledgements ----------------------------------------------

    async def add_delivery(self, delivery: RoutineDelivery) -> RoutineDelivery:
        return await self.insert(delivery)

    async def deliveries(
        self, routine_id: uuid.UUID, provider_org: str | None = None
    ) -> Sequence[RoutineDelivery]:
        stmt = (
            select(RoutineDelivery)
            .where(RoutineDelivery.routine_id == routine_id)
            .order_by(RoutineDelivery.created_at, RoutineDelivery.provider_org)
        )
        if provider_org is not None:
            stmt = stmt.where(RoutineDelivery.provider_org == provider_org)
        return (await self.session.scalars(stmt)).all()

    async def delivery_by_message(self, message_id: uuid.UUID) -> RoutineDelivery | None:
        stmt = select(RoutineDelivery).where(RoutineDelivery.message_id == message_id).with_for_update()
        return await self.session.scalar(stmt)

    async def supersede_awaiting(
        self, routine_id: uuid.UUID, except_version: uuid.UUID
    ) -> Sequence[uuid.UUID]:
        """A newer version is published: older unanswered publications need no answer any
        more. Returns their message ids, for the messages module to mark superseded."""
        return (
            await self.session.scalars(
                update(RoutineDelivery)
                .where(
                    RoutineDelivery.routine_id == routine_id,
                    RoutineDelivery.status == "awaiting",
                    RoutineDelivery.version_id != except_version,
                )
                .values(status="superseded")
                .returning(RoutineDelivery.message_id)
            )
        ).all()

    async def due_reminders(
        self, *, sent_before: datetime, reminded_before: datetime, limit: int
    ) -> Sequence[RoutineDelivery]:
        """Unacknowledged deliveries older than `sent_before` whose last reminder (if any)
        is older than `reminded_before`; locked, skipping those another sweep holds."""
        stmt = (
            select(RoutineDelivery)
            .where(
                RoutineDelivery.status == "awaiting",
                RoutineDelivery.created_at <= sent_before,
                RoutineDelivery.last_reminded_at.is_(None)
                | (RoutineDelivery.last_reminded_at <= reminded_before),
            )
            .order_by(RoutineDelivery.created_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return (await self.session.scalars(stmt)).all()

    async def version_by_id(self, version_id: uuid.UUID) -> RoutineVersion | None:
        return await self.session.get(RoutineVersion, version_id)


def _district_version() -> Select[int, datetime | None]:
    # Built once: every order asks this, and building the aliased query each time cost
    # more CPU than running it.
    district: BindParameter[str] = bindparam("district")
    ov_routine, ov_version = aliased(Routine), aliased(RoutineVersion)
    masked = exists().where(
        ov_routine.key == Routine.key,
        ov_routine.district == district,
        ov_version.routine_id == ov_routine.id,
        ov_version.published_at.is_not(None),
        ov_version.published_at < RoutineVersion.published_at,
    )
    return (
        select(func.count(), func.max(RoutineVersion.published_at))
        .select_from(Routine)
        .join(RoutineVersion, RoutineVersion.routine_id == Routine.id)
        .where(
            RoutineVersion.published_at.is_not(None),
            (Routine.district == district) | and_(Routine.district.is_(None), ~masked),
        )
    )


_DISTRICT_VERSION = _district_version()
