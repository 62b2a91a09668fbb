"""All SQL of the bulk import: set-based reads of what already exists and set-based writes
(one statement per table per batch, not one per row).

Reads are by the case system's keys, not scoped by district: only an integration account,
which acts for the whole municipality, may import.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Sequence
from typing import Any, cast

import asyncpg
from sqlalchemy import ARRAY, JSON, Table, Text, Uuid, any_, bindparam, delete, or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from hjemflyt.assessment.decisions.models import Decision, DecisionService, DecisionVersion, Measure
from hjemflyt.assessment.persons.models import Person
from hjemflyt.shared.platform.db import advisory_xact_lock, transaction_driver
from hjemflyt.shared.platform.repository import Repository
from hjemflyt.shared.platform.tables import PlatformTables

PERSON = cast(Table, Person.__table__)
DECISION = cast(Table, Decision.__table__)
SERVICE = cast(Table, DecisionService.__table__)
MEASURE = cast(Table, Measure.__table__)
VERSION = cast(Table, DecisionVersion.__table__)


def _texts(name: str, values: Iterable[str]) -> Any:
    return bindparam(name, value=sorted(set(values)), type_=ARRAY(Text))


def _uuids(name: str, values: Iterable[uuid.UUID]) -> Any:
    return bindparam(name, value=list(values), type_=ARRAY(Uuid))


class ImportRepository(Repository):
    def __init__(self, session: AsyncSession, tables: PlatformTables) -> None:
        super().__init__(session)
        self.tables = tables

    async def lock_source_systems(self, systems: Iterable[str]) -> None:
        """Serialise imports from one case system until commit (in a fixed order: no deadlock).
        What a batch read as existing then stays so until it has written."""
        for system in sorted(set(systems)):
            await advisory_xact_lock(self.session, "hjemflyt.assessment.import", system)

    async def persons(self, systems: set[str], external_ids: set[str], indexes: set[str]) -> Sequence[Any]:
        """Persons with one of these keys (and perhaps a few more, filtered by the caller) or
        one of these identity indexes."""
        if not indexes and not external_ids:
            return []
        stmt = select(
            PERSON.c.id,
            PERSON.c.source_system,
            PERSON.c.external_id,
            PERSON.c.identity_index,
            PERSON.c.name,
            PERSON.c.address,
            PERSON.c.phone,
            PERSON.c.district,
        ).where(
            or_(
                (PERSON.c.source_system == any_(_texts("systems", systems)))
                & (PERSON.c.external_id == any_(_texts("external_ids", external_ids))),
                PERSON.c.identity_index == any_(_texts("indexes", indexes)),
            )
        )
        return (await self.session.execute(stmt)).all()

    async def decisions(self, systems: set[str], external_ids: set[str]) -> Sequence[Decision]:
        """Decisions imported under these keys, with services and measures, locked for update
        (a case officer's concurrent amendment waits, and then sees this version)."""
        if not external_ids:
            return []
        stmt = (
            select(Decision)
            .options(selectinload(Decision.services).selectinload(DecisionService.measures))
            .where(
                Decision.source_system == any_(_texts("systems", systems)),
                Decision.external_id == any_(_texts("external_ids", external_ids)),
            )
            .with_for_update(of=Decision)
        )
        return (await self.session.scalars(stmt)).all()

    async def insert_persons(self, rows: list[dict[str, Any]]) -> set[uuid.UUID]:
        """Insert new persons; returns the ids inserted. A person whose identity number was
        registered meanwhile (outside the import, which holds the lock) is skipped: COPY in a
        savepoint first, and only if that meets such a number, row by row without it."""
        if not rows:
            return set()
        try:
            async with self.session.begin_nested():
                await self.copy(PERSON, rows)
            return {row["id"] for row in rows}
        except IntegrityError:
            pass
        stmt = insert(PERSON).on_conflict_do_nothing().returning(PERSON.c.id)
        result = await self.session.execute(stmt, rows)
        return {r[0] for r in result}

    async def update_persons(self, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        columns = [k for k in rows[0] if k != "id"]
        stmt = (
            update(PERSON)
            .where(PERSON.c.id == bindparam("b_id"))
            .values({c: bindparam(f"b_{c}") for c in columns})
        )
        await self.session.execute(stmt, [{f"b_{k}": v for k, v in row.items()} for row in rows])

    async def copy(self, table: Table, rows: list[dict[str, Any]]) -> None:
        """Insert rows that are only ever inserted with COPY, in this transaction: a fraction of
        the per-row cost of INSERT in PostgreSQL and on the way there (binary, no statement per
        row). JSON columns travel as text; every row has the keys of the first."""
        if not rows:
            return
        columns = list(rows[0])
        as_json = {c for c in columns if isinstance(table.c[c].type, JSON)}
        records = [
            tuple(json.dumps(row[c]) if c in as_json and row[c] is not None else row[c] for c in columns)
            for row in rows
        ]
        # The import's first statement (the lock) opened the transaction COPY must be part of.
        driver = await transaction_driver(self.session, "COPY")
        try:
            await driver.copy_records_to_table(
                table.name, schema_name=table.schema, columns=columns, records=records
            )
        except asyncpg.IntegrityConstraintViolationError as exc:
            raise IntegrityError(f"COPY {table.fullname}", None, exc) from exc

    async def insert_decisions(
        self,
        decisions: list[dict[str, Any]],
        services: list[dict[str, Any]],
        measures: list[dict[str, Any]],
    ) -> None:
        await self.copy(DECISION, decisions)
        await self.copy(SERVICE, services)
        await self.copy(MEASURE, measures)

    async def update_decisions(self, rows: list[dict[str, Any]]) -> None:
        """New content of changed decisions; their services are replaced (measures cascade)."""
        if not rows:
            return
        columns = [k for k in rows[0] if k != "id"]
        stmt = (
            update(DECISION)
            .where(DECISION.c.id == bindparam("b_id"))
            .values({c: bindparam(f"b_{c}") for c in columns})
        )
        await self.session.execute(stmt, [{f"b_{k}": v for k, v in row.items()} for row in rows])
        ids = [row["id"] for row in rows]
        await self.session.execute(delete(SERVICE).where(SERVICE.c.decision_id == any_(_uuids("ids", ids))))

    async def insert_versions(self, rows: list[dict[str, Any]]) -> None:
        await self.copy(VERSION, rows)

    async def insert_access_log(self, rows: list[dict[str, Any]]) -> None:
        await self.copy(self.tables.access_log, rows)
