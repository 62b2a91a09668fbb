"""The provider's inbox (pull delivery with long-polling), acknowledgements, a message's
delivery state, and redelivery of a dead message."""

from __future__ import annotations

import asyncio
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse

from hjemflyt.notifications.messages import service
from hjemflyt.notifications.messages.repository import MessageRepository
from hjemflyt.notifications.messages.rules import wire
from hjemflyt.notifications.messages.schemas import AckIn, InboxPage, MessageOut, message_out
from hjemflyt.shared.platform.audit import Action
from hjemflyt.shared.platform.auth import Principal, Role, Scope
from hjemflyt.shared.platform.db import unit_of_work
from hjemflyt.shared.platform.deps import ContextDep, SessionDep, requires
from hjemflyt.shared.platform.errors import Forbidden, NotFound
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
        async with unit_of_work(ctx.sessionmaker) as session:
            repo = MessageRepository(session)
            messages = await repo.inbox(org, after=after, limit=limit)
            if messages or loop.time() >= deadline:
                now = ctx.clock.now()
                await repo.mark_fetched([m.id for m in messages if m.fetched_at is None], now)
                for m in messages:
                    m.fetched_at = m.fetched_at or now
                await ctx.access_log.record(
                    session,
                    principal,
                    action=Action.read,
                    resource="message-list",
                    person_ids=sorted({m.person_id for m in messages if m.person_id}),
                    purpose="service delivery",
                )
                items: list[Any] = [wire(m) for m in messages]
                next_cursor = messages[-1].position if messages else after
        if messages or loop.time() >= deadline:
            return InboxPage.model_validate({"items": items, "next_cursor": next_cursor})
        await asyncio.sleep(min(INBOX_POLL_SECONDS, max(0.0, deadline - loop.time())))


@router.get("/messages/{message_id}", summary="A message with its delivery and acknowledgement state")
async def get_message(
    message_id: uuid.UUID, ctx: ContextDep, session: SessionDep, principal: Reader
) -> MessageOut:
    message = await MessageRepository(session).get(principal, message_id)
    if message is None:
        raise NotFound("No such message.")
    await ctx.access_log.record(
        session,
        principal,
        action=Action.read,
        resource="message",
        person_ids=[message.person_id],
        purpose="service delivery" if principal.role == Role.provider else "case handling",
        resource_id=str(message.id),
    )
    return message_out(message)


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
) -> JSONResponse:
    provider_only(principal)
    message, changed = await service.acknowledge(
        ctx, session, principal, message_id, accepted=body.accepted, reason=body.reason
    )
    if changed:
        await ctx.access_log.record(
            session,
            principal,
            action=Action.update,
            resource="message",
            person_ids=[message.person_id],
            purpose="service delivery",
            resource_id=str(message.id),
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
