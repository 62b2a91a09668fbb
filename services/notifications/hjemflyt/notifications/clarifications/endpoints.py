"""Clarification requests about an order, both ways, with a due date."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse

from hjemflyt.notifications.clarifications import service
from hjemflyt.notifications.clarifications.schemas import (
    CaseOfficeClarificationIn,
    ClarificationAnswerIn,
    ClarificationOut,
    Direction,
    ProviderClarificationIn,
)
from hjemflyt.shared.platform.auth import Principal, Role, Scope
from hjemflyt.shared.platform.deps import (
    ContextDep,
    IdempotencyDep,
    LoggedReadDep,
    PrincipalDep,
    SessionDep,
    requires,
)
from hjemflyt.shared.platform.pagination import MAX_LIMIT, Page

router = APIRouter(prefix="/v1", tags=["clarifications"])
Provider = Annotated[Principal, Depends(requires(Scope.orders_write))]
CaseOffice = Annotated[Principal, Depends(requires(Scope.tasks_write))]
Reader = Annotated[Principal, Depends(requires(Scope.orders_read))]
RULES: dict[int | str, dict[str, Any]] = {
    404: {"description": "No such order (yours, or in your districts)"},
    422: {"description": "Malformed, or the due date in the past or more than 60 days ahead"},
}


@router.post(
    "/orders/{order_id}/clarifications",
    status_code=201,
    response_model=ClarificationOut,
    responses=RULES,
    summary="Ask the case office to clarify an order, with a due date (provider token)",
    description="Opens a task for the case office of the order's district; the answer comes as a "
    "`clarification.answered` message. Publishes `clarification.requested`. Send an `Idempotency-Key` "
    "when you may retry.",
)
async def ask_case_office(
    order_id: uuid.UUID,
    body: ProviderClarificationIn,
    ctx: ContextDep,
    session: SessionDep,
    principal: Provider,
    idem: IdempotencyDep,
) -> JSONResponse:
    if (replay := await idem.replay()) is not None:
        return replay
    out = await service.ask_case_office(ctx, session, principal, order_id, body)
    return await idem.remember(
        201, out.model_dump(mode="json"), headers={"Location": f"/v1/clarifications/{out.id}"}
    )


@router.post(
    "/clarifications",
    status_code=201,
    response_model=ClarificationOut,
    responses=RULES,
    summary="Ask the provider of an order to clarify something, with a due date (case office, tasks:write)",
    description="Sends a `clarification.requested` message to the provider, who answers at "
    "POST /v1/clarifications/{id}/answer. Unanswered past the due date opens a task.",
)
async def ask_provider(
    body: CaseOfficeClarificationIn,
    ctx: ContextDep,
    session: SessionDep,
    principal: CaseOffice,
    idem: IdempotencyDep,
) -> JSONResponse:
    if (replay := await idem.replay()) is not None:
        return replay
    out = await service.ask_provider(ctx, session, principal, body)
    return await idem.remember(
        201, out.model_dump(mode="json"), headers={"Location": f"/v1/clarifications/{out.id}"}
    )


@router.post(
    "/clarifications/{clarification_id}/answer",
    responses={
        403: {"description": "The asking side cannot answer its own request"},
        404: {"description": "No such clarification request (yours, or in your districts)"},
        409: {"description": "Answered already"},
    },
    summary="Answer the other side's clarification request (provider; case office, tasks:write)",
)
async def answer(
    clarification_id: uuid.UUID,
    body: ClarificationAnswerIn,
    ctx: ContextDep,
    session: SessionDep,
    principal: PrincipalDep,
) -> ClarificationOut:
    principal.require(Scope.orders_write if principal.role == Role.provider else Scope.tasks_write)
    return await service.answer(ctx, session, principal, clarification_id, body.answer)


@router.get(
    "/clarifications", summary="Clarification requests: yours (provider) or your districts' (case office)"
)
async def list_clarifications(
    session: SessionDep,
    principal: Reader,
    log_read: LoggedReadDep,
    status: Literal["open", "answered"] | None = None,
    direction: Direction | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
    cursor: str | None = None,
) -> Page[ClarificationOut]:
    return await service.page(
        session,
        principal,
        log_read,
        status=status,
        direction=direction.value if direction else None,
        limit=limit,
        cursor=cursor,
    )


@router.get("/clarifications/{clarification_id}", summary="One clarification request")
async def get_clarification(
    clarification_id: uuid.UUID, session: SessionDep, principal: Reader, log_read: LoggedReadDep
) -> ClarificationOut:
    return await service.get(session, principal, clarification_id, log_read)
