"""The provider units' names and contract prices that simulations, cliffs, KOSTRA figures
and pictures read beside the population (`HoursRepository.population`)."""

from __future__ import annotations

from sqlalchemy import select

from hjemflyt.budget.hours.models import DecidedHours, ProviderUnit
from hjemflyt.budget.simulations.rules import prices_by_code
from hjemflyt.shared.platform.repository import Repository


class PopulationRepository(Repository):
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
