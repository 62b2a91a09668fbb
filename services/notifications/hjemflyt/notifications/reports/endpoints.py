"""Provider reports about an order: start confirmation, deviations, "the person masters
this". Providers write about their own orders; the case office of the district reads."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse

from hjemflyt.notifications.reports import service
from hjemflyt.notifications.reports.schemas import (
    DeviationIn,
    DeviationOut,
    MastersDailyLifeIn,
    MastersDailyLifeOut,
    Severity,
    StartIn,
    StartOut,
)
from hjemflyt.shared.platform.auth import Principal, Scope
from hjemflyt.shared.platform.deps import ContextDep, IdempotencyDep, LoggedReadDep, SessionDep, requires
from hjemflyt.shared.platform.pagination import MAX_LIMIT, Page

router = APIRouter(prefix="/v1", tags=["reports"])
Writer = Annotated[Principal, Depends(requires(Scope.orders_write))]
Reader = Annotated[Principal, Depends(requires(Scope.orders_read))]

RULES: dict[int | str, dict[str, Any]] = {
    404: {"description": "No such order of yours (problem+json)"},
    409: {"description": "A conflict with what was reported before, or the order ended (problem+json)"},
    422: {"description": "Malformed, or a rule broken: dates in the future or out of order (problem+json)"},
}


@router.post(
    "/orders/{order_id}/start",
    status_code=201,
    response_model=StartOut,
    responses={200: {"description": "Confirmed before with the same details", "model": StartOut}, **RULES},
    summary="Confirm that you started delivering an order, with the primary contact (provider token)",
    description="Once per order version. The same confirmation again answers 200; different details 409 "
    "(`start-already-confirmed`). Publishes `start.confirmed` with the contact's pseudonymous staff id only.",
)
async def confirm_start(
    order_id: uuid.UUID, body: StartIn, ctx: ContextDep, session: SessionDep, principal: Writer
) -> JSONResponse:
    out, created = await service.confirm_start(ctx, session, principal, order_id, body)
    return JSONResponse(out.model_dump(mode="json"), status_code=201 if created else 200)


@router.get("/orders/{order_id}/start", summary="The start confirmation of an order (provider; case office)")
async def get_start(
    order_id: uuid.UUID, session: SessionDep, principal: Reader, log_read: LoggedReadDep
) -> StartOut:
    return await service.get_start(session, principal, order_id, log_read)


@router.get(
    "/start-confirmations",
    summary="Start confirmations with primary contacts: yours (provider) or your districts' (case office)",
)
async def list_starts(
    session: SessionDep,
    principal: Reader,
    log_read: LoggedReadDep,
    person_id: uuid.UUID | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
    cursor: str | None = None,
) -> Page[StartOut]:
    return await service.starts(session, principal, log_read, person_id=person_id, limit=limit, cursor=cursor)


@router.post(
    "/orders/{order_id}/deviations",
    status_code=201,
    response_model=DeviationOut,
    responses=RULES,
    summary="Report a deviation (avvik) about an order (provider token)",
    description="Publishes `deviation.reported` (without the description). A high or critical deviation "
    "also opens a task for the case office. Send an `Idempotency-Key` when you may retry.",
)
async def report_deviation(
    order_id: uuid.UUID,
    body: DeviationIn,
    ctx: ContextDep,
    session: SessionDep,
    principal: Writer,
    idem: IdempotencyDep,
) -> JSONResponse:
    if (replay := await idem.replay()) is not None:
        return replay
    out = await service.report_deviation(ctx, session, principal, order_id, body)
    return await idem.remember(
        201, out.model_dump(mode="json"), headers={"Location": f"/v1/deviations/{out.id}"}
    )


@router.get(
    "/deviations", summary="Deviations: yours (provider) or your districts' (case office), oldest first"
)
async def list_deviations(
    session: SessionDep,
    principal: Reader,
    log_read: LoggedReadDep,
    severity: Severity | None = None,
    order_id: uuid.UUID | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
    cursor: str | None = None,
) -> Page[DeviationOut]:
    return await service.deviations(
        session,
        principal,
        log_read,
        severity=severity.value if severity else None,
        order_id=order_id,
        limit=limit,
        cursor=cursor,
    )


@router.get("/deviations/{deviation_id}", summary="One deviation")
async def get_deviation(
    deviation_id: uuid.UUID, session: SessionDep, principal: Reader, log_read: LoggedReadDep
) -> DeviationOut:
    return await service.get_deviation(session, principal, deviation_id, log_read)


@router.post(
    "/orders/{order_id}/masters-daily-life",
    status_code=201,
    response_model=MastersDailyLifeOut,
    responses=RULES,
    summary='Report that the person masters daily life ("mestrer dette") (provider token)',
    description="Opens a task for the case office, who may end the service; publishes "
    "`masters_daily_life.reported`. Send an `Idempotency-Key` when you may retry.",
)
async def report_masters_daily_life(
    order_id: uuid.UUID,
    body: MastersDailyLifeIn,
    ctx: ContextDep,
    session: SessionDep,
    principal: Writer,
    idem: IdempotencyDep,
) -> JSONResponse:
    if (replay := await idem.replay()) is not None:
        return replay
    out = await service.report_masters_daily_life(ctx, session, principal, order_id, body)
    return await idem.remember(
        201, out.model_dump(mode="json"), headers={"Location": f"/v1/masters-daily-life/{out.id}"}
    )


@router.get("/masters-daily-life/{report_id}", summary='One "masters daily life" report')
async def get_masters_daily_life(
    report_id: uuid.UUID, session: SessionDep, principal: Reader, log_read: LoggedReadDep
) -> MastersDailyLifeOut:
    return await service.get_masters_daily_life(session, principal, report_id, log_read)
