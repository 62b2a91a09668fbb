"""Use cases: the data behind each picture, drawn off the event loop."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from functools import partial

from anyio import to_thread
from sqlalchemy.ext.asyncio import AsyncSession

from hjemflyt.budget.allocations.repository import unit_totals
from hjemflyt.budget.hours.repository import HoursRepository
from hjemflyt.budget.pictures import rules
from hjemflyt.budget.simulations import rules as funding
from hjemflyt.budget.simulations import service as simulations
from hjemflyt.budget.simulations.repository import PopulationRepository
from hjemflyt.shared.platform.errors import NotFound


def _label(org: str, names: dict[str, str]) -> str:
    return names.get(org, org)


async def allocation(session: AsyncSession, allocation_id: uuid.UUID, fmt: rules.Format) -> bytes:
    totals = await unit_totals(session, allocation_id)
    if not totals:
        raise NotFound("No such allocation.")
    names = await PopulationRepository(session).unit_names()
    units = [(_label(org, names), amount) for org, amount in totals]
    return await to_thread.run_sync(partial(rules.allocation_per_unit, units, fmt, "Allocation per unit"))


async def levels(session: AsyncSession, rule_set_id: uuid.UUID | None, on: date, fmt: rules.Format) -> bytes:
    chosen = await simulations.rule_set(session, rule_set_id, on)
    repo = PopulationRepository(session)
    population = await HoursRepository(session).population(on)
    names = await repo.unit_names()
    fundings = funding.fund(chosen.body, population)
    order = list(funding.level_counts(chosen.body, fundings))
    counts: dict[str, dict[str, int]] = {}
    for person, f in zip(population, fundings, strict=True):
        if f.level is not None:
            unit = counts.setdefault(_label(person.provider_org, names), {})
            unit[f.level] = unit.get(f.level, 0) + 1
    title = f"Persons per level, {chosen.body.name}, {on.isoformat()}"
    return await to_thread.run_sync(partial(rules.levels_per_unit, counts, order, fmt, title))


async def cliffs(
    session: AsyncSession, rule_set_id: uuid.UUID | None, on: date, within: Decimal, fmt: rules.Format
) -> bytes:
    chosen, parts = await simulations.cliffs(session, rule_set_id, on, within)
    many = len(parts) > 1
    edges = [
        (
            ("/".join(p.applies_to) + ": " if many else "")
            + f"{e.from_level} → {e.to_level} at {e.edge_hours} h",
            len(e.below),
            len(e.above),
            e.at_stake_ore,
        )
        for p in parts
        for e in p.edges
    ]
    title = f"Persons within {within} h of a band edge, {chosen.body.name}"
    return await to_thread.run_sync(partial(rules.cliff_exposure, edges, fmt, title))
