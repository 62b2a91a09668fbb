"""One access log per person: every service's reads and changes of the person's data in one
list, newest first, paged and filterable.

Each service keeps its own log in its own schema, written in the transaction of the read,
and answers for it at `GET /v1/access-log?person_id=` (auditors only). Assessment asks the
other three over HTTP with the auditor's own token and merges the answers; it never reads
another service's tables. Why not publish access events to one place: a read would then be
logged only when an event is relayed (a second write path that can lag or be lost between
commit and relay), and the log of a read would live apart from the read's transaction. A
service that does not answer is named in `unavailable`, never silently left out.

An auditor sees each read's snooping flags (`rules.flags`, judged against the case office's
records in `repository.remits`) and can scan every person's log for flagged reads
(`access_review`).
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from hjemflyt.assessment.access import repository
from hjemflyt.assessment.access.rules import Read, flags
from hjemflyt.assessment.access.schemas import AccessReview, PersonAccessLog, ReviewedAccessEvent
from hjemflyt.shared.platform.access import AccessEvent, AccessEventPage, read_access_log
from hjemflyt.shared.platform.audit import LoggedRead
from hjemflyt.shared.platform.auth import Scope
from hjemflyt.shared.platform.context import ServiceContext
from hjemflyt.shared.platform.errors import NotFound, Problem
from hjemflyt.shared.platform.pagination import decode_cursor, encode_cursor

SERVICES = ("assessment", "budget", "notifications", "pathway")
MAX_ID = 2**63 - 1
TIMEOUT_SECONDS = 5.0


def _position(cursor: str | None) -> tuple[datetime, str, int] | None:
    values = decode_cursor(cursor)
    if values is None:
        return None
    try:
        return datetime.fromisoformat(values["at"]), str(values["service"]), int(values["id"])
    except (KeyError, TypeError, ValueError) as exc:
        raise Problem("The cursor is not one this API gave out.", slug="invalid-cursor", status=400) from exc


def _before(service: str, position: tuple[datetime, str, int] | None) -> tuple[datetime | None, int | None]:
    """Order: at desc, service asc, id desc. What comes after the cursor, per service."""
    if position is None:
        return None, None
    at, at_service, at_id = position
    if service < at_service:
        return at, 0  # strictly older
    if service > at_service:
        return at, MAX_ID  # the same instant too
    return at, at_id


async def _remote(
    client: httpx.AsyncClient, base_url: str, service: str, params: dict[str, Any], headers: dict[str, str]
) -> AccessEventPage | None:
    try:
        r = await client.get(f"{base_url.rstrip('/')}/v1/access-log", params=params, headers=headers)
    except httpx.HTTPError:
        return None
    if r.status_code != 200:
        return None
    try:
        page = AccessEventPage.model_validate(r.json())
    except ValueError:
        return None
    if any(item.service != service for item in page.items):
        return None
    return page


@dataclass
class Merged:
    items: list[AccessEvent]
    next_cursor: str | None
    unavailable: list[str]


async def merged_log(
    ctx: ServiceContext,
    session: AsyncSession,
    log_read: LoggedRead,
    *,
    person_id: uuid.UUID | None,
    authorization: str,
    service: str | None,
    action: str | None,
    since: datetime | None,
    until: datetime | None,
    limit: int,
    cursor: str | None,
) -> Merged:
    """One page of every service's log (of one person, or of all), newest first."""
    position = _position(cursor)
    wanted = [service] if service else list(SERVICES)
    headers = {"Authorization": authorization, "Hjemflyt-Purpose": log_read.purpose}
    urls = {
        "budget": ctx.settings.budget_url,
        "notifications": ctx.settings.notifications_url,
        "pathway": ctx.settings.pathway_url,
    }
    pages: dict[str, AccessEventPage] = {}
    unavailable: list[str] = []

    async with httpx.AsyncClient(timeout=TIMEOUT_SECONDS) as client:
        calls = {}
        for name in wanted:
            before_at, before_id = _before(name, position)
            if name == ctx.name:
                continue
            params: dict[str, Any] = {"limit": limit}
            if person_id is not None:
                params["person_id"] = str(person_id)
            for key, value in (("action", action), ("since", since), ("until", until)):
                if value is not None:
                    params[key] = value.isoformat() if isinstance(value, datetime) else value
            if before_at is not None:
                params["before_at"] = before_at.isoformat()
                params["before_id"] = before_id
            calls[name] = _remote(client, urls[name], name, params, headers)
        answers = await asyncio.gather(*calls.values())
    for name, answer in zip(calls, answers, strict=True):
        if answer is None:
            unavailable.append(name)
        else:
            pages[name] = answer
    if ctx.name in wanted:
        before_at, before_id = _before(ctx.name, position)
        pages[ctx.name] = await read_access_log(
            ctx,
            session,
            log_read,
            person_id=person_id,
            action=action,
            since=since,
            until=until,
            before_at=before_at,
            before_id=before_id,
            limit=limit,
        )

    merged = sorted(
        (item for page in pages.values() for item in page.items),
        key=lambda e: (-e.at.timestamp(), e.service, -e.id),
    )
    items = merged[:limit]
    more = len(merged) > limit or any(len(p.items) == limit for p in pages.values())
    last = items[-1] if items and more else None
    return Merged(
        items=items,
        next_cursor=(
            encode_cursor({"at": last.at.isoformat(), "service": last.service, "id": last.id})
            if last
            else None
        ),
        unavailable=sorted(unavailable),
    )


