"""Provider reports about an order: start confirmation, deviations, "the person masters
this". Providers write about their own orders; the case office of the district reads."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse

from hjemflyt.notifications.reports import service
from hjemflyt.notifications.reports.repository import ReportRepository
from hjemflyt.notifications.reports.schemas import (
    DeviationIn,
    DeviationOut,
    MastersDailyLifeIn,
    MastersDailyLifeOut,
    Severity,
    StartIn,
    StartOut,
)
from hjemflyt.notifications.reports.scoping import logged_page, logged_read, purpose
from hjemflyt.shared.platform.audit import Action
from hjemflyt.shared.platform.auth import Principal, Scope
from hjemflyt.shared.platform.deps import ContextDep, IdempotencyDep, SessionDep, requires
from hjemflyt.shared.platform.errors import NotFound
from hjemflyt.shared.platform.pagination import MAX_LIMIT, Page, decode_position, encode_position

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
async def get_start(order_id: uuid.UUID, ctx: ContextDep, session: SessionDep, principal: Reader) -> StartOut:
    row = await ReportRepository(session).start(principal, order_id)
    if row is None:
        raise NotFound("No start confirmation for this order.")
    await ctx.access_log.record(
        session,
        principal,
        action=Action.read,
        resource="start-confirmation",
        person_ids=[row.person_id],
        purpose=purpose(principal),
        resource_id=str(order_id),
    )
    return service.start_out(row)


@router.get(
    "/start-confirmations",
    summary="Start confirmations with primary contacts: yours (provider) or your districts' (case office)",
)
async def list_starts(
    ctx: ContextDep,
    session: SessionDep,
    principal: Reader,
    person_id: uuid.UUID | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
    cursor: str | None = None,
) -> Page[StartOut]:
    rows = await ReportRepository(session).starts(
        principal, person_id=person_id, limit=limit, after=decode_position(cursor)
    )
    await ctx.access_log.record(
        session,
        principal,
        action=Action.read,
        resource="start-confirmation-list",
        person_ids=sorted({r.person_id for r in rows}),
        purpose=purpose(principal),
    )
    next_cursor = encode_position(rows[-1].confirmed_at, rows[-1].order_id) if len(rows) == limit else None
    return Page[StartOut](items=[service.start_out(r) for r in rows], next_cursor=next_cursor)


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
    ctx: ContextDep,
    session: SessionDep,
    principal: Reader,
    severity: Severity | None = None,
    order_id: uuid.UUID | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
    cursor: str | None = None,
) -> Page[DeviationOut]:
    rows = await ReportRepository(session).deviations(
        principal,
        severity=severity.value if severity else None,
        order_id=order_id,
        limit=limit,
        after=decode_position(cursor),
    )
    next_cursor = await logged_page(
        ctx, session, principal, "deviation-list", rows, limit=limit, at="reported_at"
    )
    return Page[DeviationOut](items=[DeviationOut.model_validate(r) for r in rows], next_cursor=next_cursor)


@router.get("/deviations/{deviation_id}", summary="One deviation")
async def get_deviation(
    deviation_id: uuid.UUID, ctx: ContextDep, session: SessionDep, principal: Reader
) -> DeviationOut:
    row = await ReportRepository(session).deviation(principal, deviation_id)
    if row is None:
        raise NotFound("No such deviation.")
    await logged_read(ctx, session, principal, "deviation", row)
    return DeviationOut.model_validate(row)


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
    report_id: uuid.UUID, ctx: ContextDep, session: SessionDep, principal: Reader
) -> MastersDailyLifeOut:
    row = await ReportRepository(session).masters_report(principal, report_id)
    if row is None:
        raise NotFound("No such report.")
    await logged_read(ctx, session, principal, "masters-daily-life-report", row)
    return MastersDailyLifeOut.model_validate(row)
