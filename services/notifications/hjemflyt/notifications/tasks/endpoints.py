"""The case office's tasks from provider messaging: list, read, close."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query

from hjemflyt.notifications.tasks import service
from hjemflyt.notifications.tasks.rules import TaskKind
from hjemflyt.notifications.tasks.schemas import TaskClose, TaskOut
from hjemflyt.shared.platform.auth import Principal, Scope
from hjemflyt.shared.platform.deps import ContextDep, LoggedReadDep, SessionDep, requires
from hjemflyt.shared.platform.pagination import MAX_LIMIT, Page

router = APIRouter(prefix="/v1/tasks", tags=["tasks"])
Reader = Annotated[Principal, Depends(requires(Scope.tasks_read))]
Writer = Annotated[Principal, Depends(requires(Scope.tasks_write))]


@router.get("", summary="Tasks in your districts, oldest first")
async def list_tasks(
    session: SessionDep,
    principal: Reader,
    log_read: LoggedReadDep,
    status: Literal["open", "done"] | None = "open",
    kind: TaskKind | None = None,
    district: Annotated[str | None, Query(max_length=100)] = None,
    person_id: uuid.UUID | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
    cursor: str | None = None,
) -> Page[TaskOut]:
    return await service.page(
        session,
        principal,
        log_read,
        limit=limit,
        cursor=cursor,
        status=status,
        kind=kind.value if kind else None,
        district=district,
        person_id=person_id,
    )


@router.get("/{task_id}", summary="One task")
async def get_task(
    task_id: uuid.UUID, session: SessionDep, principal: Reader, log_read: LoggedReadDep
) -> TaskOut:
    return TaskOut.model_validate(await service.get(session, principal, task_id, log_read))


@router.post("/{task_id}/close", summary="Close a task with what was done (409 if already closed)")
async def close(
    task_id: uuid.UUID, body: TaskClose, ctx: ContextDep, session: SessionDep, principal: Writer
) -> TaskOut:
    return TaskOut.model_validate(await service.close(ctx, session, principal, task_id, body.resolution))
