"""Indicators per district, unit and month; their trends as pictures; the weekly quality board."""

from __future__ import annotations

import uuid
from datetime import date
from enum import StrEnum
from functools import partial
from typing import Annotated, Literal

from anyio import to_thread
from fastapi import APIRouter, Depends, Header, Query
from fastapi.responses import Response

from hjemflyt.pathway.indicators import pictures, rules, service
from hjemflyt.pathway.indicators.repository import visible_districts
from hjemflyt.pathway.indicators.schemas import (
    DistrictMonth,
    Indicators,
    QualityBoard,
    QualityBoardIn,
    QualityBoardPerson,
)
from hjemflyt.shared.platform.auth import Principal, Scope
from hjemflyt.shared.platform.deps import ContextDep, LoggedReadDep, SessionDep, requires
from hjemflyt.shared.platform.errors import Problem

router = APIRouter(tags=["indicators"])


# Aggregates with no person in them: case-office roles (their districts) and management.
Reader = Annotated[Principal, Depends(requires(Scope.indicators_read))]
# The quality board lists persons: those who follow persons up.
BoardReader = Annotated[Principal, Depends(requires(Scope.pathways_read))]
BoardWriter = Annotated[Principal, Depends(requires(Scope.pathways_write))]


@router.get(
    "/v1/indicators",
    summary="Indicators per district, unit and month (definitions in the description)",
    description=service.__doc__ or "",
)
async def get_indicators(
    ctx: ContextDep,
    session: SessionDep,
    principal: Reader,
    from_month: Annotated[str, Query(alias="from", description="YYYY-MM, first month")],
    to_month: Annotated[str, Query(alias="to", description="YYYY-MM, last month (included)")],
    district: str | None = None,
    unit: Annotated[
        str | None, Query(pattern=r"^\d{9}$", description="A provider's organisation number (continuity)")
    ] = None,
) -> Indicators:
    first, last = service.period(from_month, to_month)
    return await service.indicators(
        session,
        first=first,
        last=last,
        today=ctx.clock.today(),
        districts=visible_districts(principal, district),
        unit=unit,
    )


class Indicator(StrEnum):
    pathway_share = "pathway_share"
    ended_without_services_share = "ended_without_services_share"
    overdue_share = "overdue_share"
    referral_to_decision_median_days = "referral_to_decision_median_days"
    referral_to_first_visit_median_days = "referral_to_first_visit_median_days"
    reassessment_backlog = "reassessment_backlog"
    continuity = "continuity"


_LABELS: dict[Indicator, tuple[str, str]] = {
    Indicator.pathway_share: ("Share of users in a pathway", "share"),
    Indicator.ended_without_services_share: ("Share of closed pathways ending without services", "share"),
    Indicator.overdue_share: ("Share of open pathways past their planned end", "share"),
    Indicator.referral_to_decision_median_days: ("Referral to decision, median", "days"),
    Indicator.referral_to_first_visit_median_days: ("Referral to first visit, median", "days"),
    Indicator.reassessment_backlog: ("Decisions past their evaluation date at month end", "decisions"),
    Indicator.continuity: ("Distinct staff per home-nursing user per month", "staff"),
}


def _value(row: DistrictMonth, indicator: Indicator) -> float | None:
    match indicator:
        case Indicator.referral_to_decision_median_days:
            return row.referral_to_decision.median_days
        case Indicator.referral_to_first_visit_median_days:
            return row.referral_to_first_visit.median_days
        case Indicator.reassessment_backlog:
            return float(row.reassessment_backlog)
        case Indicator.continuity:
            return row.continuity.mean_distinct_staff
        case _:
            value = getattr(row, indicator.value)
            return None if value is None else float(value)


@router.get(
    "/v1/indicators/pictures/{indicator}",
    summary="An indicator's trend per district, as SVG or PNG",
    response_class=Response,
    responses={200: {"content": {"image/svg+xml": {}, "image/png": {}}, "description": "The picture"}},
)
async def indicator_picture(
    indicator: Indicator,
    ctx: ContextDep,
    session: SessionDep,
    principal: Reader,
    from_month: Annotated[str, Query(alias="from", description="YYYY-MM, first month")],
    to_month: Annotated[str, Query(alias="to", description="YYYY-MM, last month (included)")],
    district: str | None = None,
    fmt: Annotated[
        Literal["svg", "png"] | None,
        Query(alias="format", description="svg or png; default: by Accept, else svg"),
    ] = None,
    accept: Annotated[str | None, Header()] = None,
) -> Response:
    chosen = pictures.negotiate(fmt, accept)
    if chosen is None:
        raise Problem(
            "Pictures come as image/svg+xml or image/png; the Accept header admits neither.",
            status=406,
            slug="not-acceptable",
            title="Not acceptable",
        )
    first, last = service.period(from_month, to_month)
    found = await service.indicators(
        session,
        first=first,
        last=last,
        today=ctx.clock.today(),
        districts=visible_districts(principal, district),
        unit=None,
    )
    months = [rules.month_key(m) for m in rules.months(first, last)]
    series: dict[str, list[float | None]] = {}
    for row in found.districts:
        series.setdefault(row.district, [None] * len(months))[months.index(row.month)] = _value(
            row, indicator
        )
    title, ylabel = _LABELS[indicator]
    draw = partial(pictures.trends, months, series, chosen, f"{title}, {months[0]} to {months[-1]}", ylabel)
    body = await to_thread.run_sync(draw)  # drawing is CPU work: off the event loop
    return Response(body, media_type=pictures.CONTENT_TYPES[chosen], headers={"Cache-Control": "no-store"})


# --- weekly quality board ------------------------------------------------------------


class InvalidWeek(Problem):
    status = 422
    slug = "invalid-week"
    title = "Invalid week"


def _week(value: str) -> tuple[str, tuple[date, date]]:
    try:
        return value, rules.parse_week(value)
    except ValueError as exc:
        raise InvalidWeek(str(exc)) from exc


@router.put(
    "/v1/persons/{person_id}/quality-board/{week}",
    summary="Record what the journal shows for the person this ISO week (YYYY-Www)",
)
async def put_quality_board(
    person_id: uuid.UUID,
    week: str,
    body: QualityBoardIn,
    ctx: ContextDep,
    session: SessionDep,
    principal: BoardWriter,
    log_read: LoggedReadDep,
) -> QualityBoardPerson:
    """Recorded by the case system (integration), a case officer or a service lead from the
    journal; the week's record is replaced as a whole. Red until every item is shown."""
    week, _ = _week(week)
    return await service.record_board_week(ctx, session, principal, person_id, week, body, log_read)


@router.get("/v1/quality-board", summary="The week's quality board: red or green per person")
async def get_quality_board(
    ctx: ContextDep,
    session: SessionDep,
    principal: BoardReader,
    log_read: LoggedReadDep,
    week: Annotated[str | None, Query(description="ISO week YYYY-Www; default: this week")] = None,
    district: str | None = None,
) -> QualityBoard:
    """Everyone with a decision in force some day of the week, and everyone with a record
    for it, in the districts asked for (default: all the reader may see). A person is green
    when the week's record shows every item; red otherwise, with the items missing."""
    key, (monday, sunday) = _week(week or rules.week_of(ctx.clock.today()))
    persons = await service.quality_board(
        session, log_read, visible_districts(principal, district), monday, sunday, key
    )
    return QualityBoard(week=key, persons=persons)
