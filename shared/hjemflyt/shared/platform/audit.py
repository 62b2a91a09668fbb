"""Access log: every read and write of personal data writes a row in the same transaction
(who, role, what, whose, why, when), so a person can be shown who saw their data
(pasientjournalloven § 22, Normen).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from uuid import UUID

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from hjemflyt.shared.platform.auth import Principal
from hjemflyt.shared.platform.clock import Clock
from hjemflyt.shared.platform.tables import PlatformTables


class Action(StrEnum):
    read = "read"
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
        now = self.clock.now()
        rows = [
            {
                "at": now,
                "actor": principal.subject,
                "role": principal.role.value,
                "organisation": principal.provider_org,
                "action": action.value,
                "resource": resource,
                "resource_id": resource_id,
                "person_id": person_id,
                "purpose": purpose,
                "trace_id": trace_id,
            }
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
        }

    async def record_many(self, session: AsyncSession, entries: Sequence[dict[str, Any]]) -> None:
        if entries:
            await session.execute(insert(self.tables.access_log), list(entries))
