"""Each service's own access log: `GET /v1/access-log?person_id=`.

Every service keeps the reads it makes in its own schema (same transaction as the read) and
answers for them here; no service reads another's tables. Assessment's
`/v1/persons/{id}/access-log` gathers the four answers into one list per person. An auditor
reads any person's log, a citizen (role `citizen`, the `person_id` claim of a national
login) only their own. Reading the log is itself a read of personal data and is logged
(after the query, so a page never shows its own read).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field
from sqlalchemy import and_, or_, select

from hjemflyt.shared.platform.audit import Action, LoggedRead
from hjemflyt.shared.platform.auth import Principal, Scope
from hjemflyt.shared.platform.deps import ContextDep, LoggedReadDep, PrincipalDep, SessionDep
from hjemflyt.shared.platform.errors import NotFound
from hjemflyt.shared.platform.pagination import MAX_LIMIT

ACCESS_LOG_RESOURCE = "access-log"


class AccessEvent(BaseModel):
    id: int = Field(description="Position in this service's log (with `at`, the page position)")
    service: str
    at: datetime
    actor: str
    role: str
    organisation: str | None
    action: str
    resource: str
    resource_id: str | None
    person_id: uuid.UUID | None
    purpose: str
    reader_districts: list[str] | None = Field(
        default=None, description="The reader's districts when they read (`*`: all); null on older rows"
    )


class AccessEventPage(BaseModel):
    items: list[AccessEvent]
    next_before_at: datetime | None = Field(
        default=None, description="Pass with `next_before_id` as `before_at`/`before_id` for older rows"
    )
    next_before_id: int | None = None


async def log_reader(principal: PrincipalDep) -> Principal:
    """An auditor (anyone's log) or a citizen (their own): 403 for everyone else."""
    if not principal.has(Scope.own_access_log_read):
        principal.require(Scope.access_log_read)
    return principal


LogReader = Annotated[Principal, Depends(log_reader)]


def readable_person(principal: Principal, person_id: uuid.UUID | None) -> None:
    """A citizen reads only their own log; another person's is as if it did not exist. Only an
    auditor reads the log of all persons at once (a review)."""
    if principal.has(Scope.access_log_read):
        return
    if person_id is None:
        principal.require(Scope.access_log_read)
    if principal.person_id != person_id:
        raise NotFound("No access recorded for that person.")


async def read_access_log(
    ctx: ContextDep,
    session: SessionDep,
    log_read: LoggedRead,
    *,
    person_id: uuid.UUID | None,
    action: str | None,
    since: datetime | None,
    until: datetime | None,
    before_at: datetime | None,
    before_id: int | None,
    limit: int,
) -> AccessEventPage:
    """Newest first; keyset by (at, id) strictly before (`before_at`, `before_id`). Without a
    person: every person's rows (an auditor's review), rows of no person left out."""
    log = ctx.tables.access_log
    stmt = select(log).where(
        log.c.person_id.is_not(None) if person_id is None else log.c.person_id == person_id
    )
    if action:
        stmt = stmt.where(log.c.action == action)
    if since is not None:
        stmt = stmt.where(log.c.at >= since)
    if until is not None:
        stmt = stmt.where(log.c.at < until)
    if before_at is not None:
        if before_id is None:
            stmt = stmt.where(log.c.at < before_at)
        else:
            stmt = stmt.where(or_(log.c.at < before_at, and_(log.c.at == before_at, log.c.id < before_id)))
    stmt = stmt.order_by(log.c.at.desc(), log.c.id.desc()).limit(limit)
    rows = [dict(r._mapping) for r in await session.execute(stmt)]
    items = [AccessEvent.model_validate(r | {"service": ctx.name}) for r in rows]
    if items:
        shown = [person_id] if person_id is not None else sorted({i.person_id for i in items if i.person_id})
        await log_read(ACCESS_LOG_RESOURCE, shown, resource_id=str(person_id) if person_id else None)
    last = items[-1] if len(items) == limit else None
    return AccessEventPage(
        items=items,
        next_before_at=last.at if last else None,
        next_before_id=last.id if last else None,
    )


router = APIRouter(tags=["access log"])


@router.get(
    "/v1/access-log",
    summary="This service's reads and changes of one person's data, newest first (logged)",
    description="An auditor reads anyone's; a citizen (national login) only their own.",
)
async def access_log(
    ctx: ContextDep,
    session: SessionDep,
    principal: LogReader,
    log_read: LoggedReadDep,
    person_id: Annotated[
        uuid.UUID | None, Query(description="Whose log; an auditor may leave it out for every person's")
    ] = None,
    action: Annotated[Action | None, Query(description="Only this action")] = None,
    since: Annotated[datetime | None, Query(description="At or after this instant")] = None,
    until: Annotated[datetime | None, Query(description="Before this instant")] = None,
    before_at: Annotated[datetime | None, Query(description="Page position: older than this")] = None,
    before_id: Annotated[int | None, Query(ge=0, le=2**63 - 1)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
) -> AccessEventPage:
    readable_person(principal, person_id)
    return await read_access_log(
        ctx,
        session,
        log_read,
        person_id=person_id,
        action=action.value if action else None,
        since=since,
        until=until,
        before_at=before_at,
        before_id=before_id,
        limit=limit,
    )
