"""KOSTRA: services mapped to KOSTRA functions, population figures, cost and coverage figures."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from hjemflyt.budget.kostra import rules, service
from hjemflyt.budget.kostra.schemas import (
    AgeBandFigures,
    AreaFigures,
    DistrictInhabitants,
    DistrictKostra,
    FunctionFigures,
    FunctionsIn,
    FunctionsOut,
    KostraOut,
    PopulationIn,
    PopulationOut,
    UnitKostra,
)
from hjemflyt.shared.platform.auth import Principal, Scope
from hjemflyt.shared.platform.deps import ContextDep, SessionDep, requires
from hjemflyt.shared.platform.errors import NotFound, RuleViolation

router = APIRouter(prefix="/v1", tags=["KOSTRA"])
Reader = Annotated[Principal, Depends(requires(Scope.budget_read))]
Writer = Annotated[Principal, Depends(requires(Scope.budget_write))]
Year = Annotated[int, Path(ge=2000, le=2100)]


@router.get("/kostra/functions", summary="The KOSTRA function of each IPLOS service code")
async def get_functions(session: SessionDep, _: Reader) -> FunctionsOut:
    mapping, default = await service.functions(session)
    return FunctionsOut(functions=mapping, default=default)


@router.put("/kostra/functions", summary="Replace the mapping of IPLOS service codes to KOSTRA functions")
async def put_functions(
    body: FunctionsIn, session: SessionDep, ctx: ContextDep, principal: Writer
) -> FunctionsOut:
    await service.put_functions(ctx, session, principal, dict(body.functions))
    return FunctionsOut(functions=dict(sorted(body.functions.items())), default=False)


def _population_out(year: int, stored: dict[tuple[str, str], int]) -> PopulationOut:
    districts: dict[str, dict[str, int]] = {}
    for (district, band), n in sorted(stored.items()):
        districts.setdefault(district, {})[band] = n
    return PopulationOut(
        year=year,
        districts=[
            DistrictInhabitants.model_validate({"district": d, "inhabitants": b})
            for d, b in districts.items()
        ],
    )


@router.put("/population/{year}", summary="Inhabitants per district and age band in a year (replaces it)")
async def put_population(
    year: Year, body: PopulationIn, session: SessionDep, ctx: ContextDep, principal: Writer
) -> PopulationOut:
    names = [d.district for d in body.districts]
    if len(names) != len(set(names)):
        raise RuleViolation("A district is listed twice.", slug="duplicate-district")
    figures: dict[tuple[str, str], int] = {
        (d.district, band): n for d in body.districts for band, n in d.inhabitants.items()
    }
    await service.put_population(ctx, session, principal, year, figures)
    return _population_out(year, figures)


@router.get("/population/{year}", summary="Inhabitants per district and age band in a year")
async def get_population(year: Year, session: SessionDep, _: Reader) -> PopulationOut:
    stored = await service.population(session, year)
    if not stored:
        raise NotFound(f"No population figures for {year}.")
    return _population_out(year, stored)


def _function(fn: str, tally: rules.Tally) -> FunctionFigures:
    users = len(tally.users)
    return FunctionFigures(
        function=fn,
        users=users,
        cost_ore=tally.cost_ore,
        cost_per_user_ore=rules.per_user(tally.cost_ore, users),
    )


def _area(
    tally: rules.Tally, by_band: Mapping[str, set[uuid.UUID]], inhabitants: Mapping[str, int] | None
) -> AreaFigures:
    """Cost per user and per inhabitant, users per 1000 inhabitants by age band; inhabitants
    None: no population figures for the year."""
    users = len(tally.users)
    total = sum(inhabitants.values()) if inhabitants is not None else None
    bands = [
        AgeBandFigures(
            age_band=band,
            users=len(by_band.get(band, ())),
            inhabitants=None if inhabitants is None else inhabitants.get(band, 0),
            users_per_1000=(
                None
                if inhabitants is None
                else rules.per_thousand(len(by_band.get(band, ())), inhabitants.get(band, 0))
            ),
        )
        for band in rules.AGE_BANDS
    ]
    if rules.UNKNOWN_AGE in by_band:
        unknown = len(by_band[rules.UNKNOWN_AGE])
        bands.append(
            AgeBandFigures(age_band=rules.UNKNOWN_AGE, users=unknown, inhabitants=None, users_per_1000=None)
        )
    return AreaFigures(
        users=users,
        cost_ore=tally.cost_ore,
        cost_per_user_ore=rules.per_user(tally.cost_ore, users),
        inhabitants=total,
        cost_per_inhabitant_ore=rules.per_user(tally.cost_ore, total) if total else None,
        age_bands=bands,
    )


@router.get(
    "/kostra/figures",
    summary="Cost per user per KOSTRA function and unit, cost per inhabitant, users per 1000 by age band",
)
async def kostra_figures(
    session: SessionDep,
    _: Reader,
    year: Annotated[int, Query(ge=2000, le=2100, description="The population figures' year")],
    on: Annotated[date | None, Query(description="Users and the rule set as of; default 31 December")] = None,
) -> KostraOut:
    """Cost is what the rule set in force gives per person (levels: the annual amount of the
    person's band; hourly: decided hours * 12 * contract price, 0 and flagged without a
    price; frame: the unit's frame split over its persons by hours), not the accounts."""
    day = on or date(year, 12, 31)
    rule_set_id, name, result, inhabitants, names = await service.figures(session, year, day)
    per_district: dict[str, dict[str, int]] = {}
    for (district, band), n in inhabitants.items():
        per_district.setdefault(district, {})[band] = n
    municipality: dict[str, int] | None = None
    if inhabitants:
        municipality = dict.fromkeys(rules.AGE_BANDS, 0)
        for (_district, band), n in inhabitants.items():
            municipality[band] += n
    return KostraOut(
        year=year,
        on=day,
        rule_set_id=rule_set_id,
        rule_set_name=name,
        functions=[_function(fn, t) for fn, t in result.functions.items()],
        units=[
            UnitKostra(
                provider_org=u.provider_org,
                name=names.get(u.provider_org),
                kind=u.kind,
                users=len(u.total.users),
                cost_ore=u.total.cost_ore,
                cost_per_user_ore=rules.per_user(u.total.cost_ore, len(u.total.users)),
                functions=[_function(fn, t) for fn, t in sorted(u.functions.items())],
            )
            for u in result.units
        ],
        districts=[
            DistrictKostra(
                district=d.district,
                **_area(
                    d.total, d.users_by_age_band, per_district.get(d.district, {}) if inhabitants else None
                ).model_dump(),
            )
            for d in result.districts
        ],
        municipality=_area(result.total, result.users_by_age_band, municipality),
        flagged=result.flagged,
    )
