"""Simulation of an alternative rule set for a city of 20,000 users: `POST /v1/simulations`
(the base band split at 10 h against the adopted Stavanger 2022 levels model) and
`GET /v1/cliffs`, through the budget app in-process (ASGI, JWT, JSON; no network hop), with
the steps inside it timed apart (the population query, the pure engine), and beside them ONE
SQL aggregate over the very same rows: both rule sets' amounts per unit in a single
statement through plain asyncpg.

    uv run python -m bench.simulation            # (make bench-simulation)
    uv run python -m bench.simulation --help     # sizes, repeats

Starts only PostgreSQL and NATS (fresh data folder `.hjemflyt/bench-simulation`), migrates
the budget schema and writes synthetic rows straight into it (`provider_unit`,
`decided_hours` with COPY, an adopted `rule_set`). Prints figures and writes them to
bench/results/simulation-<timestamp>.json. Never asserts a timing: the target (200 ms) is
printed beside the figures, for people to judge.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from bench.results_file import on_fresh_infrastructure, run_facts, write_results
from bench.skeleton import ROOT, say
from hjemflyt.budget.financing.defaults import STAVANGER_2022
from hjemflyt.budget.hours.repository import HoursRepository
from hjemflyt.budget.main import create_app
from hjemflyt.budget.simulations import rules
from hjemflyt.shared.devstack import DevStack
from hjemflyt.shared.platform.auth import Role

TARGET_MS = 200
ON = date(2027, 1, 15)
JSON = dict[str, Any]
UNITS = [(f"9{i:08d}", f"Bench unit {i}", "municipal" if i < 4 else "private") for i in range(8)]
DISTRICTS = ["nord", "sor", "ost", "vest"]


@dataclass(frozen=True)
class Config:
    users: int = 20_000
    repeats: int = 15
    seed: int = 2022
    data_dir: Path = ROOT / ".hjemflyt" / "bench-simulation"


def parse_args(argv: list[str] | None) -> Config:
    d = Config()
    p = argparse.ArgumentParser(prog="python -m bench.simulation", description=__doc__.split("\n\n")[0])
    p.add_argument("--users", type=int, default=d.users, help="persons with decided hours")
    p.add_argument(
        "--repeats", type=int, default=d.repeats, help="timed runs of each step (after one warm-up)"
    )
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--data-dir", type=Path, default=d.data_dir, help="deleted at start")
    a = p.parse_args(argv)
    return Config(users=a.users, repeats=a.repeats, seed=a.seed, data_dir=a.data_dir.resolve())


def split_base_band() -> JSON:
    body = STAVANGER_2022.model_dump(mode="json")
    body["name"] = "base band split at 10 h"
    for part in body["parts"]:
        part["financing"]["bands"][:1] = [
            {"level": "base-a", "from_hours": "0", "to_hours": "10", "funded_hours": "2"},
            {"level": "base-b", "from_hours": "10", "to_hours": "20", "funded_hours": "6"},
        ]
    return body


def decided_rows(cfg: Config) -> list[tuple[Any, ...]]:
    """Like Stavanger 2021: ~88 % under 20 h a month, ~9 % level 1, ~3 % above; 1-3 services."""
    rng = random.Random(cfg.seed)
    rows = []
    for n in range(cfg.users):
        person_id = uuid.UUID(int=n + 1)
        draw = rng.random()
        total = (
            rng.uniform(0.5, 19.99)
            if draw < 0.88
            else rng.uniform(20, 40)
            if draw < 0.97
            else rng.uniform(40, 160)
        )
        codes = rng.sample(["15", "1", "6"], rng.randint(1, 3))
        shares = [rng.random() + 0.1 for _ in codes]
        org = UNITS[rng.randrange(len(UNITS))][0]
        district = DISTRICTS[n % len(DISTRICTS)]
        band = rng.choice(["0-66", "67-79", "80+", "80+"])
        decision_id = uuid.uuid4()
        for code, share in zip(codes, shares, strict=True):
            hours = Decimal(total * share / sum(shares)).quantize(Decimal("0.01"))
            rows.append(
                (
                    decision_id,
                    code,
                    code,
                    None,
                    "granted",
                    "hours_per_month",
                    1,
                    person_id,
                    district,
                    org,
                    hours,
                    date(2026, 12, 1),
                    None,
                    band,
                )
            )
    return rows


COLUMNS = [
    "decision_id",
    "service_key",
    "service_code",
    "service_type",
    "outcome",
    "scope_kind",
    "decision_version",
    "person_id",
    "district",
    "provider_org",
    "hours_per_month",
    "start_date",
    "end_date",
    "age_band",
]

# One statement: each person's hours at a unit, both rule sets' annual amounts per person
# (band amounts as constants: funded hours * 799 kr * 12 in øre), summed per unit.
AGGREGATE = """
with p as (
    select person_id, provider_org, sum(hours_per_month) as h
    from budget.decided_hours
    where provider_org is not null and start_date <= $1 and (end_date is null or end_date >= $1)
    group by person_id, provider_org
), a as (
    select provider_org,
        case when h < 20 then 3413328 when h < 40 then 28764000 when h < 60 then 47940000
             when h < 80 then 67116000 else 86292000 end as before_ore,
        case when h < 10 then 1917600 when h < 20 then 5752800 when h < 40 then 28764000
             when h < 60 then 47940000 when h < 80 then 67116000 else 86292000 end as after_ore
    from p
)
select provider_org, count(*) as persons, sum(before_ore) as before_ore, sum(after_ore) as after_ore,
       count(*) filter (where after_ore > before_ore) as gainers,
       count(*) filter (where after_ore < before_ore) as losers