async def reviewed(
    session: AsyncSession, items: list[AccessEvent], *, with_flags: bool
) -> list[ReviewedAccessEvent]:
    """The entries with their snooping flags (for an auditor), or without (for the person)."""
    if not with_flags:
        return [ReviewedAccessEvent.model_validate(e.model_dump()) for e in items]
    remits = await repository.remits(session, {e.person_id for e in items if e.person_id})
    out = []
    for e in items:
        found = None
        if e.person_id is not None:
            read = Read(
                at=e.at,
                actor=e.actor,
                role=e.role,
                action=e.action,
                organisation=e.organisation,
                reader_districts=e.reader_districts,
            )
            found = flags(read, remits[e.person_id])
        out.append(ReviewedAccessEvent.model_validate(e.model_dump() | {"flags": found}))
    return out


async def person_access_log(
    ctx: ServiceContext,
    session: AsyncSession,
    log_read: LoggedRead,
    *,
    person_id: uuid.UUID,
    authorization: str,
    service: str | None,
    action: str | None,
    since: datetime | None,
    until: datetime | None,
    limit: int,
    cursor: str | None,
    flagged: bool,
) -> PersonAccessLog:
    """`flagged`: only the entries up for review (a page may then hold fewer than `limit`)."""
    page = await merged_log(
        ctx,
        session,
        log_read,
        person_id=person_id,
        authorization=authorization,
        service=service,
        action=action,
        since=since,
        until=until,
        limit=limit,
        cursor=cursor,
    )
    if not page.items and cursor is None and not page.unavailable:
        raise NotFound("No access recorded for that person.")
    items = await reviewed(session, page.items, with_flags=log_read.principal.has(Scope.access_log_read))
    if flagged:
        items = [e for e in items if e.flags]
    return PersonAccessLog(
        person_id=person_id, items=items, next_cursor=page.next_cursor, unavailable=page.unavailable
    )


async def access_review(
    ctx: ServiceContext,
    session: AsyncSession,
    log_read: LoggedRead,
    *,
    authorization: str,
    service: str | None,
    since: datetime | None,
    until: datetime | None,
    limit: int,
    cursor: str | None,
) -> AccessReview:
    """Every person's reads, `limit` log entries per page, the flagged ones answered."""
    page = await merged_log(
        ctx,
        session,
        log_read,
        person_id=None,
        authorization=authorization,
        service=service,
        action=None,
        since=since,
        until=until,
        limit=limit,
        cursor=cursor,
    )
    items = await reviewed(session, page.items, with_flags=True)
    return AccessReview(
        items=[e for e in items if e.flags],
        scanned=len(items),
        next_cursor=page.next_cursor,
        unavailable=page.unavailable,
    )
