"""All SQL of decisions. Reads are scoped to the principal's districts here."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import date
from typing import Any, cast

from sqlalchemy import Column, Select, Table, bindparam, exists, select, tuple_
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.dialects.postgresql.base import PGDialect
from sqlalchemy.orm import selectinload

from hjemflyt.assessment.assignments.models import Assignment
from hjemflyt.assessment.assignments.rules import Status as AssignmentStatus
from hjemflyt.assessment.config.models import config_version
from hjemflyt.assessment.db import platform_tables
from hjemflyt.assessment.decisions.models import (
    Decision,
    DecisionService,
    DecisionVersion,
    Measure,
    ProviderChoice,
)
from hjemflyt.assessment.decisions.rules import RUNNING, Status
from hjemflyt.assessment.districts.models import District
from hjemflyt.assessment.persons import repository as persons
from hjemflyt.assessment.persons.models import Person
from hjemflyt.shared.platform.auth import Principal
from hjemflyt.shared.platform.db import transaction_driver
from hjemflyt.shared.platform.repository import Repository, scoped


def readable(principal: Principal) -> Select[Decision]:
    stmt = select(Decision).options(selectinload(Decision.services).selectinload(DecisionService.measures))
    return scoped(stmt, principal, district=Decision.district)


class DecisionRepository(Repository):
    async def person_with_district(
        self, principal: Principal, person_id: uuid.UUID
    ) -> tuple[Person, District | None, uuid.UUID | None, bool] | None:
        """The person (scoped like every person read), their district, the configuration's
        version token (see `Catalogue.load`) and whether they have an issued assignment (which
        a decision for its provider supersedes), in one statement."""
        row = (await self.session.execute(_person_with_district(principal), {"person_id": person_id})).first()
        return None if row is None else (row[0], row[1], row[2], bool(row[3]))

    async def write_new(
        self,
        decision: Decision,
        versions: list[dict[str, Any]],
        access: list[dict[str, Any]],
        outbox_rows: list[tuple[Any, ...]],
        notify_channel: str,
    ) -> None:
        """Write a new decision (not added to the session) with its services, measures,
        version rows, access-log rows and outbox rows, and wake the outbox relay: one
        statement, one round trip, on the session's connection and in its transaction.

        The hot path of making decisions; what it stores is exactly what the ORM would
        (the ids of services and measures are set here). It runs after the use case's reads,
        which opened the transaction."""
        services: list[DecisionService] = sorted(decision.services, key=lambda s: s.service_type)
        measures: list[Measure] = []
        for service in services:
            service.id = service.id or uuid.uuid4()
            service.decision_id = decision.id
            for measure in service.measures:
                measure.id = measure.id or uuid.uuid4()
                measure.decision_service_id = service.id
                measures.append(measure)
        write = _write_statement()
        args: list[Any] = [_value(c, getattr(decision, c.key)) for c in write.decision]
        args += [[_value(c, getattr(x, c.key), in_unnest=True) for x in services] for c in write.service]
        args += [[_value(c, getattr(x, c.key), in_unnest=True) for x in measures] for c in write.measure]
        args += [[_value(c, v[c.key], in_unnest=True) for v in versions] for c in write.version]
        args += [[_value(c, a[c.key], in_unnest=True) for a in access] for c in write.access]
        args += [[r[i] for r in outbox_rows] for i in range(len(write.outbox))]
        args.append(notify_channel if outbox_rows else None)
        driver = await transaction_driver(self.session, "decisions are written")
        await driver.execute(write.sql, *args)
        if outbox_rows:
            self.session.info["outbox_notified"] = True

    async def add(self, decision: Decision) -> Decision:
        return await self.insert(decision)

    async def get(
        self, principal: Principal, decision_id: uuid.UUID, *, for_update: bool = False
    ) -> Decision | None:
        stmt = readable(principal).where(Decision.id == decision_id)
        if for_update:
            # Serialises concurrent changes of one decision (versions must not fork).
            stmt = stmt.with_for_update(of=Decision)
        return await self.session.scalar(stmt)

    async def due(
        self,
        principal: Principal,
        *,
        activate_by: date | None = None,
        ended_before: date | None = None,
        skip: frozenset[uuid.UUID] = frozenset(),
        limit: int,
    ) -> Sequence[Decision]:
        """Decisions the clock moves, locked for this transaction and skipped by another
        replica's sweep that holds them (FOR UPDATE SKIP LOCKED): sent ones that start by
        `activate_by`, or running ones whose end date is before `ended_before`."""
        stmt = readable(principal)
        if activate_by is not None:
            stmt = stmt.where(Decision.status == Status.sent.value, Decision.start_date <= activate_by)
        if ended_before is not None:
            stmt = stmt.where(
                Decision.status.in_([s.value for s in RUNNING]), Decision.end_date < ended_before
            )
        if skip:
            stmt = stmt.where(Decision.id.not_in(skip))
        stmt = stmt.order_by(Decision.id).limit(limit).with_for_update(of=Decision, skip_locked=True)
        return (await self.session.scalars(stmt)).all()

    async def for_person(self, principal: Principal, person_id: uuid.UUID) -> Sequence[Decision]:
        stmt = readable(principal).where(Decision.person_id == person_id).order_by(Decision.created_at)
        return (await self.session.scalars(stmt)).all()

    async def add_version(self, version: DecisionVersion) -> None:
        self.session.add(version)
        await self.session.flush()

    async def versions(self, decision_id: uuid.UUID) -> Sequence[DecisionVersion]:
        stmt = (
            select(DecisionVersion)
            .where(DecisionVersion.decision_id == decision_id)
            .order_by(DecisionVersion.version)
        )
        return (await self.session.scalars(stmt)).all()

    async def choice(self, decision_id: uuid.UUID, service_type: str) -> ProviderChoice | None:
        return await self.session.scalar(
            select(ProviderChoice).where(
                ProviderChoice.decision_id == decision_id, ProviderChoice.service_type == service_type
            )
        )

    async def choices(self, decision_id: uuid.UUID) -> Sequence[ProviderChoice]:
        stmt = (
            select(ProviderChoice)
            .where(ProviderChoice.decision_id == decision_id)
            .order_by(ProviderChoice.service_type)
        )
        return (await self.session.scalars(stmt)).all()

    async def add_choice(self, choice: ProviderChoice) -> None:
        self.session.add(choice)
        await self.session.flush()

    async def evaluations_due(
        self, principal: Principal, by: date, *, limit: int, after: tuple[date, uuid.UUID] | None
    ) -> Sequence[Decision]:
        stmt = (
            readable(principal)
            .where(Decision.status.in_([s.value for s in RUNNING]), Decision.evaluation_date <= by)
            .order_by(Decision.evaluation_date, Decision.id)
            .limit(limit)
        )
        if after is not None:
            stmt = stmt.where(tuple_(Decision.evaluation_date, Decision.id) > tuple_(*after))
        return (await self.session.scalars(stmt)).all()


def _value(column: Column[Any], value: Any, *, in_unnest: bool = False) -> Any:
    # SQLAlchemy's asyncpg dialect registers a JSONB codec that takes the JSON text.
    if isinstance(column.type, JSONB):
        return None if value is None else json.dumps(value)
    if in_unnest and isinstance(column.type, ARRAY):
        # `unnest` of an array of arrays would flatten it: each row's array travels as its
        # literal text and is cast back in the SELECT (`_WriteStatement.unnest`).
        if value is None:
            return None
        quoted = ('"' + str(v).replace("\\", "\\\\").replace('"', '\\"') + '"' for v in value)
        return "{" + ",".join(quoted) + "}"
    return value


class _WriteStatement:
    """`write_new`'s statement, built once from the tables: the decision row as VALUES,
    every other table from `unnest` of one array per column, the outbox in the order
    given (seq follows it), and the NOTIFY. Foreign keys are checked at the end of the
    statement, so the sibling inserts may refer to each other."""

    def __init__(self) -> None:
        def table(model: Any) -> Table:
            return cast(Table, model.__table__)

        self.decision = list(table(Decision).columns)
        self.service = list(table(DecisionService).columns)
        self.measure = list(table(Measure).columns)
        self.version = list(table(DecisionVersion).columns)
        self.access = [c for c in platform_tables.access_log.columns if c.key != "id"]
        outbox = platform_tables.outbox
        self.outbox = [outbox.c[k] for k in ("event_id", "subject", "type", "envelope", "created_at")]
        n = 0

        def param(column: Column[Any], array: bool) -> str:
            nonlocal n
            n += 1
            if array and isinstance(column.type, ARRAY):
                return f"${n}::text[]"  # array literals, see `_value`
            return f"${n}::{column.type.compile(dialect=_PG)}{'[]' if array else ''}"

        def name(t: Table) -> str:
            return f"{t.schema}.{t.name}"

        def unnest(t: Table, columns: list[Column[Any]], ordered: bool = False) -> str:
            names = ", ".join(c.name for c in columns)
            arrays = ", ".join(param(c, True) for c in columns)
            picked = ", ".join(
                f"{c.name}::{c.type.compile(dialect=_PG)}" if isinstance(c.type, ARRAY) else c.name
                for c in columns
            )
            if not ordered:
                source = f"unnest({arrays}) AS u({names})"
                return f"INSERT INTO {name(t)} ({names}) SELECT {picked} FROM {source}"  # noqa: S608
            source = f"unnest({arrays}) WITH ORDINALITY AS u({names}, position) ORDER BY position"
            return f"INSERT INTO {name(t)} ({names}) SELECT {picked} FROM {source}"  # noqa: S608

        # Names come from the table metadata; every value is a parameter.
        columns = ", ".join(c.name for c in self.decision)
        values = ", ".join(param(c, False) for c in self.decision)
        parts = [
            f"d AS (INSERT INTO {name(table(Decision))} ({columns}) VALUES ({values}))",  # noqa: S608
            f"s AS ({unnest(table(DecisionService), self.service)})",
            f"m AS ({unnest(table(Measure), self.measure)})",
            f"v AS ({unnest(table(DecisionVersion), self.version)})",
            f"a AS ({unnest(platform_tables.access_log, self.access)})",
            f"o AS ({unnest(outbox, self.outbox, ordered=True)})",
        ]
        # NOTIFY only with events: every notifying commit takes PostgreSQL's global
        # notify lock through its WAL flush, so a draft does not ask for it.
        channel = f"${n + 1}::text"
        self.sql = (
            "WITH " + ",\n".join(parts) + f"\nSELECT pg_notify({channel}, '') WHERE {channel} IS NOT NULL"
        )


_PG = PGDialect()  # type: ignore[no-untyped-call]
_WRITE_STATEMENT: list[_WriteStatement] = []


def _write_statement() -> _WriteStatement:
    # Built on first use: a foreign-key column takes its type from the table it refers to,
    # which is known only once every model is imported.
    if not _WRITE_STATEMENT:
        _WRITE_STATEMENT.append(_WriteStatement())
    return _WRITE_STATEMENT[0]


_CONFIG_TOKEN = select(config_version.c.token).where(config_version.c.id == 1).scalar_subquery()
# Most persons never had an assignment: asking in the person's statement spares the hot path
# of a decision a round trip to look for one to supersede.
_HAS_ASSIGNMENT = (
    exists()
    .where(Assignment.person_id == Person.id, Assignment.status == AssignmentStatus.issued.value)
    .label("has_assignment")
)
_PERSON_STATEMENTS: dict[tuple[bool, frozenset[str]], Select[Any]] = {}


def _person_with_district(principal: Principal) -> Select[Any]:
    key = (principal.all_districts, frozenset() if principal.all_districts else principal.districts)
    stmt = _PERSON_STATEMENTS.get(key)
    if stmt is None:
        stmt = (
            persons.readable(principal)
            .add_columns(District, _CONFIG_TOKEN, _HAS_ASSIGNMENT)
            .outerjoin(District, District.code == Person.district)
            .where(Person.id == bindparam("person_id"))
        )
        if len(_PERSON_STATEMENTS) > 256:
            _PERSON_STATEMENTS.clear()
        _PERSON_STATEMENTS[key] = stmt
    return stmt
