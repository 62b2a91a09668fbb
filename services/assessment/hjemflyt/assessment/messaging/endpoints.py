"""The case office's view of the national health messages: each message's state (pending,
sent, ok, rejected with its reason, invalid) and the tasks they raised."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query

from hjemflyt.assessment.messaging import service
from hjemflyt.assessment.messaging.schemas import MessageOut, TaskOut
from hjemflyt.shared.platform.auth import Principal, Scope
from hjemflyt.shared.platform.deps import ContextDep, LoggedReadDep, SessionDep, requires
from hjemflyt.shared.platform.errors import Conflict

router = APIRouter(prefix="/v1/plo", tags=["health messages"])

Reader = Annotated[Principal, Depends(requires(Scope.decisions_read))]
Writer = Annotated[Principal, Depends(requires(Scope.decisions_write))]


@router.get("/messages", summary="PLO messages and their state (access-logged)")
async def list_messages(
    session: SessionDep,
    principal: Reader,
    log_read: LoggedReadDep,
    person_id: uuid.UUID | None = None,
    decision_id: uuid.UUID | None = None,
    status: str | None = None,
    direction: Literal["out", "in"] | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[MessageOut]:
    rows = await service.messages(
        session,
        principal,
        log_read,
        person_id=person_id,
        decision_id=decision_id,
        status=status,
        direction=direction,
        limit=limit,
    )
    return [MessageOut.model_validate(r) for r in rows]


@router.get("/tasks", summary="Tasks raised by messages: invalid, unanswered, rejected, no GP")
async def list_tasks(
    session: SessionDep,
    principal: Reader,
    log_read: LoggedReadDep,
    open_only: bool = True,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[TaskOut]:
    rows = await service.tasks(session, principal, log_read, open_only=open_only, limit=limit)
    return [TaskOut.model_validate(r) for r in rows]


@router.post("/tasks/{task_id}/resolve", summary="Mark a message task as handled")
async def resolve_task(
    ctx: ContextDep, session: SessionDep, principal: Writer, task_id: uuid.UUID
) -> TaskOut:
    return TaskOut.model_validate(await service.resolve_task(ctx, session, principal, task_id))


@router.post(
    "/decisions/{decision_id}/orientering",
    summary="Send the decision's Orientering om tjenestetilbud to the GP again",
    description="After the GP was registered (task `gp-missing`) or a receipt was negative or missing: "
    "Ny if the GP was never told of this decision, else Endring of the first message. Once per "
    "decision version: asking again for the same version answers with the message already stored. "
    "409 `no-message` if none could be stored (see the tasks: no GP, not valid).",
)
async def send_again(
    ctx: ContextDep, session: SessionDep, principal: Writer, decision_id: uuid.UUID
) -> MessageOut:
    message = await service.send_again(ctx, session, principal, decision_id)
    if message is None:
        raise Conflict("No message could be stored; see /v1/plo/tasks.", slug="no-message")
    return MessageOut.model_validate(message)
