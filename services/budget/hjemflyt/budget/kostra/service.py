"""Use cases: the KOSTRA function mapping, the population figures, and the KOSTRA figures."""

from __future__ import annotations

from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from hjemflyt.budget.financing import service as rule_sets
from hjemflyt.budget.hours.repository import HoursRepository
from hjemflyt.budget.kostra import rules
from hjemflyt.budget.kostra.repository import KostraRepository
from hjemflyt.budget.simulations import rules as funding
from hjemflyt.budget.simulations.repository import PopulationRepository
from hjemflyt.shared.platform.auth import Principal
from hjemflyt.shared.platform.context import ServiceContext


async def functions(session: AsyncSession) -> tuple[dict[str, str], bool]:
    """The mapping in use, and whether it is the shipped default."""
    stored = await KostraRepository(session).functions()
    return (stored, False) if stored else (dict(rules.DEFAULT_FUNCTIONS), True)


async def put_functions(
    ctx: ServiceContext, session: AsyncSession, principal: Principal, mapping: dict[str, str]
) -> None:
    await KostraRepository(session).replace_functions(mapping, ctx.clock.now(), principal.subject)
    await session.flush()


async def put_population(
    ctx: ServiceContext,
    session: AsyncSession,
    principal: Principal,
    year: int,
    figures: dict[tuple[str, str], int],
) -> None:
    await KostraRepository(session).replace_inhabitants(year, figures, ctx.clock.now(), principal.subject)
    await session.flush()


async def population(session: AsyncSession, year: int) -> dict[tuple[str, str], int]:
    return await KostraRepository(session).inhabitants(year)


async def figures(
    session: AsyncSession, year: int, on: date
) -> tuple[str, str, rules.Figures, dict[tuple[str, str], int], dict[str, str]]:
    """(rule set id, its name, the figures, the inhabitants, unit names)."""
    found, body = await rule_sets.in_force(session, on)
    people = PopulationRepository(session)
    persons = await HoursRepository(session).population(on)
    prices = await people.unit_prices() if funding.prices_needed(body) else {}
    fundings = funding.fund(body, persons, prices)
    mapping, _ = await functions(session)
    repo = KostraRepository(session)
    result = rules.figures(persons, fundings, mapping, await repo.age_bands(on))
    return str(found.id), found.name, result, await repo.inhabitants(year), await people.unit_names()
