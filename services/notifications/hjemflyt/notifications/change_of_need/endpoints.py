"""Change-of-need reports (endringsmelding): the provider reports about its order; the case
office of the district answers."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse

from hjemflyt.notifications.change_of_need import service
from hjemflyt.notifications.change_of_need.schemas import (
    ChangeOfNeedAnswerIn,
    ChangeOfNeedIn,
    ChangeOfNeedOut,
)
from hjemflyt.shared.platform.auth import Principal, Scope
from hjemflyt.shared.platform.deps import ContextDep, IdempotencyDep, LoggedReadDep, SessionDep, requires
from hjemflyt.shared.platform.pagination import MAX_LIMIT, Page

router = APIRouter(prefix="/v1", tags=["change of need"])
Reporter = Annotated[Principal, Depends(requires(Scope.orders_write))]
Answerer = Annotated[Principal, Depends(requires(Scope.tasks_write))]
Reader = Annotated[Principal, Depends(requires(Scope.orders_read))]


@router.post(
    "/orders/{order_id}/change-of-need",
    status_code=201,
    response_model=ChangeOfNeedOut,
    responses={
        404: {"description": "No such order of yours"},
        409: {"description": "The order has ended (`order-ended`)"},
    },
    summary="Report a changed need for the person of an order (provider token)",
    description="Opens a task for the case office of the order's district, who answers; publishes "
    "`change_of_need.reported` (without the free text). Send an `Idempotency-Key` when you may retry.",
)
async def report(
    order_id: uuid.UUID,
    body: ChangeOfNeedIn,
    ctx: ContextDep,
    session: SessionDep,
    principal: Reporter,
    idem: IdempotencyDep,
) -> JSONResponse:
    if (replay := await idem.replay()) is not None:
        return replay
    out = await service.report(ctx, session, principal, order_id, body)
    return await idem.remember(
        201, out.model_dump(mode="json"), headers={"Location": f"/v1/change-of-need/{out.id}"}
    )


@router.post(
    "/change-of-need/{report_id}/answer",
    responses={
        404: {"description": "No such report in your districts"},
        409: {"description": "Answered already"},
    },
    summary="Answer a change-of-need report (case office, tasks:write)",
    description="The answer goes to the provider as a `change_of_need.answered` message; the task is "
    "closed; publishes `change_of_need.answered`. A report is answered once (409 the second time).",
)
async def answer(
    report_id: uuid.UUID,
    body: ChangeOfNeedAnswerIn,
    ctx: ContextDep,
    session: SessionDep,
    principal: Answerer,
) -> ChangeOfNeedOut:
    return await service.answer(ctx, session, principal, report_id, body)


@router.get(
    "/change-of-need",
    summary="Change-of-need reports: yours (provider) or your districts' (case office), oldest first",
)
async def list_reports(
    session: SessionDep,
    principal: Reader,
    log_read: LoggedReadDep,
    status: Literal["awaiting", "answered"] | None = None,
    order_id: uuid.UUID | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
    cursor: str | None = None,
) -> Page[ChangeOfNeedOut]:
    return await service.page(
        session, principal, log_read, status=status, order_id=order_id, limit=limit, cursor=cursor
    )


@router.get("/change-of-need/{report_id}", summary="One change-of-need report")
async def get_report(
    report_id: uuid.UUID, session: SessionDep, principal: Reader, log_read: LoggedReadDep
) -> ChangeOfNeedOut:
    return await service.get(session, principal, report_id, log_read)
