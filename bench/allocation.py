"""Allocation at national scale: 250,000 users in 356 municipalities, as rows in the budget
schema on an embedded PostgreSQL; the allocation computed for every municipality the way
`POST /v1/allocations` computes it (the same repository read of the population, units and
contract prices, then the pure engine), and beside it ONE SQL aggregate over the same rows
(persons and hours per municipality, unit and band) in the same run.

    uv run python -m bench.allocation            # (make bench-allocation)
    uv run python -m bench.allocation --help     # sizes

The budget service is single-tenant (one municipality per deployment), so the 356
municipalities are a grouping of the benchmark's own: each unit belongs to one
municipality, and `decided_hours.district` holds the municipality number. The engine runs
once per municipality with that municipality's frame. Only PostgreSQL runs (no NATS, no
HTTP). Prints figures and writes bench/results/allocation-<timestamp>.json. Never asserts a
timing: the target (≤ 2 s) is printed beside the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import random
import resource
import shutil
import statistics
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy.ext.asyncio import AsyncSession

from bench.procwatch import machine_busy_percent
from bench.results_file import run_facts, write_results
from bench.skeleton import ROOT, say
from hjemflyt.budget.allocations import rules
from hjemflyt.budget.allocations.repository import AllocationRepository
from hjemflyt.budget.financing.defaults import PURCHASER_PROVIDER
from hjemflyt.budget.hours.repository import HoursRepository
from hjemflyt.budget.hours.rules import PersonAtUnit
from hjemflyt.shared.platform import embedded
from hjemflyt.shared.platform.db import create_engine, create_sessionmaker
from hjemflyt.shared.platform.migrations import upgrade

TARGET_S = 2.0
BUDGETING_DATE = date(2027, 1, 1)
FRAME_PER_PERSON_ORE = 6_000_000  # 60 000 kr per user: roughly what the needs take, plus shares
JSON = dict[str, Any]

# The SQL side: persons and hours per municipality, unit and band (Stavanger's edges; the
# default rule set has no skill-mix weights, so the bands of the summed hours are the engine's).
AGGREGATE = """
WITH person AS (
    SELECT district AS municipality, provider_org, person_id, sum(hours_per_month) AS hours
    FROM budget.decided_hours
    WHERE provider_org IS NOT NULL AND start_date <= $1 AND (end_date IS NULL OR end_date >= $1)
    GROUP BY district, provider_org, person_id
)
SELECT municipality, provider_org,
       CASE WHEN hours < 20 THEN 'base' WHEN hours < 40 THEN '1' WHEN hours < 60 THEN '2'
            WHEN hours < 80 THEN '3' ELSE '4' END AS band,
       count(*) AS persons, sum(hours) AS hours
