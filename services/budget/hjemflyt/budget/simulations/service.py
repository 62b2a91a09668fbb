"""Use cases: simulate an alternative rule set against the baseline, find who stands near a
band edge. Nothing is stored: a run takes well under a second on a city's population and the
population changes with every decision, so a stored run would only go stale. An alternative
worth keeping is saved as a rule set version (`POST /v1/rule-sets`) and simulated by id."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from hjemflyt.budget.financing import service as rule_sets
from hjemflyt.budget.financing.rules import RuleSetBody
from hjemflyt.budget.hours.repository import HoursRepository
from hjemflyt.budget.simulations import rules
from hjemflyt.budget.simulations.repository import PopulationRepository
from hjemflyt.budget.simulations.schemas import SimulationIn


@dataclass(frozen=True)
class Named:
    rule_set_id: uuid.UUID | None
    body: RuleSetBody


@dataclass(frozen=True)
class SimulationRun:
    on: date
    baseline: Named
    alternative: Named
    result: rules.Simulation
    unit_names: dict[str, str]


async def rule_set(session: AsyncSession, rule_set_id: uuid.UUID | None, on: date) -> Named:
    """A stored version by id (404 if unknown), else the adopted one in force (409 if none)."""
    if rule_set_id is None:
        found, body = await rule_sets.in_force(session, on)
    else:
        found = await rule_sets.get(session, rule_set_id)
        body = RuleSetBody.model_validate(found.body)
    return Named(found.id, body)


async def simulate(session: AsyncSession, request: SimulationIn, today: date) -> SimulationRun:
    on = request.on or today
    baseline = await rule_set(session, request.baseline_rule_set_id, on)
    if request.alternative is not None:
        alternative = Named(None, request.alternative)
    else:
        alternative = await rule_set(session, request.alternative_rule_set_id, on)
    repo = PopulationRepository(session)
    population = await HoursRepository(session).population(on)
    prices = await repo.unit_prices() if rules.prices_needed(baseline.body, alternative.body) else {}
    result = rules.simulate(baseline.body, alternative.body, population, prices)
    return SimulationRun(on, baseline, alternative, result, await repo.unit_names())


async def cliffs(
    session: AsyncSession, rule_set_id: uuid.UUID | None, on: date, within: Decimal
) -> tuple[Named, list[rules.LevelsExposure]]:
    chosen = await rule_set(session, rule_set_id, on)
    population = await HoursRepository(session).population(on)
    return chosen, rules.cliff_exposure(chosen.body, population, within)