from a group by provider_org order by provider_org
"""


def stats_ms(samples: list[float]) -> JSON:
    ms = sorted(s * 1000 for s in samples)
    return {
        "runs": len(ms),
        "min_ms": round(ms[0], 1),
        "median_ms": round(statistics.median(ms), 1),
        "p90_ms": round(ms[min(len(ms) - 1, int(len(ms) * 0.9))], 1),
        "max_ms": round(ms[-1], 1),
    }


async def timed(repeats: int, step: Callable[[], Awaitable[Any]]) -> tuple[JSON, Any]:
    result = await step()  # warm-up: caches, prepared statements, first imports
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = await step()
        samples.append(time.perf_counter() - start)
    return stats_ms(samples), result


async def load(pg: asyncpg.Connection, cfg: Config) -> JSON:
    start = time.perf_counter()
    await pg.executemany(
        "insert into budget.provider_unit (provider_org, name, kind, version) values ($1, $2, $3, 1)", UNITS
    )
    rows = decided_rows(cfg)
    await pg.copy_records_to_table("decided_hours", schema_name="budget", records=rows, columns=COLUMNS)
    now = datetime.now(UTC)
    await pg.execute(
        "insert into budget.rule_set (id, key, version, name, valid_from, body, created_at, created_by,"
        " adopted_at, adopted_by)"
        " values ($1, 'stavanger-2022', 1, $2, $3, $4::jsonb, $5, 'bench', $5, 'bench')",
        uuid.uuid4(),
        STAVANGER_2022.name,
        STAVANGER_2022.valid_from,
        json.dumps(STAVANGER_2022.model_dump(mode="json")),
        now,
    )
    await pg.execute("analyze budget.decided_hours")
    return {"decided_hours_rows": len(rows), "load_seconds": round(time.perf_counter() - start, 2)}


async def run(stack: DevStack, cfg: Config) -> JSON:
    dsn = stack.database_url.replace("postgresql+asyncpg://", "postgresql://")
    pg = await asyncpg.connect(dsn)
    out: JSON = {}
    try:
        say(f"writing {cfg.users:,} users' decided hours into the budget schema")
        out["rows"] = await load(pg, cfg)

        settings = stack.settings.model_copy(
            update={
                "database_url": stack.database_url,
                "nats_url": stack.nats_url,
                "jwt_jwks_file": stack.issuer.jwks_file,
            }
        )
        app = create_app(settings)
        headers = {"Authorization": f"Bearer {stack.issuer.token(role=Role.manager)}"}
        body = {"alternative": split_base_band(), "on": ON.isoformat(), "limit": 50}
        async with app.router.lifespan_context(app):
            ctx = app.state.ctx
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://budget") as client:

                async def simulate() -> JSON:
                    r = await client.post("/v1/simulations", json=body, headers=headers)
                    r.raise_for_status()
                    return dict(r.json())

                async def cliffs() -> JSON:
                    params = {"within_hours": "2", "on": ON.isoformat()}
                    r = await client.get("/v1/cliffs", params=params, headers=headers)
                    r.raise_for_status()
                    return dict(r.json())

                say("timing POST /v1/simulations and GET /v1/cliffs (in-process ASGI)")
                out["api_simulation"], sim = await timed(cfg.repeats, simulate)
                out["api_cliffs"], _ = await timed(cfg.repeats, cliffs)

            async def population() -> Any:
                async with ctx.sessionmaker() as session:
                    return await HoursRepository(session).population(ON)

            say("timing the steps inside: the population read, the pure engine")
            out["population_query"], people = await timed(cfg.repeats, population)
            alternative = type(STAVANGER_2022).model_validate(split_base_band())

            async def engine() -> rules.Simulation:
                return rules.simulate(STAVANGER_2022, alternative, people)

            out["pure_engine"], result = await timed(cfg.repeats, engine)

        say("timing ONE SQL aggregate over the same rows (raw asyncpg)")

        async def aggregate() -> list[asyncpg.Record]:
            return list(await pg.fetch(AGGREGATE, ON))

        out["raw_sql_aggregate"], per_unit = await timed(cfg.repeats, aggregate)
        # The same answer both ways, or the comparison means nothing.
        sql_units = {
            r["provider_org"]: (r["persons"], int(r["before_ore"]), int(r["after_ore"])) for r in per_unit
        }
        api_units = {u["provider_org"]: (u["persons"], u["before_ore"], u["after_ore"]) for u in sim["units"]}
        out["same_answer"] = sql_units == api_units
        out["persons"] = sim["totals"]["persons"]
        out["gainers"], out["losers"] = sim["totals"]["gainers"], sim["totals"]["losers"]
        out["engine_persons"] = len(result.persons)
        out["levels_before"] = sim["levels_before"]
        out["levels_after"] = sim["levels_after"]
    finally:
        await pg.close()
    return out


def print_report(cfg: Config, out: JSON) -> None:
    def row(label: str, s: JSON) -> str:
        return (
            f"  {label:<46}{s['median_ms']:>8.1f} ms median   min {s['min_ms']:.1f}   "
            f"p90 {s['p90_ms']:.1f}   max {s['max_ms']:.1f}"
        )

    lines = [
        "",
        f"simulation for {out['persons']:,} users ({out['rows']['decided_hours_rows']:,} decided_hours"
        f" rows), {cfg.repeats} runs each after a warm-up; target <= {TARGET_MS} ms",
        row("POST /v1/simulations (in-process ASGI)", out["api_simulation"]),
        row("GET /v1/cliffs (in-process ASGI)", out["api_cliffs"]),
        row("  inside: population read (one row per person)", out["population_query"]),
        row("  inside: pure engine, both rule sets", out["pure_engine"]),
        row("raw: ONE SQL aggregate, same rows (asyncpg)", out["raw_sql_aggregate"]),
        f"  same per-unit answer both ways: {out['same_answer']}; "
        f"gainers {out['gainers']:,}, losers {out['losers']:,}",
        f"  levels before {out['levels_before']}",
        f"  levels after  {out['levels_after']}",
        "",
    ]
    print("\n".join(lines))


def main(argv: list[str] | None = None) -> int:
    cfg = parse_args(argv)
    facts = run_facts()
    out = on_fresh_infrastructure("budget", cfg.data_dir, lambda stack: run(stack, cfg))
    print_report(cfg, out)
    write_results("simulation", {"config": {**asdict(cfg), "data_dir": str(cfg.data_dir)}, **facts, **out})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