FROM person
GROUP BY 1, 2, 3
"""


@dataclass(frozen=True)
class Config:
    persons: int = 250_000
    municipalities: int = 356
    repeats: int = 3
    seed: int = 2027
    data_dir: Path = ROOT / ".hjemflyt" / "bench-allocation"


def parse_args(argv: list[str] | None) -> Config:
    d = Config()
    p = argparse.ArgumentParser(prog="python -m bench.allocation", description=__doc__.split("\n\n")[0])
    p.add_argument("--persons", type=int, default=d.persons, help="users in all")
    p.add_argument("--municipalities", type=int, default=d.municipalities)
    p.add_argument("--repeats", type=int, default=d.repeats, help="timed runs of each measurement")
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--data-dir", type=Path, default=d.data_dir, help="deleted at start")
    a = p.parse_args(argv)
    return Config(a.persons, a.municipalities, a.repeats, a.seed, a.data_dir.resolve())


# --- data ---------------------------------------------------------------------------------


def hours(rng: random.Random) -> Decimal:
    """Decided hours per month shaped like Stavanger 2021: most users under 20 h."""
    roll = rng.random()
    if roll < 0.85:
        return Decimal(rng.randint(100, 1950)) / 100
    if roll < 0.95:
        return Decimal(rng.randint(20, 39))
    if roll < 0.99:
        return Decimal(rng.randint(40, 99))
    return Decimal(rng.randint(100, 160))


def municipality_sizes(persons: int, count: int) -> list[int]:
    """Users per municipality, Zipf-like (Oslo large, many small ones), adding up to `persons`."""
    weights = [1 / (i + 1) ** 0.9 for i in range(count)]
    whole = sum(weights)
    sizes = [max(1, int(persons * w / whole)) for w in weights]
    sizes[0] += persons - sum(sizes)
    return sizes


@dataclass
class Data:
    decided: list[tuple[Any, ...]]
    units: list[tuple[str, str, str, int, str]]  # org, name, kind, version, prices json
    municipality_of: dict[str, str]  # provider_org -> municipality number
    persons: dict[str, int]  # municipality -> users


def generate(cfg: Config) -> Data:
    rng = random.Random(cfg.seed)
    decided: list[tuple[Any, ...]] = []
    units: list[tuple[str, str, str, int, str]] = []
    municipality_of: dict[str, str] = {}
    persons: dict[str, int] = {}
    start = date(2026, 1, 1)
    for m, size in enumerate(municipality_sizes(cfg.persons, cfg.municipalities)):
        kommune = f"{1000 + m:04d}"
        persons[kommune] = size
        own = [f"9{m:03d}{u:05d}" for u in range(min(20, 1 + size // 2000))]
        private = [f"8{m:03d}{u:05d}" for u in range(2 if size > 3000 else 0)]
        for org in own:
            units.append((org, f"Hjemmetjenesten {kommune}-{org[-2:]}", "municipal", 1, "{}"))
        for org in private:
            units.append((org, f"Privat {org}", "private", 1, json.dumps({"1": 52_000, "15": 61_000})))
        for org in (*own, *private):
            municipality_of[org] = kommune
        chooser = own * 4 + private  # most users at the municipality's own units
        for _ in range(size):
            person_id = uuid.uuid4()
            org = rng.choice(chooser)
            services = [("home-nursing", "15", hours(rng))]
            if rng.random() < 0.3:
                services.append(("practical-help", "1", Decimal(rng.randint(1, 12))))
            decision_id = uuid.uuid4()
            for service_type, code, h in services:
                decided.append(
                    (
                        decision_id, service_type, code, service_type, "granted", "hours_per_month",
                        1, person_id, kommune, org, h, start, None,
                    )
                )  # fmt: skip
    return Data(decided, units, municipality_of, persons)


async def load(pool: asyncpg.Pool, data: Data) -> JSON:
    async with pool.acquire() as conn:
        t0 = time.perf_counter()
        await conn.copy_records_to_table(
            "decided_hours",
            schema_name="budget",
            columns=[
                "decision_id", "service_key", "service_code", "service_type", "outcome", "scope_kind",
                "decision_version", "person_id", "district", "provider_org", "hours_per_month",
                "start_date", "end_date",
            ],
            records=data.decided,
        )  # fmt: skip
        has_prices = await conn.fetchval(
            "SELECT count(*) FROM information_schema.columns WHERE table_schema = 'budget' "
            "AND table_name = 'provider_unit' AND column_name = 'contract_prices_ore_per_hour'"
        )
        if has_prices:
            await conn.executemany(
                "INSERT INTO budget.provider_unit "
                "(provider_org, name, kind, version, contract_prices_ore_per_hour) "
                "VALUES ($1, $2, $3, $4, $5::jsonb)",
                data.units,
            )
        else:
            await conn.executemany(
                "INSERT INTO budget.provider_unit (provider_org, name, kind, version) "
                "VALUES ($1, $2, $3, $4)",
                [u[:4] for u in data.units],
            )
        await conn.execute("ANALYZE budget.decided_hours; ANALYZE budget.provider_unit")
        return {
            "load_s": round(time.perf_counter() - t0, 2),
            "decided_hours_rows": len(data.decided),
            "units": len(data.units),
            "contract_prices_column": bool(has_prices),
            "table_mb": round(
                await conn.fetchval("SELECT pg_total_relation_size('budget.decided_hours')") / 2**20, 1
            ),
        }


# --- the measurements ------------------------------------------------------------------------


@dataclass
class EngineRun:
    read_s: float
    engine_s: float
    persons: int
    lines: int
    sum_errors: int  # municipalities whose lines do not add up to their frame (must be 0)
    bands: dict[tuple[str, str, str], int]  # (municipality, org, level) -> persons (levels units)


async def allocate_everywhere(session: AsyncSession, municipality_of: dict[str, str]) -> EngineRun:
    """What POST /v1/allocations does, once per municipality: read, then the engine."""
    t0 = time.perf_counter()
    repo = AllocationRepository(session)
    units = await repo.units()
    population = await HoursRepository(session).population(BUDGETING_DATE)
    t1 = time.perf_counter()
    by_municipality: dict[str, list[PersonAtUnit]] = defaultdict(list)
    for person in population:
        by_municipality[municipality_of[person.provider_org]].append(person)
    units_of: dict[str, dict[str, str]] = defaultdict(dict)
    prices: dict[str, dict[str, int]] = {}
    for org, (kind, unit_prices) in units.items():
        units_of[municipality_of[org]][org] = kind
        prices[org] = unit_prices
    lines = errors = 0
    bands: dict[tuple[str, str, str], int] = {}
    for kommune, people in by_municipality.items():
        frame = len(people) * FRAME_PER_PERSON_ORE
        result = rules.allocate(frame, PURCHASER_PROVIDER, people, prices, units_of[kommune])
        lines += len(result.amounts) + 2
        errors += result.total() != frame
        for org, need in result.needs.items():
            for level, n in need.persons_per_level.items():
                if n:
                    bands[(kommune, org, level)] = n
    t2 = time.perf_counter()
    return EngineRun(t1 - t0, t2 - t1, len(population), lines, errors, bands)


async def measure(cfg: Config, sa_url: str, raw_dsn: str, data: Data) -> JSON:
    engine = create_engine(sa_url, pool_size=1, application_name="bench-allocation")
    sessions = create_sessionmaker(engine)
    pool = await asyncpg.create_pool(raw_dsn, min_size=1, max_size=1)
    runs: list[EngineRun] = []
    sql_runs: list[float] = []
    sql_rows: list[asyncpg.Record] = []
    try:
        for i in range(cfg.repeats):
            async with sessions() as session, session.begin():
                run = await allocate_everywhere(session, data.municipality_of)
            runs.append(run)
            say(
                f"  run {i + 1}: allocation read {run.read_s:.2f} s + engine {run.engine_s:.2f} s = "
                f"{run.read_s + run.engine_s:.2f} s ({run.persons:,} persons, {run.lines:,} lines)"
            )
            async with pool.acquire() as conn:
                t0 = time.perf_counter()
                sql_rows = await conn.fetch(AGGREGATE, BUDGETING_DATE)
                sql_runs.append(time.perf_counter() - t0)
            say(f"  run {i + 1}: one SQL aggregate {sql_runs[-1]:.2f} s ({len(sql_rows):,} rows)")
    finally:
        await pool.close()
        await engine.dispose()
    # Cross-check: the engine's persons per level equal the SQL's persons per band (levels units).
    levels_units = {org for org, _, kind, _, _ in data.units if kind == "municipal"}
    sql_bands = {
        (r["municipality"], r["provider_org"], r["band"]): int(r["persons"])
        for r in sql_rows
        if r["provider_org"] in levels_units
    }
    last = runs[-1]
    totals = [r.read_s + r.engine_s for r in runs]
    return {
        "allocation_total_s": [round(t, 3) for t in totals],
        "allocation_read_s": [round(r.read_s, 3) for r in runs],
        "allocation_engine_s": [round(r.engine_s, 3) for r in runs],
        "allocation_total_median_s": round(statistics.median(totals), 3),
        "allocation_total_best_s": round(min(totals), 3),
        "sql_aggregate_s": [round(t, 3) for t in sql_runs],
        "sql_aggregate_median_s": round(statistics.median(sql_runs), 3),
        "sql_aggregate_rows": len(sql_rows),
        "persons_read": last.persons,
        "allocation_lines": last.lines,
        "municipalities_not_adding_up": last.sum_errors,
        "engine_and_sql_agree_on_persons_per_band": last.bands == sql_bands,
        "target_s": TARGET_S,
    }


def print_report(cfg: Config, facts: JSON, figures: JSON) -> None:
    say("")
    say(f"Allocation: {cfg.persons:,} users in {cfg.municipalities} municipalities, {facts['units']} units")
    say(
        f"  rows: {facts['decided_hours_rows']:,} decided_hours ({facts['table_mb']} MB), "
        f"loaded in {facts['load_s']} s"
    )
    say("")
    say("| measurement (median of runs) | seconds | runs |")
    say("| --- | ---: | --- |")
    say(
        "| **allocation, all municipalities (read + engine)** | "
        f"**{figures['allocation_total_median_s']:.2f}** | "
        f"{', '.join(f'{t:.2f}' for t in figures['allocation_total_s'])} |"
    )
    say(
        f"| - repository read (units, population) | {statistics.median(figures['allocation_read_s']):.2f} | "
        f"{', '.join(f'{t:.2f}' for t in figures['allocation_read_s'])} |"
    )
    say(
        f"| - engine, {cfg.municipalities} x `rules.allocate` | "
        f"{statistics.median(figures['allocation_engine_s']):.2f} | "
        f"{', '.join(f'{t:.2f}' for t in figures['allocation_engine_s'])} |"
    )
    say(
        f"| one SQL aggregate (persons, hours per municipality, unit, band) | "
        f"{figures['sql_aggregate_median_s']:.2f} | "
        f"{', '.join(f'{t:.2f}' for t in figures['sql_aggregate_s'])} |"
    )
    say("")
    say(f"  target: allocation ≤ {TARGET_S} s; measured median {figures['allocation_total_median_s']:.2f} s")
    say(
        f"  every municipality adds up to its frame: {figures['municipalities_not_adding_up'] == 0}; "
        f"engine and SQL agree on persons per band: {figures['engine_and_sql_agree_on_persons_per_band']}"
    )
    say(f"  peak RSS of the benchmark process: {figures['peak_rss_mb']} MB")


async def measure_all(cfg: Config, url: str, raw: str) -> tuple[JSON, JSON]:
    say("generating the population ...")
    data = generate(cfg)
    pool = await asyncpg.create_pool(raw, min_size=1, max_size=1)
    try:
        facts = await load(pool, data)
    finally:
        await pool.close()
    say(f"loaded {facts['decided_hours_rows']:,} rows in {facts['load_s']} s; measuring ...")
    # As a service process is after startup (platform.app._tune_gc): what exists now is out of
    # the collector's reach, and it collects less often. The generated rows are dropped first.
    data.decided.clear()
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)
    busy = machine_busy_percent()
    figures = await measure(cfg, url, raw, data)
    figures["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    figures["machine_busy_before_measuring_percent"] = busy
    return facts, figures


def run(cfg: Config) -> JSON:
    shutil.rmtree(cfg.data_dir, ignore_errors=True)
    postgres = embedded.EmbeddedPostgres(cfg.data_dir / "postgres")
    postgres.start()
    try:
        url = postgres.create_database("bench_allocation")
        upgrade("budget", url)  # Alembic runs its own event loop: before ours
        raw = postgres.dsn("bench_allocation", driver=None)
        facts, figures = asyncio.run(measure_all(cfg, url, raw))
    finally:
        postgres.stop()
    print_report(cfg, facts, figures)
    return {"config": {**cfg.__dict__, "data_dir": str(cfg.data_dir)}, "facts": facts, "figures": figures}


def main(argv: list[str] | None = None) -> int:
    cfg = parse_args(argv)
    facts = run_facts()
    write_results("allocation", {**run(cfg), **facts})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
