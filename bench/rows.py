"""Raw asyncpg baselines that write exactly the rows the API wrote.

The rows are not invented: after the API phase, the rows one request really wrote (a made
decision, or an imported person with its decision) are read back as templates, and the
baseline inserts copies of them (fresh ids, the same sizes, the same JSON, the same
envelopes) into a scratch schema whose tables are `LIKE` the service's, with the same
indexes, identity columns and foreign keys. No reads, no ORM, no HTTP, no Python domain
code: the floor the endpoint's writes stand on.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import asyncpg

from bench.stats import LoadResult, run_closed_loop

SCRATCH = "bench_raw"
SCHEMA = "assessment"
# In the order a transaction inserts them (parents first).
TABLES = ("person", "decision", "decision_service", "measure", "decision_version", "outbox", "access_log")
_IDENTITY = {"outbox": "seq", "access_log": "id"}
_FOREIGN_KEYS = {
    "decision": [
        "FOREIGN KEY (person_id) REFERENCES {person}(id)",
        "FOREIGN KEY (district) REFERENCES assessment.district(code)",
    ],
    "decision_service": ["FOREIGN KEY (decision_id) REFERENCES {decision}(id) ON DELETE CASCADE"],
    "measure": ["FOREIGN KEY (decision_service_id) REFERENCES {decision_service}(id) ON DELETE CASCADE"],
    "decision_version": ["FOREIGN KEY (decision_id) REFERENCES {decision}(id) ON DELETE CASCADE"],
    "person": ["FOREIGN KEY (district) REFERENCES assessment.district(code)"],
}

Row = dict[str, Any]


@dataclass
class Templates:
    """The rows one unit of work (a decision, or an imported person) wrote, per table."""

    rows: dict[str, list[Row]] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        return {t: len(rows) for t, rows in self.rows.items() if rows}

    def clone(self) -> dict[str, list[Row]]:
        """Copies with fresh ids; references between them follow, unique keys stay unique."""
        ids: dict[Any, uuid.UUID] = {}

        def fresh(old: Any) -> uuid.UUID:
            ids.setdefault(old, uuid.uuid4())
            return ids[old]

        out: dict[str, list[Row]] = {}
        for table, rows in self.rows.items():
            copies = []
            for row in rows:
                new = dict(row)
                new.pop(_IDENTITY.get(table, ""), None)
                if table in ("person", "decision", "decision_service", "measure", "decision_version"):
                    new["id"] = fresh(row["id"])
                if table == "person":
                    new["identity_index"] = uuid.uuid4().hex + uuid.uuid4().hex
                    new["external_id"] = uuid.uuid4().hex
                if table == "decision":
                    if self.rows.get("person"):
                        new["person_id"] = fresh(row["person_id"])
                    new["external_id"] = uuid.uuid4().hex if row.get("external_id") else None
                if table == "decision_service":
                    new["decision_id"] = fresh(row["decision_id"])
                if table == "measure":
                    new["decision_service_id"] = fresh(row["decision_service_id"])
                if table == "decision_version":
                    new["decision_id"] = fresh(row["decision_id"])
                if table == "outbox":
                    new["event_id"] = uuid.uuid4()
                    new["published_at"] = None
                    new["attempts"] = 0
                    new["last_error"] = None
                if table == "access_log" and row.get("person_id") in ids:
                    new["person_id"] = ids[row["person_id"]]
                copies.append(new)
            out[table] = copies
        return out


async def read_templates(
    pg: asyncpg.Pool,
    *,
    decision_ids: Sequence[uuid.UUID],
    person_ids: Sequence[uuid.UUID] = (),
    outbox_rows: int,
    access_rows: int,
) -> Templates:
    """The rows of these decisions (and persons), and the last outbox and access-log rows (the
    caller knows how many one unit wrote; it ran last, alone)."""
    t = Templates()
    t.rows["person"] = [
        dict(r)
        for r in await pg.fetch("SELECT * FROM assessment.person WHERE id = ANY($1)", list(person_ids))
    ]
    t.rows["decision"] = [
        dict(r)
        for r in await pg.fetch("SELECT * FROM assessment.decision WHERE id = ANY($1)", list(decision_ids))
    ]
    t.rows["decision_service"] = [
        dict(r)
        for r in await pg.fetch(
            "SELECT * FROM assessment.decision_service WHERE decision_id = ANY($1)", list(decision_ids)
        )
    ]
    service_ids = [r["id"] for r in t.rows["decision_service"]]
    t.rows["measure"] = [
        dict(r)
        for r in await pg.fetch(
            "SELECT * FROM assessment.measure WHERE decision_service_id = ANY($1) ORDER BY position",
            service_ids,
        )
    ]
    t.rows["decision_version"] = [
        dict(r)
        for r in await pg.fetch(
            "SELECT * FROM assessment.decision_version WHERE decision_id = ANY($1) ORDER BY version",
            list(decision_ids),
        )
    ]
    t.rows["outbox"] = [
        dict(r)
        for r in await pg.fetch(
            "SELECT * FROM (SELECT * FROM assessment.outbox ORDER BY seq DESC LIMIT $1) o ORDER BY seq",
            outbox_rows,
        )
    ]
    t.rows["access_log"] = [
        dict(r)
        for r in await pg.fetch(
            "SELECT * FROM (SELECT * FROM assessment.access_log ORDER BY id DESC LIMIT $1) a ORDER BY id",
            access_rows,
        )
    ]
    return t


async def create_scratch(conn: asyncpg.Connection[Any], *, own_persons: bool) -> None:
    """Scratch tables like the service's; decisions reference the service's persons unless the
    baseline writes persons of its own."""
    await conn.execute(f"DROP SCHEMA IF EXISTS {SCRATCH} CASCADE; CREATE SCHEMA {SCRATCH}")
    names = {t: f"{SCRATCH}.{t}" for t in TABLES}
    if not own_persons:
        names["person"] = f"{SCHEMA}.person"
    for table in TABLES:
        await conn.execute(f"CREATE TABLE {SCRATCH}.{table} (LIKE {SCHEMA}.{table} INCLUDING ALL)")
        for fk in _FOREIGN_KEYS.get(table, []):
            await conn.execute(f"ALTER TABLE {SCRATCH}.{table} ADD {fk.format(**names)}")


async def drop_scratch(dsn: str) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(f"DROP SCHEMA IF EXISTS {SCRATCH} CASCADE")
    finally:
        await conn.close()


def _insert_sql(table: str, columns: Sequence[str]) -> str:
    cols = ", ".join(columns)
    params = ", ".join(f"${i}" for i in range(1, len(columns) + 1))
    return f"INSERT INTO {SCRATCH}.{table} ({cols}) VALUES ({params})"  # noqa: S608 - names from the catalogue


async def decisions_baseline(
    dsn: str, templates: Templates, *, count: int, concurrency: int, time_limit_s: float, notify: bool = True
) -> LoadResult:
    """One transaction per decision, one INSERT per row (as the service sends them), and the
    outbox's one NOTIFY; `concurrency` connections of a plain pool."""
    setup = await asyncpg.connect(dsn)
    try:
        await create_scratch(setup, own_persons=False)
    finally:
        await setup.close()
    pool = await asyncpg.create_pool(dsn, min_size=concurrency, max_size=concurrency)
    try:

        async def one(_: int) -> None:
            rows = templates.clone()
            async with pool.acquire() as conn, conn.transaction():
                for table in TABLES:
                    for row in rows.get(table, []):
                        await conn.execute(_insert_sql(table, list(row)), *row.values())
                if notify:
                    await conn.execute("SELECT pg_notify('bench_raw', '')")

        await run_closed_loop(concurrency * 4, concurrency, one, time_limit_s=10)  # warm the pool
        return await run_closed_loop(count, concurrency, one, time_limit_s=time_limit_s)
    finally:
        await pool.close()
        await drop_scratch(dsn)


