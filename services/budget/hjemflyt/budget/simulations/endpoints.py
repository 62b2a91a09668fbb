"""Simulation of alternative rule sets and the persons standing near a band edge (cliffs)."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from hjemflyt.budget.simulations import rules, service
from hjemflyt.budget.simulations.schemas import (
    CliffsOut,
    EdgeOut,
    LevelsPartOut,
    PersonChange,
    PersonNearEdge,
    RuleSetRef,
    SimulationIn,
    SimulationOut,
    Totals,
    UnitChange,
)
from hjemflyt.shared.platform.auth import Principal, Scope
from hjemflyt.shared.platform.deps import ContextDep, SessionDep, requires

router = APIRouter(prefix="/v1", tags=["simulations"])
Reader = Annotated[Principal, Depends(requires(Scope.budget_read))]


def ref(named: service.Named) -> RuleSetRef:
    return RuleSetRef(rule_set_id=named.rule_set_id, name=named.body.name, valid_from=named.body.valid_from)


def change(run: service.SimulationRun, p: rules.PersonOutcome) -> PersonChange:
    return PersonChange(
        person_id=p.person.person_id,
        provider_org=p.person.provider_org,
        district=p.person.district,
        hours_per_month=p.person.hours,
        weighted_hours_before=rules.weighted_for(run.baseline.body, p.person),
        weighted_hours_after=rules.weighted_for(run.alternative.body, p.person),
        level_before=p.before.level,
        level_after=p.after.level,
        model_before=p.before.model,
        model_after=p.after.model,
        before_ore=p.before.annual_ore,
        after_ore=p.after.annual_ore,
        difference_ore=p.difference_ore,
    )


@router.post(
    "/simulations",
    summary="Run an alternative rule set over the population beside the baseline (nothing is stored)",
)
async def simulate(body: SimulationIn, session: SessionDep, ctx: ContextDep, _: Reader) -> SimulationOut:
    run = await service.simulate(session, body, ctx.clock.today())
    sim = run.result
    page = slice(body.offset, body.offset + body.limit)
    return SimulationOut(
        on=run.on,
        baseline=ref(run.baseline),
        alternative=ref(run.alternative),
        totals=Totals(
            persons=len(sim.population),
            before_ore=sim.before_ore,
            after_ore=sim.after_ore,
            difference_ore=sim.after_ore - sim.before_ore,
            gainers=len(sim.gainer_rows),
            losers=len(sim.loser_rows),
            unchanged=sim.unchanged,
            gained_ore=sim.gained_ore,
            lost_ore=sim.lost_ore,
        ),
        units=[
            UnitChange(
                provider_org=u.provider_org,
                name=run.unit_names.get(u.provider_org),
                kind=u.kind,
                persons=u.persons,
                before_ore=u.before_ore,
                after_ore=u.after_ore,
                difference_ore=u.difference_ore,
            )
            for u in sim.units
        ],
        levels_before=sim.levels_before,
        levels_after=sim.levels_after,
        flagged=sim.flagged,
        gains=[change(run, sim.outcome(i)) for i in sim.gainer_rows[page]],
        losses=[change(run, sim.outcome(i)) for i in sim.loser_rows[page]],
        limit=body.limit,
        offset=body.offset,
    )


def near(n: rules.NearEdge) -> PersonNearEdge:
    return PersonNearEdge(
        person_id=n.person.person_id, provider_org=n.person.provider_org, weighted_hours=n.weighted_hours
    )


@router.get(
    "/cliffs",
    summary="For each band edge of the levels model: the persons within N hours of it and the money at stake",
)
async def cliffs(
    session: SessionDep,
    ctx: ContextDep,
    _: Reader,
    within_hours: Annotated[Decimal, Query(ge=0, le=744, description="Weighted hours either side")],
    rule_set_id: Annotated[uuid.UUID | None, Query(description="Default: the one in force")] = None,
    on: Annotated[date | None, Query(description="Default: today")] = None,
    limit: Annotated[int, Query(ge=0, le=1000, description="Persons listed per side of an edge")] = 100,
) -> CliffsOut:
    day = on or ctx.clock.today()
    chosen, parts = await service.cliffs(session, rule_set_id, day, within_hours)
    return CliffsOut(
        rule_set=ref(chosen),
        on=day,
        within_hours=within_hours,
        parts=[
            LevelsPartOut(
                applies_to=p.applies_to,
                persons=p.persons,
                edges=[
                    EdgeOut(
                        from_level=e.from_level,
                        to_level=e.to_level,
                        edge_hours=e.edge_hours,
                        step_ore=e.step_ore,
                        below=len(e.below),
                        above=len(e.above),
                        at_stake_below_ore=e.at_stake_below_ore,
                        at_stake_above_ore=e.at_stake_above_ore,
                        at_stake_ore=e.at_stake_ore,
                        persons_below=[near(n) for n in e.below[:limit]],
                        persons_above=[near(n) for n in e.above[:limit]],
                    )
                    for e in p.edges
                ],
            )
            for p in parts
        ],
    )
