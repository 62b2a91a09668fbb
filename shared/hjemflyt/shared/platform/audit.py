"""Access log: every read and write of personal data writes a row in the same transaction
(who, role, what, whose, why, when), so a person can be shown who saw their data
(pasientjournalloven § 22, Normen).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from uuid import UUID

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from hjemflyt.shared.platform.auth import Principal
from hjemflyt.shared.platform.clock import Clock
from hjemflyt.shared.platform.tables import PlatformTables

# The `Hjemflyt-Purpose` header of the request being served (set by the platform's edge
# middleware): a purpose the reader states wins over the default a use case names, in every
# service, without each endpoint declaring the header. None outside a request (consumers).
_requested_purpose: ContextVar[str | None] = ContextVar("hjemflyt_requested_purpose", default=None)
PURPOSE_MAX = 200


def clean_purpose(raw: str | None) -> str | None:
    """The header's text as kept in the log: printable, trimmed, at most 200 characters."""
    if raw is None:
        return None
    text = "".join(ch for ch in raw if ch.isprintable()).strip()[:PURPOSE_MAX]
    return text or None


def set_requested_purpose(raw: str | None) -> object:
    return _requested_purpose.set(clean_purpose(raw))


def reset_requested_purpose(token: object) -> None:
    _requested_purpose.reset(token)  # type: ignore[arg-type]


def requested_purpose() -> str | None:
    return _requested_purpose.get()


def reader_districts(principal: Principal) -> list[str]:
    """The reader's district scope as the token stated it when they read (`*`: all): kept on
    the row because a review asks whether the read was inside the scope the reader had then,
    not the one they have when the log is reviewed."""
    return ["*"] if principal.all_districts else sorted(principal.districts)


class Action(StrEnum):
    read = "read"
    # A search by identity number: who looked a person up (not only who opened the record).
    lookup = "lookup"
    create = "create"
    update = "update"
    delete = "delete"


@dataclass
class AccessLog:
    tables: PlatformTables
    clock: Clock

    async def record(
        self,
        session: AsyncSession,
        principal: Principal,
        *,
        action: Action,
        resource: str,
        person_ids: Iterable[UUID | None],
        purpose: str,
        resource_id: str | None = None,
        trace_id: str | None = None,
    ) -> None:
        rows = [
            self.entry(
                principal,
                action=action,
                resource=resource,
                person_id=person_id,
                purpose=purpose,
                resource_id=resource_id,
                trace_id=trace_id,
            )
            for person_id in person_ids
        ]
        if rows:
            await session.execute(insert(self.tables.access_log), rows)

    def entry(
        self,
        principal: Principal,
        *,
        action: Action,
        resource: str,
        person_id: UUID | None,
        purpose: str,
        resource_id: str | None = None,
        trace_id: str | None = None,
    ) -> dict[str, Any]:
        """One row, stamped now, for `record_many`: a use case that logs several accesses
        collects them and writes them in one statement (same transaction, same rows)."""
        purpose = requested_purpose() or purpose
        return {
            "at": self.clock.now(),
            "actor": principal.subject,
            "role": principal.role.value,
            "organisation": principal.provider_org,
            "action": action.value,
            "resource": resource,
            "resource_id": resource_id,
            "person_id": person_id,
            "purpose": purpose,
            "trace_id": trace_id,
            "reader_districts": reader_districts(principal),
        }

    async def record_many(self, session: AsyncSession, entries: Sequence[dict[str, Any]]) -> None:
        if entries:
            await session.execute(insert(self.tables.access_log), list(entries))


DEFAULT_PURPOSE = "case handling"


@dataclass
class LoggedRead:
    """A read of personal data as the request makes it: who (the principal), why (the
    `Hjemflyt-Purpose` header) and in which transaction. A read use case or repository calls
    it with the person ids of the rows it returns; one row per distinct person, none when
    nothing was shown. `deps.LoggedReadDep` builds one per request."""

    log: AccessLog
    session: AsyncSession
    principal: Principal
    purpose: str = DEFAULT_PURPOSE
    trace_id: str | None = None

    async def __call__(
        self,
        resource: str,
        person_ids: Iterable[UUID | None],
        *,
        resource_id: str | None = None,
        action: Action = Action.read,
    ) -> None:
        seen: dict[UUID, None] = {}
        for person_id in person_ids:
            if person_id is not None:
                seen.setdefault(person_id, None)
        await self.log.record(
            self.session,
            self.principal,
            action=action,
            resource=resource,
            person_ids=list(seen),
            purpose=self.purpose,
            resource_id=resource_id,
            trace_id=self.trace_id,
        )

    async def rows(
        self,
        resource: str,
        rows: Iterable[Any],
        *,
        key: str = "person_id",
        resource_id: str | None = None,
        action: Action = Action.read,
    ) -> None:
        """Log the persons of returned rows (objects or mappings with a `person_id`)."""
        ids = [r.get(key) if isinstance(r, dict) else getattr(r, key, None) for r in rows]
        await self(resource, ids, resource_id=resource_id, action=action)
