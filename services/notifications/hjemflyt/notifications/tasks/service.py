"""Open and close case-office tasks; each is an event, so pathway can build worklists."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from hjemflyt.notifications.tasks.models import Task
from hjemflyt.notifications.tasks.repository import TaskRepository
from hjemflyt.notifications.tasks.rules import TITLES, TaskKind
from hjemflyt.notifications.tasks.schemas import TaskOut
from hjemflyt.shared.contracts.events import TASK_CLOSED, TASK_OPENED, TaskClosed, TaskOpened
from hjemflyt.shared.platform.audit import LoggedRead
from hjemflyt.shared.platform.auth import Principal
from hjemflyt.shared.platform.context import ServiceContext
from hjemflyt.shared.platform.errors import Conflict, NotFound
from hjemflyt.shared.platform.pagination import Page, decode_position, encode_position


async def open_task(
    ctx: ServiceContext,
    session: AsyncSession,
    kind: TaskKind,
    *,
    reference_id: uuid.UUID,
    district: str | None,
    person_id: uuid.UUID | None = None,
    provider_org: str | None = None,
    order_id: uuid.UUID | None = None,
    details: dict[str, Any] | None = None,
    due_date: date | None = None,
    title: str | None = None,
) -> Task | None:
    """Open a task unless one of this kind for this reference exists (then None)."""
    now = ctx.clock.now()
    task = await TaskRepository(session).add_once(
        {
            "id": uuid.uuid4(),
            "kind": kind.value,
            "reference_id": reference_id,
            "status": "open",
            "district": district,
            "person_id": person_id,
            "provider_org": provider_org,
            "order_id": order_id,
            "title": title or TITLES[kind],
            "details": details or {},
            "due_date": due_date,
            "created_at": now,
        }
    )
    if task is None:
        return None
    await ctx.outbox.add(
        session,
        TASK_OPENED,
        TaskOpened(
            task_id=task.id,
            kind=task.kind,
            reference_id=reference_id,
            district=district,
            person_id=person_id,
            provider_org=provider_org,
            order_id=order_id,
            due_date=due_date,
            opened_at=now,
        ),
        subject=str(task.id),
    )
    return task


async def close_task(
    ctx: ServiceContext, session: AsyncSession, task: Task, *, closed_by: str, resolution: str
) -> Task:
    """Close an open task. Closing a closed one is a conflict (409), not a silent no-op,
    so two case officers cannot both believe they handled it."""
    if task.status != "open":
        raise Conflict("The task is already closed.", slug="task-closed", closed_by=task.closed_by)
    now = ctx.clock.now()
    task.status = "done"
    task.closed_at = now
    task.closed_by = closed_by
    task.resolution = resolution
    await session.flush()
    await ctx.outbox.add(
        session,
        TASK_CLOSED,
        TaskClosed(
            task_id=task.id,
            kind=task.kind,
            reference_id=task.reference_id,
            district=task.district,
            person_id=task.person_id,
            resolution=resolution,
            closed_at=now,
        ),
        subject=str(task.id),
    )
    return task


async def close_for_reference(
    ctx: ServiceContext,
    session: AsyncSession,
    kind: TaskKind,
    reference_id: uuid.UUID,
    *,
    by: Principal | str,
    resolution: str,
) -> Task | None:
    """Close the open task of this kind for this reference, if any (e.g. a change-of-need
    report was answered). A missing or already closed task is fine here."""
    task = await TaskRepository(session).by_reference(kind.value, reference_id)
    if task is None or task.status != "open":
        return None
    closed_by = by if isinstance(by, str) else by.subject
    return await close_task(ctx, session, task, closed_by=closed_by, resolution=resolution)


async def close(
    ctx: ServiceContext, session: AsyncSession, principal: Principal, task_id: uuid.UUID, resolution: str
) -> Task:
    """A case officer closes a task of their districts with what was done."""
    task = await TaskRepository(session).get(principal, task_id, for_update=True)
    if task is None:
        raise NotFound("No such task.")
    return await close_task(ctx, session, task, closed_by=principal.subject, resolution=resolution)


async def page(
    session: AsyncSession,
    principal: Principal,
    log_read: LoggedRead,
    *,
    limit: int,
    cursor: str | None,
    status: str | None,
    kind: str | None,
    district: str | None,
    person_id: uuid.UUID | None,
) -> Page[TaskOut]:
    """Tasks in the principal's districts, oldest first; the persons named are logged."""
    tasks = await TaskRepository(session).page(
        principal,
        limit=limit,
        after=decode_position(cursor),
        status=status,
        kind=kind,
        district=district,
        person_id=person_id,
    )
    await log_read("task-list", sorted({t.person_id for t in tasks if t.person_id}))
    next_cursor = encode_position(tasks[-1].created_at, tasks[-1].id) if len(tasks) == limit else None
    return Page[TaskOut](items=[TaskOut.model_validate(t) for t in tasks], next_cursor=next_cursor)


async def get(session: AsyncSession, principal: Principal, task_id: uuid.UUID, log_read: LoggedRead) -> Task:
    task = await TaskRepository(session).get(principal, task_id)
    if task is None:
        raise NotFound("No such task.")
    await log_read("task", [task.person_id], resource_id=str(task.id))
    return task
