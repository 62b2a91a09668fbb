"""Pictures for management: allocation per unit, level distribution per unit, cliff exposure.
SVG (text kept as text) or PNG, by `?format=` or the Accept header."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Header, Query
from fastapi.responses import Response

from hjemflyt.budget.pictures import rules, service
from hjemflyt.shared.platform.auth import Principal, Scope
from hjemflyt.shared.platform.deps import ContextDep, SessionDep, requires
from hjemflyt.shared.platform.errors import Problem

router = APIRouter(prefix="/v1/pictures", tags=["pictures"])
Reader = Annotated[Principal, Depends(requires(Scope.budget_read))]
FormatQuery = Annotated[
    Literal["svg", "png"] | None,
    Query(alias="format", description="svg or png; default: by Accept, else svg"),
]
AcceptHeader = Annotated[str | None, Header()]
PICTURE = {
    200: {
        "content": {"image/svg+xml": {}, "image/png": {}},
        "description": "The picture",
    }
}


def chosen(fmt: str | None, accept: str | None) -> rules.Format:
    picked = rules.negotiate(fmt, accept)
    if picked is None:
        raise Problem(
            "Pictures come as image/svg+xml or image/png; the Accept header admits neither.",
            status=406,
            slug="not-acceptable",
            title="Not acceptable",
        )
    return picked


def picture(body: bytes, fmt: rules.Format) -> Response:
    return Response(body, media_type=rules.CONTENT_TYPES[fmt], headers={"Cache-Control": "no-store"})


@router.get(
    "/allocations/{allocation_id}",
    summary="An allocation's amount per unit, as a bar chart",
    response_class=Response,
    responses=PICTURE,  # type: ignore[arg-type]
)
async def allocation(
    allocation_id: uuid.UUID,
    session: SessionDep,
    _: Reader,
    fmt: FormatQuery = None,
    accept: AcceptHeader = None,
) -> Response:
    f = chosen(fmt, accept)
    return picture(await service.allocation(session, allocation_id, f), f)


@router.get(
    "/levels",
    summary="Persons per level at each unit under a rule set (default: the one in force)",
    response_class=Response,
    responses=PICTURE,  # type: ignore[arg-type]
)
async def levels(
    session: SessionDep,
    ctx: ContextDep,
    _: Reader,
    rule_set_id: uuid.UUID | None = None,
    on: date | None = None,
    fmt: FormatQuery = None,
    accept: AcceptHeader = None,
) -> Response:
    f = chosen(fmt, accept)
    return picture(await service.levels(session, rule_set_id, on or ctx.clock.today(), f), f)


@router.get(
    "/cliffs",
    summary="Persons within N hours below and above each band edge, and the money at stake",
    response_class=Response,
    responses=PICTURE,  # type: ignore[arg-type]
)
async def cliffs(
    session: SessionDep,
    ctx: ContextDep,
    _: Reader,
    within_hours: Annotated[Decimal, Query(ge=0, le=744)],
    rule_set_id: uuid.UUID | None = None,
    on: date | None = None,
    fmt: FormatQuery = None,
    accept: AcceptHeader = None,
) -> Response:
    f = chosen(fmt, accept)
    day = on or ctx.clock.today()
    return picture(await service.cliffs(session, rule_set_id, day, within_hours, f), f)
