"""Every SQL statement simulations, cliffs, KOSTRA figures and pictures read: the population
(the hours module's read model) and the provider units' names and contract prices."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hjemflyt.budget.db import SCHEMA
from hjemflyt.budget.hours.models import DecidedHours, ProviderUnit
from hjemflyt.budget.hours.repository import HoursRepository
from hjemflyt.budget.hours.rules import PersonAtUnit
from hjemflyt.budget.simulations.rules import prices_by_code

_POPULATION = f"""
select person_id, provider_org, min(district),
       string_agg(service_code || chr(31) || hours_per_month::text, chr(30))
from {SCHEMA}.decided_hours
where provider_org is not null and start_date <= $1 and (end_date is null or end_date >= $1)
group by person_id, provider_org
order by provider_org, person_id
"""  # noqa: S608 - the schema is a constant


def _hours(packed: str) -> dict[str, Decimal]:
    """'15<US>5.00<RS>1<US>3.20' -> {'15': 5.00, '1': 3.20} (ASCII unit and record separators);
    a code in two decisions is summed."""
    hours: dict[str, Decimal] = {}
    for item in packed.split("\x1e"):
        code, h = item.split("\x1f")
        hours[code] = hours[code] + Decimal(h) if code in hours else Decimal(h)
    return hours


class PopulationRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def population(self, on: date) -> list[PersonAtUnit]:
        """`HoursRepository.population(on)`, the same persons in the same order (a service test
        holds the two equal), in one row per person and unit with the hours per code packed in
        one string, read through the driver, the units' kinds looked up here. At 20,000 users
        the per-code rows through the ORM took longer than the simulation itself; arrays
        (array_agg, numerics decoded one by one) twice as long as the string and its parsing;
        a second GROUP BY (per code) and the join tripled PostgreSQL's time."""
        kinds = dict((await self.session.execute(select(ProviderUnit.provider_org, ProviderUnit.kind))).all())
        connection = await self.session.connection()
        raw = await connection.get_raw_connection()
        rows = await raw.driver_connection.fetch(_POPULATION, on)  # type: ignore[union-attr]
        return [
            PersonAtUnit(person_id, org, kinds.get(org, "unknown"), district, _hours(hours))
            for person_id, org, district, hours in rows
        ]

    async def population_through_hours(self, on: date) -> list[PersonAtUnit]:
        return await HoursRepository(self.session).population(on)

    async def unit_names(self) -> dict[str, str]:
        rows = await self.session.execute(select(ProviderUnit.provider_org, ProviderUnit.name))
        return {org: name for org, name in rows}

    async def unit_prices(self) -> dict[str, dict[str, int]]:
        """Each unit's contract price per hour, øre, by IPLOS code (`rules.prices_by_code`):
        the decided hours tell which code each service type has."""
        codes_of_type: dict[str, set[str]] = {}
        pairs = await self.session.execute(
            select(DecidedHours.service_type, DecidedHours.service_code)
            .where(DecidedHours.service_type.is_not(None))
            .distinct()
        )
        for service_type, code in pairs:
            if service_type is not None:
                codes_of_type.setdefault(service_type, set()).add(code)
        rows = await self.session.execute(
            select(ProviderUnit.provider_org, ProviderUnit.contract_prices_ore_per_hour)
        )
        return {org: prices_by_code(prices or {}, codes_of_type) for org, prices in rows}
