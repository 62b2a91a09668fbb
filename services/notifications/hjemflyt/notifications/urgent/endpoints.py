"""Urgent requests to a provider with an active order for the person, with accept/decline,
escalation and an audit trail."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse

from hjemflyt.notifications.urgent import service
from hjemflyt.notifications.urgent.schemas import UrgentAnswerIn, UrgentRequestIn, UrgentRequestOut
from hjemflyt.shared.platform.auth import Principal, Scope
from hjemflyt.shared.platform.deps import ContextDep, IdempotencyDep, LoggedReadDep, SessionDep, requires
from hjemflyt.shared.platform.pagination import MAX_LIMIT, Page

router = APIRouter(prefix="/v1/urgent-requests", tags=["urgent requests"])
Sender = Annotated[Principal, Depends(requires(Scope.tasks_write))]
Answerer = Annotated[Principal, Depends(requires(Scope.orders_write))]
Reader = Annotated[Principal, Depends(requires(Scope.orders_read))]


@router.post(
    "",
    status_code=201,
    response_model=UrgentRequestOut,
    responses={
        404: {"description": "No such order in your districts"},
        409: {"description": "The order is not active (`order-not-active`)"},
    },
    summary="Send an urgent request to the provider of an active order (case office, integration)",
    description="The provider gets an `urgent_request.sent` message that it must accept or decline within "
    "`respond_within_minutes`; declined or unanswered opens an `urgent_request_escalated` task. "
    "Publishes `urgent_request.sent`. Send an `Idempotency-Key` when you may retry.",
)
async def send(
    body: UrgentRequestIn, ctx: ContextDep, session: SessionDep, principal: Sender, idem: IdempotencyDep
) -> JSONResponse:
    if (replay := await idem.replay()) is not None:
        return replay
    out = await service.send(ctx, session, principal, body)
    return await idem.remember(
        201, out.model_dump(mode="json"), headers={"Location": f"/v1/urgent-requests/{out.id}"}
    )


@router.post(
    "/{request_id}/answer",
    responses={
        404: {"description": "No such urgent request of yours"},
        409: {"description": "Answered already"},
    },
    summary="Accept or decline an urgent request (provider token)",
    description="Also acknowledges the `urgent_request.sent` message (acknowledging the message at "
    "/v1/messages/{id}/acknowledgement is the same answer). Declining needs a note and escalates.",
)
async def answer(
    request_id: uuid.UUID, body: UrgentAnswerIn, ctx: ContextDep, session: SessionDep, principal: Answerer
) -> UrgentRequestOut:
    return await service.answer(ctx, session, principal, request_id, body)


@router.get("", summary="Urgent requests: yours (provider) or your districts' (case office), oldest first")
async def list_requests(
    session: SessionDep,
    principal: Reader,
    log_read: LoggedReadDep,
    status: Literal["sent", "accepted", "declined", "escalated"] | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
    cursor: str | None = None,
) -> Page[UrgentRequestOut]:
    return await service.page(session, principal, log_read, status=status, limit=limit, cursor=cursor)


@router.get("/{request_id}", summary="One urgent request with its audit trail (who did what, when)")
async def get_request(
    request_id: uuid.UUID, session: SessionDep, principal: Reader, log_read: LoggedReadDep
) -> UrgentRequestOut:
    return await service.get(session, principal, request_id, log_read)
