"""The case office's tasks from provider messaging: list, read, close."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query

from hjemflyt.notifications.tasks import service
from hjemflyt.notifications.tasks.repository import TaskRepository
from hjemflyt.notifications.tasks.rules import TaskKind
from hjemflyt.notifications.tasks.schemas import TaskClose, TaskOut
from hjemflyt.shared.platform.audit import Action
from hjemflyt.shared.platform.auth import Principal, Scope
from hjemflyt.shared.platform.deps import ContextDep, SessionDep, requires
from hjemflyt.shared.platform.errors import NotFound
from hjemflyt.shared.platform.pagination import MAX_LIMIT, Page, decode_position, encode_position

router = APIRouter(prefix="/v1/tasks", tags=["tasks"])
Reader = Annotated[Principal, Depends(requires(Scope.tasks_read))]
Writer = Annotated[Principal, Depends(requires(Scope.tasks_write))]


@router.get("", summary="Tasks in your districts, oldest first")
async def list_tasks(
    ctx: ContextDep,
    session: SessionDep,
    principal: Reader,
    status: Literal["open", "done"] | None = "open",
    kind: TaskKind | None = None,
    district: Annotated[str | None, Query(max_length=100)] = None,
    person_id: uuid.UUID | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
    cursor: str | None = None,
) -> Page[TaskOut]:
    tasks = await TaskRepository(session).page(
        principal,
        limit=limit,
        after=decode_position(cursor),
        status=status,
        kind=kind.value if kind else None,
        district=district,
        person_id=person_id,
    )
    await ctx.access_log.record(
        session,
        principal,
        action=Action.read,
        resource="task-list",
        person_ids=sorted({t.person_id for t in tasks if t.person_id}),
        purpose="case handling",
    )
    next_cursor = encode_position(tasks[-1].created_at, tasks[-1].id) if len(tasks) == limit else None
    return Page[TaskOut](items=[TaskOut.model_validate(t) for t in tasks], next_cursor=next_cursor)


@router.get("/{task_id}", summary="One task")
async def get_task(task_id: uuid.UUID, ctx: ContextDep, session: SessionDep, principal: Reader) -> TaskOut:
    task = await TaskRepository(session).get(principal, task_id)
    if task is None:
        raise NotFound("No such task.")
    if task.person_id:
        await ctx.access_log.record(
            session,
            principal,
            action=Action.read,
            resource="task",
            person_ids=[task.person_id],
            purpose="case handling",
            resource_id=str(task.id),
        )
    return TaskOut.model_validate(task)


@router.post("/{task_id}/close", summary="Close a task with what was done (409 if already closed)")
async def close(
    task_id: uuid.UUID, body: TaskClose, ctx: ContextDep, session: SessionDep, principal: Writer
) -> TaskOut:
    repo = TaskRepository(session)
    task = await repo.get(principal, task_id, for_update=True)
    if task is None:
        raise NotFound("No such task.")
    await service.close_task(ctx, session, task, closed_by=principal.subject, resolution=body.resolution)
    return TaskOut.model_validate(task)
