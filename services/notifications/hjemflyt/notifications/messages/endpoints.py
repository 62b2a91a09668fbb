"""The provider's inbox (pull delivery with long-polling), acknowledgements, a message's
delivery state, and redelivery of a dead message."""

from __future__ import annotations

import asyncio
import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

from hjemflyt.notifications.messages import service
from hjemflyt.notifications.messages.schemas import AckIn, InboxPage, MessageOut, message_out
from hjemflyt.shared.platform.audit import LoggedRead
from hjemflyt.shared.platform.auth import Principal, Role, Scope
from hjemflyt.shared.platform.db import unit_of_work
from hjemflyt.shared.platform.deps import ContextDep, LoggedReadDep, SessionDep, requires
from hjemflyt.shared.platform.errors import Forbidden
from hjemflyt.shared.platform.pagination import MAX_LIMIT

router = APIRouter(prefix="/v1", tags=["messages"])
Reader = Annotated[Principal, Depends(requires(Scope.orders_read))]

# How often a long-poll looks again; between looks it holds no database connection.
INBOX_POLL_SECONDS = 0.5
MAX_WAIT_SECONDS = 30.0


def provider_only(principal: Principal) -> str:
    if principal.role != Role.provider or not principal.provider_org:
        raise Forbidden("The inbox and acknowledgements are a provider's; the case office uses /v1/orders.")
    return principal.provider_org


@router.get("/inbox", summary="Your organisation's messages after a position (provider token)")
async def inbox(
    ctx: ContextDep,
    request: Request,
    principal: Reader,
    after: Annotated[int, Query(ge=0, description="The last position you have; 0 for all")] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
    wait: Annotated[
        float, Query(ge=0, le=MAX_WAIT_SECONDS, description="Seconds to wait for a message if there is none")
    ] = 0,
) -> InboxPage:
    org = provider_only(principal)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait
    while True:
        # Each look is its own unit of work (and its own logged read), so the wait holds no
        # connection: the request's `LoggedReadDep` would hold one for the whole wait.
        async with unit_of_work(ctx.sessionmaker) as session:
            log_read = LoggedRead(
                ctx.access_log, session, principal, trace_id=request.headers.get("traceparent")
            )
            page = await service.fetch_inbox(
                ctx, session, org, log_read, after=after, limit=limit, last_look=loop.time() >= deadline
            )
        if page is not None:
            return page
        await asyncio.sleep(min(INBOX_POLL_SECONDS, max(0.0, deadline - loop.time())))


@router.get("/messages/{message_id}", summary="A message with its delivery and acknowledgement state")
async def get_message(
    message_id: uuid.UUID, session: SessionDep, principal: Reader, log_read: LoggedReadDep
) -> MessageOut:
    return message_out(await service.get(session, principal, message_id, log_read))


@router.post(
    "/messages/{message_id}/acknowledgement",
    summary="Accept or reject a message that asks for it (provider token)",
    response_model=MessageOut,
    responses={
        201: {"model": MessageOut, "description": "Recorded"},
        200: {"description": "Same answer again"},
    },
)
async def acknowledge(
    message_id: uuid.UUID,
    body: AckIn,
    ctx: ContextDep,
    session: SessionDep,
    principal: Annotated[Principal, Depends(requires(Scope.orders_write))],
    log_read: LoggedReadDep,
) -> JSONResponse:
    provider_only(principal)
    message, changed = await service.answer(
        ctx, session, principal, message_id, log_read, accepted=body.accepted, reason=body.reason
    )
    return JSONResponse(message_out(message).model_dump(mode="json"), status_code=201 if changed else 200)


@router.post(
    "/messages/{message_id}/redeliver",
    summary="Deliver a dead message again (case office, or the provider itself)",
)
async def redeliver(
    message_id: uuid.UUID, ctx: ContextDep, session: SessionDep, principal: Reader
) -> MessageOut:
    principal.require(Scope.orders_write if principal.role == Role.provider else Scope.tasks_write)
    message = await service.redeliver(ctx, session, principal, message_id)
    return message_out(message)
