"""The provider's adjustment log: the provider logs adjustments to its orders; the case office
reads them per person, decision, order or district and overrules one."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse

from hjemflyt.notifications.adjustments import service
from hjemflyt.notifications.adjustments.rules import Status
from hjemflyt.notifications.adjustments.schemas import AdjustmentIn, AdjustmentOut, OverruleIn
from hjemflyt.shared.platform.auth import Principal, Scope
from hjemflyt.shared.platform.deps import ContextDep, IdempotencyDep, LoggedReadDep, SessionDep, requires
from hjemflyt.shared.platform.pagination import MAX_LIMIT, Page

router = APIRouter(prefix="/v1", tags=["adjustments"])
Adjuster = Annotated[Principal, Depends(requires(Scope.orders_write))]
Reader = Annotated[Principal, Depends(requires(Scope.orders_read))]

REFUSALS = (
    "`change-notice-required` (purchaser-provider district, or the order names no model), "
    "`service-not-ordered`, `measure-not-ordered`, `adjustment-outside-decision` (the planned hours "
    "would leave the frame or exceed the decided hours); each with `change_of_need`, the path to report "
    "a change of need instead. Also `measure-already-ordered`, `new-measure-incomplete`, "
    "`adjustment-changes-nothing`."
)


@router.post(
    "/orders/{order_id}/adjustments",
    status_code=201,
    response_model=AdjustmentOut,
    responses={
        200: {"description": "The same `adjustment_id` again: the adjustment as first logged"},
        404: {"description": "No such order of yours"},
        409: {
            "description": "`order-ended`, `order-rejected`, `adjustment-from-mismatch` (the measure does "
            "not run as `from` says), `adjustment-id-reused` (the id was used for another adjustment)"
        },
        422: {"description": "Outside the decision's bounds: " + REFUSALS},
    },
    summary="Log an adjustment inside the decision's bounds (provider token)",
    description="Trust model / friere faglighet: adjust one measure's frequency (times per day, week, "
    "month ...), minutes or content, or add a measure, with the reason. Inside the decision's bounds it "
    "is logged and published as `order.adjusted`; outside them it is refused (nothing stored) and "
    "pointed to the change-of-need report. Send `adjustment_id` or an `Idempotency-Key` when you may retry.",
)
async def log_adjustment(
    order_id: uuid.UUID,
    body: AdjustmentIn,
    ctx: ContextDep,
    session: SessionDep,
    principal: Adjuster,
    idem: IdempotencyDep,
) -> JSONResponse:
    if (replay := await idem.replay()) is not None:
        return replay
    out, created = await service.log(ctx, session, principal, order_id, body)
    return await idem.remember(
        201 if created else 200,
        out.model_dump(mode="json"),
        headers={"Location": f"/v1/adjustments/{out.id}"},
    )


@router.get(
    "/orders/{order_id}/adjustments",
    summary="One order's adjustment log, oldest first (a provider its own, the case office its districts')",
)
async def order_adjustments(
    order_id: uuid.UUID,
    session: SessionDep,
    principal: Reader,
    log_read: LoggedReadDep,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
    cursor: str | None = None,
) -> Page[AdjustmentOut]:
    return await service.page(session, principal, log_read, limit=limit, cursor=cursor, order_id=order_id)


@router.get(
    "/adjustments",
    summary="Adjustments per person, decision, order or district, oldest first",
    description="The case office sees its districts' (with `since`, the recent ones of a district for "
    "its worklist); a provider its own.",
)
async def list_adjustments(
    session: SessionDep,
    principal: Reader,
    log_read: LoggedReadDep,
    person_id: uuid.UUID | None = None,
    decision_id: uuid.UUID | None = None,
    order_id: uuid.UUID | None = None,
    district: Annotated[str | None, Query(max_length=100)] = None,
    status: Status | None = None,
    since: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
    cursor: str | None = None,
) -> Page[AdjustmentOut]:
    return await service.page(
        session,
        principal,
        log_read,
        limit=limit,
        cursor=cursor,
        order_id=order_id,
        person_id=person_id,
        decision_id=decision_id,
        district=district,
        status=status.value if status else None,
        since=since,
    )


@router.get("/adjustments/{adjustment_id}", summary="One adjustment")
async def get_adjustment(
    adjustment_id: uuid.UUID, session: SessionDep, principal: Reader, log_read: LoggedReadDep
) -> AdjustmentOut:
    return await service.get(session, principal, adjustment_id, log_read)


@router.post(
    "/adjustments/{adjustment_id}/overrule",
    responses={
        403: {"description": "Not the case office"},
        404: {"description": "No such adjustment in your districts"},
        409: {"description": "Overruled already (`adjustment-already-overruled`)"},
        422: {"description": "`invalid-escalation-path`"},
    },
    summary="Overrule a provider's adjustment (case officer or service lead of the district)",
    description="The body with decision authority wins. Records the reason, the level that decided and "
    "the escalation path (case_office -> unit_head -> head_of_services); the adjustment no longer counts "
    "towards the plan; the provider gets an `adjustment.overruled` message to acknowledge; publishes "
    "`adjustment.overruled`. Once per adjustment (409 the second time).",
)
async def overrule(
    adjustment_id: uuid.UUID, body: OverruleIn, ctx: ContextDep, session: SessionDep, principal: Reader
) -> AdjustmentOut:
    return await service.overrule(ctx, session, principal, adjustment_id, body)
