from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, delete, func, literal, or_, select, update
from sqlalchemy.dialects.postgresql import insert

from hjemflyt.budget.db import SCHEMA
from hjemflyt.budget.delivered.rules import times_in_period
from hjemflyt.budget.hours.models import DecidedHours, DecisionState, EndedHours, ProviderChoice, ProviderUnit
from hjemflyt.budget.hours.rules import CountedService, PersonAtUnit, same_service, unpack_hours
from hjemflyt.shared.platform.auth import Principal
from hjemflyt.shared.platform.db import advisory_xact_lock
from hjemflyt.shared.platform.repository import Repository

ACTIVE, ENDED = "active", "ended"
# Hours per code packed as "code<US>hours<RS>code<US>hours" (ASCII unit/record separators).
_POPULATION = f"""
select person_id, provider_org, min(district),
       string_agg(service_code || chr(31) || hours_per_month::text, chr(30))
from {SCHEMA}.decided_hours
where provider_org is not null
  and ($1::date is null or (start_date <= $1 and (end_date is null or end_date >= $1)))
group by person_id, provider_org
order by provider_org, person_id
"""  # noqa: S608 - the schema is a constant


class HoursRepository(Repository):
    async def _lock(self, decision_id: uuid.UUID) -> None:
        """Serialise this transaction's changes to one decision with other consumers' (replicas)."""
        await advisory_xact_lock(self.session, "hjemflyt.budget.decision", decision_id)

    async def apply(
        self,
        *,
        decision_id: uuid.UUID,
        version: int,
        person_id: uuid.UUID,
        district: str,
        start_date: date,
        end_date: date | None,
        services: Sequence[CountedService],
        age_band: str | None = None,
    ) -> bool:
        """Make a decision version's services the decision's counted hours.

        Ignored (returns False) when the same or a newer version is applied already, or the
        decision has ended. Services the version no longer grants stop counting.
        """
        await self._lock(decision_id)
        new = insert(DecisionState).values(
            decision_id=decision_id, version=version, person_id=person_id, district=district, status=ACTIVE
        )
        claim = new.on_conflict_do_update(
            index_elements=[DecisionState.decision_id],
            set_={
                "version": new.excluded.version,
                "person_id": new.excluded.person_id,
                "district": new.excluded.district,
            },
            where=(DecisionState.version < new.excluded.version) & (DecisionState.status == ACTIVE),
        ).returning(DecisionState.decision_id)
        if (await self.session.execute(claim)).first() is None:
            return False

        current: dict[str, str | None] = {
            key: org
            for key, org in await self.session.execute(
                select(DecidedHours.service_key, DecidedHours.provider_org).where(
                    DecidedHours.decision_id == decision_id
                )
            )
        }
        choices = (
            await self.session.scalars(
                select(ProviderChoice).where(ProviderChoice.decision_id == decision_id)
            )
        ).all()

        def provider_of(s: CountedService) -> str | None:
            # Named by this version, else as it stood (a choice already applied), else a
            # choice handled before the decision itself.
            named = s.provider_org or current.get(s.key)
            if named:
                return named
            chosen = [
                c
                for c in choices
                if same_service(s.service_type, s.service_code, c.service_key, c.service_code)
            ]
            return max(chosen, key=lambda c: c.chosen_date).provider_org if chosen else None

        rows: list[dict[str, Any]] = [
            {
                "decision_id": decision_id,
                "service_key": s.key,
                "service_code": s.service_code,
                "service_type": s.service_type,
                "outcome": s.outcome,
                "scope_kind": s.scope_kind,
                "decision_version": version,
                "person_id": person_id,
                "district": district,
                "provider_org": provider_of(s),
                "hours_per_month": s.hours_per_month,
                "start_date": start_date,
                "end_date": end_date,
                "age_band": age_band,
                "frame_min_hours": s.frame_min_hours,
                "frame_max_hours": s.frame_max_hours,
                "measures": list(s.measures),
            }
            for s in services
        ]
        await self.session.execute(delete(DecidedHours).where(DecidedHours.decision_id == decision_id))
        if rows:
            await self.session.execute(insert(DecidedHours), rows)
        return True

    async def end(
        self,
        *,
        decision_id: uuid.UUID,
        version: int,
        person_id: uuid.UUID,
        district: str,
        end_date: date,
        ended_at: datetime,
    ) -> None:
        """The decision's hours stop counting, and no version arriving later counts them again."""
        await self._lock(decision_id)
        stmt = insert(DecisionState).values(
            decision_id=decision_id,
            version=version,
            person_id=person_id,
            district=district,
            status=ENDED,
            end_date=end_date,
            ended_at=ended_at,
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=[DecisionState.decision_id],
            set_={
                "status": ENDED,
                "version": func.greatest(DecisionState.version, stmt.excluded.version),
                "end_date": stmt.excluded.end_date,
                "ended_at": stmt.excluded.ended_at,
            },
            where=DecisionState.status == ACTIVE,
        )
        await self.session.execute(stmt)
        # Kept as they stood, ending on the decision's end date (months gone by compare with them).
        columns = [c.name for c in DecidedHours.__table__.columns if c.name != "end_date"]
        archived = select(
            *(DecidedHours.__table__.c[c] for c in columns), literal(end_date).label("end_date")
        )
        await self.session.execute(
            insert(EndedHours)
            .from_select([*columns, "end_date"], archived.where(DecidedHours.decision_id == decision_id))
            .on_conflict_do_nothing()
        )
        await self.session.execute(delete(DecidedHours).where(DecidedHours.decision_id == decision_id))

    async def choose_provider(
        self,
        *,
        decision_id: uuid.UUID,
        service_type: str,
        service_code: str,
        provider_org: str,
        chosen_date: date,
    ) -> None:
        """Move a service's hours to the provider the person chose; a choice of an earlier
        date than the one recorded (arriving late) changes nothing."""
        await self._lock(decision_id)
        choice = insert(ProviderChoice).values(
            decision_id=decision_id,
            service_key=service_type,
            service_code=service_code,
            provider_org=provider_org,
            chosen_date=chosen_date,
        )
        latest = choice.on_conflict_do_update(
            index_elements=[ProviderChoice.decision_id, ProviderChoice.service_key],
            set_={
                "service_code": choice.excluded.service_code,
                "provider_org": choice.excluded.provider_org,
                "chosen_date": choice.excluded.chosen_date,
            },
            where=ProviderChoice.chosen_date <= choice.excluded.chosen_date,
        ).returning(ProviderChoice.decision_id)
        if (await self.session.execute(latest)).first() is None:
            return
        await self.session.execute(
            update(DecidedHours)
            .where(
                DecidedHours.decision_id == decision_id,
                or_(
                    DecidedHours.service_type == service_type,
                    and_(DecidedHours.service_type.is_(None), DecidedHours.service_code == service_code),
                ),
            )
            .values(provider_org=provider_org)
        )

    async def upsert_unit(self, values: dict[str, object]) -> None:
        stmt = insert(ProviderUnit).values(**values)
        stmt = stmt.on_conflict_do_update(
            index_elements=[ProviderUnit.provider_org],
            set_={k: stmt.excluded[k] for k in values if k != "provider_org"},
            where=ProviderUnit.version < stmt.excluded.version,
        )
        await self.session.execute(stmt)

    async def for_person(self, person_id: uuid.UUID) -> Sequence[DecidedHours]:
        stmt = (
            select(DecidedHours)
            .where(DecidedHours.person_id == person_id)
            .order_by(DecidedHours.service_code, DecidedHours.service_key, DecidedHours.decision_id)
        )
        return (await self.session.scalars(stmt)).all()

    async def per_provider(self) -> Sequence[tuple[str | None, str | None, str | None, int, Decimal]]:
        """Hours and persons per provider unit; provider None: no provider chosen yet."""
        stmt = (
            select(
                DecidedHours.provider_org,
                ProviderUnit.name,
                ProviderUnit.kind,
                func.count(func.distinct(DecidedHours.person_id)),
                func.sum(DecidedHours.hours_per_month),
            )
            .outerjoin(ProviderUnit, ProviderUnit.provider_org == DecidedHours.provider_org)
            .group_by(DecidedHours.provider_org, ProviderUnit.name, ProviderUnit.kind)
            .order_by(DecidedHours.provider_org.nulls_last())
        )
        return [tuple(r) for r in (await self.session.execute(stmt)).all()]  # type: ignore[misc]

    async def per_district(self, principal: Principal) -> Sequence[tuple[str, int, Decimal]]:
        """Hours and persons per district the principal may see."""
        stmt = select(
            DecidedHours.district,
            func.count(func.distinct(DecidedHours.person_id)),
            func.sum(DecidedHours.hours_per_month),
        )
        if not principal.all_districts:
            stmt = stmt.where(DecidedHours.district.in_(sorted(principal.districts)))
        stmt = stmt.group_by(DecidedHours.district).order_by(DecidedHours.district)
        return [tuple(r) for r in (await self.session.execute(stmt)).all()]  # type: ignore[misc]

    async def population(self, on: date | None = None) -> list[PersonAtUnit]:
        """Every person with counted hours at a chosen provider unit (as of `on`: decisions
        started by then and not ended before it), with hours per service code: what the
        financing models are applied to, ordered by unit and person. Hours with no provider
        chosen yet are left out (`unassigned_hours` counts them).

        Allocation, simulation and KOSTRA read this for a whole municipality, so it is one
        plain statement on the session's asyncpg connection (in its transaction), one row
        per person and unit with the hours per code packed in a string: through the ORM, one
        row per code took longer than the simulation itself; arrays of numerics decoded
        twice as slowly as the string."""
        kinds = dict((await self.session.execute(select(ProviderUnit.provider_org, ProviderUnit.kind))).all())
        connection = await self.session.connection()
        driver = (await connection.get_raw_connection()).driver_connection
        assert driver is not None  # asyncpg, always
        rows = await driver.fetch(_POPULATION, on)
        return [
            PersonAtUnit(person_id, org, kinds.get(org, "unknown"), district, unpack_hours(packed))
            for person_id, org, district, packed in rows
        ]

    async def ordered_measures(self, start: date, following: date) -> dict[str, dict[str, Decimal]]:
        """provider_org -> measure code -> times the decisions running on `start` order in
        [start, following) (each by its frequency and the days its decision covers). Uncoded
        measures have no norm and are left out; so are services with no provider chosen."""
        rows = await self.session.execute(
            select(
                DecidedHours.provider_org,
                DecidedHours.measures,
                DecidedHours.start_date,
                DecidedHours.end_date,
            ).where(
                DecidedHours.provider_org.is_not(None),
                DecidedHours.start_date <= start,
                or_(DecidedHours.end_date.is_(None), DecidedHours.end_date >= start),
                func.jsonb_array_length(DecidedHours.measures) > 0,
            )
        )
        out: dict[str, dict[str, Decimal]] = {}
        for org, measures, begins, ends in rows:
            per_code = out.setdefault(org, {})
            for m in measures:
                if not m.get("code"):
                    continue
                times = times_in_period(m["times"], m["per"], begins, ends, start, following)
                per_code[m["code"]] = per_code.get(m["code"], Decimal(0)) + times
        return out

    async def unassigned_hours(self) -> tuple[int, Decimal]:
        """Persons and hours per month granted but with no provider chosen yet."""
        row = (
            await self.session.execute(
                select(
                    func.count(func.distinct(DecidedHours.person_id)), func.sum(DecidedHours.hours_per_month)
                ).where(DecidedHours.provider_org.is_(None))
            )
        ).one()
        return int(row[0]), row[1] or Decimal(0)
