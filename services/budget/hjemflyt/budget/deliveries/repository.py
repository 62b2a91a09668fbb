"""All SQL of delivered visits and pauses, and the two inputs the allocation module reads:
`actual_hours` and `paused_months`.

Persons appear only by their pseudonymous `person_id`; nothing here is personal data in
the sense of the access log (no names, no identity numbers).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

from sqlalchemy import ARRAY, Text, any_, bindparam, delete, func, or_, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from hjemflyt.budget.db import SCHEMA
from hjemflyt.budget.deliveries.models import Admission, DeliveredVisit, VisitCorrection
from hjemflyt.budget.deliveries.rules import (
    VisitFacts,
    admitted_days,
    hours,
    month_bounds,
    paused,
)
from hjemflyt.budget.settlements.models import Settlement
from hjemflyt.shared.contracts.reports import ReportedVisit
from hjemflyt.shared.platform.clock import OSLO
from hjemflyt.shared.platform.db import advisory_xact_lock
from hjemflyt.shared.platform.repository import Repository

ISSUED = "issued"


# First key of the two-key advisory lock taken per provider: recording its visits and
# issuing its statement are serialised, so no visit slips between a statement's
# calculation and the month's closing.
async def lock_provider(session: AsyncSession, provider_org: str) -> None:
    await advisory_xact_lock(session, "hjemflyt.budget.provider-settlement", provider_org)


async def closed_months(session: AsyncSession, provider_org: str) -> set[str]:
    """The months whose statement for the provider is issued."""
    rows = await session.scalars(
        select(Settlement.month).where(Settlement.provider_org == provider_org, Settlement.status == ISSUED)
    )
    return set(rows)


def _months(year: int, months: list[int]) -> list[str]:
    for m in months:
        if not 1 <= m <= 12:
            raise ValueError(f"month {m} is not 1-12")
    return [f"{year:04d}-{m:02d}" for m in sorted(set(months))]


async def actual_hours(
    session: AsyncSession, *, year: int, months: list[int]
) -> dict[tuple[uuid.UUID, str], dict[int, Decimal]]:
    """(person_id, provider_org) -> month -> hours actually delivered (actual_end -
    actual_start of visits not cancelled, by the month the visit was planned in, Norway).

    A month closed by a settlement keeps the hours as settled; visits reported again or late
    for it are corrections on the provider's next statement and are not counted here.
    Pairs with no visits in the months are absent; a month with only cancelled visits too.
    """
    keys = _months(year, months)
    if not keys:
        return {}
    stmt = (
        select(
            DeliveredVisit.person_id,
            DeliveredVisit.provider_org,
            DeliveredVisit.month,
            func.sum(DeliveredVisit.actual_seconds),
        )
        .where(
            DeliveredVisit.month == any_(bindparam("months", keys, type_=ARRAY(Text))),
            DeliveredVisit.cancelled.is_(False),
        )
        .group_by(DeliveredVisit.person_id, DeliveredVisit.provider_org, DeliveredVisit.month)
    )
    out: dict[tuple[uuid.UUID, str], dict[int, Decimal]] = {}
    for person_id, org, month, secs in await session.execute(stmt):
        out.setdefault((person_id, org), {})[int(month[5:])] = hours(int(secs))
    return out


_MEASURES = f"""
select provider_org, measure, count(*)
from {SCHEMA}.delivered_visit, unnest(measures) as measure
where not cancelled and visit_date >= :start and visit_date < :end
group by provider_org, measure
"""  # noqa: S608 - the schema is a constant


async def delivered_measures(session: AsyncSession, *, start: date, end: date) -> dict[str, dict[str, int]]:
    """provider_org -> measure code -> how many times it was done in visits (not cancelled)
    planned on days in [start, end): what the activity model pays for."""
    stmt = text(_MEASURES)
    out: dict[str, dict[str, int]] = {}
    for org, measure, count in await session.execute(stmt, {"start": start, "end": end}):
        out.setdefault(org, {})[measure] = int(count)
    return out


async def paused_months(session: AsyncSession, *, year: int, months: list[int]) -> dict[uuid.UUID, set[int]]:
    """person_id -> the months (of `months`) in which the person was paused: admitted to a
    hospital or an institution on more than half of the month's days (see `rules.paused`).
    Persons paused in none of the months are absent."""
    keys = sorted({int(k[5:]) for k in _months(year, months)})
    if not keys:
        return {}
    first, _ = month_bounds(year, keys[0])
    _, following = month_bounds(year, keys[-1])
    start = datetime.combine(first, time(0), OSLO).astimezone(UTC)
    end = datetime.combine(following, time(0), OSLO).astimezone(UTC)
    stmt = select(Admission.person_id, Admission.admitted_at, Admission.discharged_at).where(
        Admission.admitted_at < end,
        or_(Admission.discharged_at.is_(None), Admission.discharged_at >= start),
    )
    stays: dict[uuid.UUID, list[tuple[datetime, datetime | None]]] = {}
    for person_id, admitted_at, discharged_at in await session.execute(stmt):
        stays.setdefault(person_id, []).append((admitted_at, discharged_at))
    out: dict[uuid.UUID, set[int]] = {}
    for person_id, person_stays in stays.items():
        for m in keys:
            a, b = month_bounds(year, m)
            if paused(admitted_days(person_stays, a, b), a, b):
                out.setdefault(person_id, set()).add(m)
    return out


def _row(provider_org: str, v: ReportedVisit, f: VisitFacts, reported_at: datetime) -> dict[str, Any]:
    return {
        "provider_org": provider_org,
        "visit_id": v.visit_id,
        "order_id": v.order_id,
        "person_id": v.person_id,
        "district": v.district,
        "service_type": v.service_type,
        "visit_date": f.visit_date,
        "month": f.month,
        "planned_start": v.planned_start,
        "planned_end": v.planned_end,
        "actual_start": v.actual_start,
        "actual_end": v.actual_end,
        "cancelled": v.cancelled,
        "cancel_cause": v.cancel_cause,
        "planned_seconds": f.planned_seconds,
        "actual_seconds": f.actual_seconds,
        "content_sha256": f.content_sha256,
        "reported_at": reported_at,
        "measures": list(v.measures_done),
    }


class DeliveryRepository(Repository):
    async def record_visits(
        self, provider_org: str, visits: Sequence[tuple[ReportedVisit, VisitFacts]], reported_at: datetime
    ) -> None:
        """Record a chunk of reported visits.

        New or changed visits of open months are stored (replacing the earlier content);
        a visit whose settled month or whose new month is closed becomes a pending correction
        (a newer re-report replaces a pending one); content seen before changes nothing.
        """
        # A visit named twice in one chunk counts as its last report (one row per statement).
        visits = list({v.visit_id: (v, f) for v, f in visits}.values())
        if not visits:
            return
        await lock_provider(self.session, provider_org)
        closed = await closed_months(self.session, provider_org)
        ids = bindparam("visit_ids", [v.visit_id for v, _ in visits], type_=ARRAY(Text))
        existing = {
            row.visit_id: (row.month, row.content_sha256, row.measures)
            for row in await self.session.execute(
                select(
                    DeliveredVisit.visit_id,
                    DeliveredVisit.month,
                    DeliveredVisit.content_sha256,
                    DeliveredVisit.measures,
                ).where(DeliveredVisit.provider_org == provider_org, DeliveredVisit.visit_id == any_(ids))
            )
        }
        pending = {
            row.visit_id: (row.id, row.content_sha256)
            for row in await self.session.execute(
                select(VisitCorrection.visit_id, VisitCorrection.id, VisitCorrection.content_sha256).where(
                    VisitCorrection.provider_org == provider_org,
                    VisitCorrection.visit_id == any_(ids),
                    VisitCorrection.settled_in.is_(None),
                )
            )
        }
        upserts: list[dict[str, Any]] = []
        removed: list[str] = []
        dropped: list[uuid.UUID] = []
        for v, f in visits:
            before = existing.get(v.visit_id)
            if v.visit_id in pending:
                if pending[v.visit_id][1] == f.content_sha256:
                    continue
            elif before is not None and before[1] == f.content_sha256:
                if before[2] != list(v.measures_done) and before[0] not in closed:
                    upserts.append(_row(provider_org, v, f, reported_at))  # only the measures changed
                continue
            settled_month = before[0] if before is not None and before[0] in closed else None
            if settled_month is None and f.month not in closed:
                upserts.append(_row(provider_org, v, f, reported_at))
                if v.visit_id in pending:  # a late visit moved out of the closed month
                    dropped.append(pending.pop(v.visit_id)[0])
                continue
            if before is not None and settled_month is None:
                removed.append(v.visit_id)  # not settled yet: it moves into a closed month
            await self._correct(provider_org, v, f, reported_at, settled_month or f.month, pending)
        await self._write(provider_org, upserts, removed, dropped)

    async def _write(
        self, provider_org: str, upserts: list[dict[str, Any]], removed: list[str], dropped: list[uuid.UUID]
    ) -> None:
        """Store what record_visits decided: drop stale corrections, remove moved visits, upsert the rest."""
        if dropped:
            await self.session.execute(delete(VisitCorrection).where(VisitCorrection.id.in_(dropped)))
        if removed:
            await self.session.execute(
                delete(DeliveredVisit).where(
                    DeliveredVisit.provider_org == provider_org,
                    DeliveredVisit.visit_id == any_(bindparam("removed", removed, type_=ARRAY(Text))),
                )
            )
        if upserts:
            stmt = insert(DeliveredVisit)
            stmt = stmt.on_conflict_do_update(
                index_elements=[DeliveredVisit.provider_org, DeliveredVisit.visit_id],
                set_={k: stmt.excluded[k] for k in upserts[0] if k not in ("provider_org", "visit_id")},
            )
            await self.session.execute(stmt, upserts)

    async def _correct(
        self,
        provider_org: str,
        v: ReportedVisit,
        f: VisitFacts,
        reported_at: datetime,
        corrects_month: str,
        pending: dict[str, tuple[uuid.UUID, str]],
    ) -> None:
        values = _row(provider_org, v, f, reported_at) | {"corrects_month": corrects_month}
        del values["measures"]  # a correction is about the statement, which measures do not change
        if v.visit_id in pending:
            await self.session.execute(
                update(VisitCorrection).where(VisitCorrection.id == pending[v.visit_id][0]).values(**values)
            )
        else:
            await self.session.execute(insert(VisitCorrection).values(id=uuid.uuid4(), **values))

    async def admit(
        self,
        *,
        admission_id: uuid.UUID,
        person_id: uuid.UUID,
        district: str,
        institution_kind: str | None,
        admitted_at: datetime,
    ) -> None:
        stmt = insert(Admission).values(
            admission_id=admission_id,
            person_id=person_id,
            district=district,
            institution_kind=institution_kind,
            admitted_at=admitted_at,
        )
        # A discharge handled first created the row: keep its discharge, add the kind. A
        # corrected admission time (the hospital's Endring) is published again: taken too.
        await self.session.execute(
            stmt.on_conflict_do_update(
                index_elements=[Admission.admission_id],
                set_={
                    "institution_kind": stmt.excluded.institution_kind,
                    "admitted_at": stmt.excluded.admitted_at,
                },
            )
        )

    async def reopen_stay(self, admission_id: uuid.UUID) -> None:
        """A cancelled discharge: the stay is open again."""
        await self.session.execute(
            update(Admission).where(Admission.admission_id == admission_id).values(discharged_at=None)
        )

    async def drop_stay(self, admission_id: uuid.UUID) -> None:
        """A cancelled admission: the stay did not happen."""
        await self.session.execute(delete(Admission).where(Admission.admission_id == admission_id))

    async def discharge(
        self,
        *,
        admission_id: uuid.UUID,
        person_id: uuid.UUID,
        district: str,
        admitted_at: datetime,
        discharged_at: datetime,
    ) -> None:
        stmt = insert(Admission).values(
            admission_id=admission_id,
            person_id=person_id,
            district=district,
            admitted_at=admitted_at,
            discharged_at=discharged_at,
        )
        await self.session.execute(
            stmt.on_conflict_do_update(
                index_elements=[Admission.admission_id], set_={"discharged_at": stmt.excluded.discharged_at}
            )
        )
