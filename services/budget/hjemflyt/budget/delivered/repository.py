"""All SQL of decided versus delivered: the decided services covering a month (running and
ended decisions), the visits delivered in it, and the flags raised.

Persons appear only by their pseudonymous `person_id`."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, or_, select, union_all, update
from sqlalchemy.dialects.postgresql import insert

from hjemflyt.budget.delivered.models import DeliveryFlag, DeliverySweep
from hjemflyt.budget.delivered.rules import Measure, Scope
from hjemflyt.budget.deliveries.models import DeliveredVisit
from hjemflyt.budget.hours.models import DecidedHours, EndedHours
from hjemflyt.shared.platform.repository import Repository


@dataclass
class Delivered:
    seconds: int = 0
    district: str | None = None
    measures: dict[str, int] = field(default_factory=dict)


def _measures(raw: list[dict[str, Any]] | None) -> tuple[Measure, ...]:
    return tuple(
        Measure(m.get("code"), m.get("description") or "", int(m["times"]), m["per"], m.get("minutes"))
        for m in raw or ()
    )


Key = tuple[uuid.UUID, str]  # (person_id, provider_org)


class DeliveredRepository(Repository):
    def _decided(
        self,
        table: type[DecidedHours] | type[EndedHours],
        first: date,
        following: date,
        provider_org: str | None,
        districts: Collection[str] | None,
        person_id: uuid.UUID | None,
    ) -> Select[Any]:
        t = table
        conditions: list[ColumnElement[bool]] = [
            t.provider_org.is_not(None),
            t.start_date < following,
            or_(t.end_date.is_(None), t.end_date >= first),
        ]
        if provider_org is not None:
            conditions.append(t.provider_org == provider_org)
        if districts is not None:
            conditions.append(t.district.in_(sorted(districts)))
        if person_id is not None:
            conditions.append(t.person_id == person_id)
        return select(
            t.person_id,
            t.provider_org,
            t.district,
            t.service_type,
            t.scope_kind,
            t.hours_per_month,
            t.frame_min_hours,
            t.frame_max_hours,
            t.measures,
            t.start_date,
            t.end_date,
        ).where(and_(*conditions))

    async def scopes(
        self,
        first: date,
        following: date,
        *,
        provider_org: str | None = None,
        districts: Collection[str] | None = None,
        person_id: uuid.UUID | None = None,
    ) -> dict[Key, tuple[str, list[Scope]]]:
        """(person, provider) -> (district, the decided services covering a day of [first,
        following)), from running decisions and from decisions ended since."""
        args = (first, following, provider_org, districts, person_id)
        stmt = union_all(self._decided(DecidedHours, *args), self._decided(EndedHours, *args))
        out: dict[Key, tuple[str, list[Scope]]] = {}
        for r in await self.session.execute(stmt):
            _, scopes = out.setdefault((r.person_id, r.provider_org), (r.district, []))
            scopes.append(
                Scope(
                    scope_kind=r.scope_kind,
                    hours_per_month=r.hours_per_month,
                    start_date=r.start_date,
                    end_date=r.end_date,
                    frame_min_hours=r.frame_min_hours,
                    frame_max_hours=r.frame_max_hours,
                    measures=_measures(r.measures),
                    service_type=r.service_type,
                )
            )
        return out

    async def delivered(
        self,
        month: str,
        *,
        provider_org: str | None = None,
        districts: Collection[str] | None = None,
        person_id: uuid.UUID | None = None,
    ) -> dict[Key, Delivered]:
        """(person, provider) -> actual seconds delivered in the month (visits not cancelled,
        by the month they were planned in), the visits' district, and measure codes done."""
        v = DeliveredVisit
        conditions: list[ColumnElement[bool]] = [v.month == month, v.cancelled.is_(False)]
        if provider_org is not None:
            conditions.append(v.provider_org == provider_org)
        if districts is not None:
            conditions.append(v.district.in_(sorted(districts)))
        if person_id is not None:
            conditions.append(v.person_id == person_id)
        out: dict[Key, Delivered] = {}
        totals = select(v.person_id, v.provider_org, func.min(v.district), func.sum(v.actual_seconds)).where(
            *conditions
        )
        for pid, org, district, secs in await self.session.execute(
            totals.group_by(v.person_id, v.provider_org)
        ):
            out[(pid, org)] = Delivered(int(secs or 0), district)
        measure = func.unnest(v.measures).label("measure")
        done = select(v.person_id, v.provider_org, measure).where(*conditions).subquery()
        counts = select(done.c.person_id, done.c.provider_org, done.c.measure, func.count()).group_by(
            done.c.person_id, done.c.provider_org, done.c.measure
        )
        for pid, org, code, n in await self.session.execute(counts):
            out.setdefault((pid, org), Delivered()).measures[code] = int(n)
        return out

    async def add_flags(self, rows: list[dict[str, Any]]) -> list[DeliveryFlag]:
        """Insert the flags not raised before; returns those that are new."""
        if not rows:
            return []
        stmt = insert(DeliveryFlag).values(rows).on_conflict_do_nothing().returning(DeliveryFlag)
        return list((await self.session.scalars(stmt)).all())

    async def claim_sweep(self, month: str, at: datetime) -> bool:
        """Claim a month for the sweep; False when it was swept (or is being swept) already."""
        stmt = (
            insert(DeliverySweep)
            .values(month=month, flags=0, swept_at=at)
            .on_conflict_do_nothing()
            .returning(DeliverySweep.month)
        )
        return (await self.session.execute(stmt)).first() is not None

    async def swept(self, month: str, flags: int) -> None:
        await self.session.execute(
            update(DeliverySweep).where(DeliverySweep.month == month).values(flags=flags)
        )

    async def unswept(self, months: list[str]) -> list[str]:
        done = set(
            await self.session.scalars(select(DeliverySweep.month).where(DeliverySweep.month.in_(months)))
        )
        return [m for m in months if m not in done]

    async def flags(self, month: str, provider_org: str | None = None) -> list[DeliveryFlag]:
        stmt = select(DeliveryFlag).where(DeliveryFlag.month == month)
        if provider_org is not None:
            stmt = stmt.where(DeliveryFlag.provider_org == provider_org)
        return list((await self.session.scalars(stmt.order_by(DeliveryFlag.flag_id))).all())