async def import_baseline(
    dsn: str,
    templates: Templates,
    *,
    persons: int,
    batch_size: int,
    time_limit_s: float,
    method: str = "executemany",
) -> LoadResult:
    """The import's rows for `persons` persons, one transaction per batch, per table one
    executemany (asyncpg pipelines the rows) or one COPY (`method="copy"`, binary), and one
    NOTIFY per batch."""
    conn = await asyncpg.connect(dsn)
    try:
        await create_scratch(conn, own_persons=True)
        # Built before the clock starts: the copies are the benchmark's work, not the database's.
        batches: list[dict[str, list[list[Any]]]] = []
        for start in range(0, persons, batch_size):
            by_table: dict[str, list[list[Any]]] = {t: [] for t in TABLES}
            for _ in range(min(batch_size, persons - start)):
                for table, rows in templates.clone().items():
                    by_table[table].extend(list(r.values()) for r in rows)
            batches.append(by_table)
        columns = {
            t: [c for c in rows[0] if c != _IDENTITY.get(t)] for t, rows in templates.rows.items() if rows
        }

        async def one(i: int) -> None:
            async with conn.transaction():
                for table in TABLES:
                    if not batches[i][table]:
                        continue
                    if method == "copy":
                        await conn.copy_records_to_table(
                            table, schema_name=SCRATCH, columns=columns[table], records=batches[i][table]
                        )
                    else:
                        await conn.executemany(_insert_sql(table, columns[table]), batches[i][table])
                await conn.execute("SELECT pg_notify('bench_raw', '')")
            batches[i] = {}

        return await run_closed_loop(len(batches), 1, one, time_limit_s=time_limit_s)
    finally:
        await conn.close()
        await drop_scratch(dsn)
