"""Indicators for a city of 20,000 persons with a year of events: `GET /v1/indicators` for
the twelve months of 2026 through the pathway app in-process (ASGI, JWT, JSON; no network
hop), the service's computation alone, and beside them the same figures from hand-written
raw SQL through plain asyncpg, in the same run on the same rows.

    uv run python -m bench.indicators            # (make bench-indicators)
    uv run python -m bench.indicators --help     # sizes, repeats

Starts only PostgreSQL and NATS (fresh data folder `.hjemflyt/bench-indicators`), migrates
the pathway schema and writes synthetic facts straight into its tables with COPY (millions
of visit reports are not pushed through NATS): visits, referrals, decisions, appeals and
pathways. Prints figures and writes them to bench/results/indicators-<timestamp>.json.
Never asserts a timing: the target (at most 2x the raw SQL) is printed beside the figures.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from bench.results_file import on_fresh_infrastructure, run_facts, write_results
from bench.skeleton import ROOT, say
from hjemflyt.pathway.indicators import service
from hjemflyt.pathway.main import create_app
from hjemflyt.pathway.pathways.models import Pathway
from hjemflyt.shared.devstack import DevStack
from hjemflyt.shared.platform.auth import Role
from hjemflyt.shared.platform.clock import FixedClock

TARGET_RATIO = 2.0
NOW = datetime(2027, 1, 20, 11, 0, tzinfo=UTC)
YEAR = date(2026, 1, 1)
JSON = dict[str, Any]
DISTRICTS = ["nord", "sor", "ost", "vest", "sentrum"]
UNITS = [f"9{i:08d}" for i in range(6)]


@dataclass(frozen=True)
class Config:
    persons: int = 20_000
    repeats: int = 5
    seed: int = 2026
    data_dir: Path = ROOT / ".hjemflyt" / "bench-indicators"


def parse_args(argv: list[str] | None) -> Config:
    d = Config()
    p = argparse.ArgumentParser(prog="python -m bench.indicators", description=__doc__.split("\n\n")[0])
    p.add_argument("--persons", type=int, default=d.persons)
    p.add_argument("--repeats", type=int, default=d.repeats, help="timed runs of each (after one warm-up)")
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--data-dir", type=Path, default=d.data_dir, help="deleted at start")
    a = p.parse_args(argv)
    return Config(persons=a.persons, repeats=a.repeats, seed=a.seed, data_dir=a.data_dir.resolve())


# --- the synthetic year -------------------------------------------------------------------


@dataclass
class Person:
    person_id: uuid.UUID
    district: str
    unit: str
    home_nursing: bool
    start: date
    end: date | None


def people(cfg: Config, rng: random.Random) -> list[Person]:
    out = []
    for n in range(cfg.persons):
        start = YEAR + timedelta(days=rng.randrange(-400, 330))
        end = start + timedelta(days=rng.randrange(30, 500)) if rng.random() < 0.45 else None
        out.append(
            Person(
                uuid.UUID(int=n + 1),
                DISTRICTS[n % len(DISTRICTS)],
                rng.choice(UNITS),
                rng.random() < 0.6,
                start,
                end,
            )
        )
    return out


def visit_rows(persons: list[Person], rng: random.Random) -> Iterator[tuple[Any, ...]]:
    """Home-nursing users about daily (1-2 visits a day for some), the others every 3-7 days;
    a team of 5-25 staff per person; 4 % cancelled, 2 % without a staff id."""
    reported = datetime(2027, 1, 5, tzinfo=UTC)
    n = 0
    for p in persons:
        first = max(p.start, YEAR)
        last = min(p.end or date(2026, 12, 31), date(2026, 12, 31))
        team = [f"{p.unit[-2:]}-{p.district}-{rng.randrange(300)}" for _ in range(rng.randint(5, 25))]
        per_day = (1, 2) if p.home_nursing else (0, 0)
        day = first
        while day <= last:
            for _ in range(rng.choice(per_day) or 1):
                n += 1
                cancelled = rng.random() < 0.04
                staff = None if rng.random() < 0.02 else rng.choice(team)
                yield (p.unit, f"v{n}", p.person_id, p.district, day, staff, cancelled, reported)
            day += timedelta(days=1 if p.home_nursing else rng.randint(3, 7))


def fact_rows(persons: list[Person], rng: random.Random) -> JSON:
    referrals, decisions, appeals, pathways = [], [], [], []
    now = NOW
    for p in persons:
        if p.start >= YEAR:
            received = p.start - timedelta(days=rng.randrange(0, 40))
            referrals.append((uuid.uuid4(), p.person_id, p.district, received))
        decision_date = p.start - timedelta(days=rng.randrange(0, 7))
        codes = ["15"] if p.home_nursing else [rng.choice(["1", "6"])]
        evaluation = p.start + timedelta(days=rng.randrange(60, 400))
        ended_on = p.end if p.end is not None and rng.random() < 0.5 else None
        did = uuid.uuid4()
        decisions.append(
            (did, p.person_id, p.district, decision_date, 1, p.start, p.end, evaluation, codes, ended_on)
        )
        if rng.random() < 0.04:
            decided = decision_date + timedelta(days=rng.randrange(20, 120))
            appeals.append(
                (uuid.uuid4(), "municipality", p.district, rng.choice(["upheld", "changed"]), decided)
            )
        if rng.random() < 0.35:
            kind = rng.randint(0, 3)
            opened = YEAR + timedelta(days=rng.randrange(0, 365))
            planned = {0: 7, 1: 14, 2: 61}.get(kind)
            closed = opened + timedelta(days=rng.randrange(3, 150)) if rng.random() < 0.7 else None
            if closed is not None and closed > NOW.date():
                closed = None
            pathways.append(
                {
                    "id": uuid.uuid4(),
                    "person_id": p.person_id,
                    "district": p.district,
                    "kind": kind,
                    "status": "closed" if closed else "open",
                    "template_version": 1,
                    "opened_on": opened,
                    "opened_at": now,
                    "planned_end": None if planned is None else opened + timedelta(days=planned),
                    "decision_rule": "none",
                    "source": "manual",
                    "closed_at": now if closed else None,
                    "closed_on": closed,
                    "outcome": rng.choice(["no_services", "reduced", "unchanged"]) if closed else None,
                    "updated_at": now,
                }
            )
    return {"referrals": referrals, "decisions": decisions, "appeals": appeals, "pathways": pathways}


async def load(pg: asyncpg.Connection, cfg: Config) -> JSON:
    rng = random.Random(cfg.seed)
    persons = people(cfg, rng)
    start = time.perf_counter()
    facts = fact_rows(persons, rng)
    await pg.copy_records_to_table(
        "referral_fact", schema_name="pathway", records=facts["referrals"],
        columns=["referral_id", "person_id", "district", "received_date"],
    )  # fmt: skip
    await pg.copy_records_to_table(
        "decision_fact", schema_name="pathway", records=facts["decisions"],
        columns=["decision_id", "person_id", "district", "decision_date", "content_version", "start_date",
                 "end_date", "evaluation_date", "service_codes", "ended_on"],
    )  # fmt: skip
    await pg.copy_records_to_table(
        "appeal_fact", schema_name="pathway", records=facts["appeals"],
        columns=["appeal_id", "stage", "district", "outcome", "decided_date"],
    )  # fmt: skip
    # The pathways module's table: its other required columns get neutral values.
    names = list(facts["pathways"][0])
    fillers = {str: "none", int: 0, bool: False}
    extra = {
        c.name: fillers.get(c.type.python_type, NOW)
        for c in Pathway.__table__.columns
        if c.name not in names and not c.nullable and c.server_default is None
    }
    await pg.copy_records_to_table(
        "pathway",
        schema_name="pathway",
        records=[(*(row[n] for n in names), *extra.values()) for row in facts["pathways"]],
        columns=[*names, *extra],
    )
    visits = 0
    chunk: list[tuple[Any, ...]] = []
    columns = [
        "provider_org",
        "visit_id",
        "person_id",
        "district",
        "visit_date",
        "staff_id",
        "cancelled",
        "reported_at",
    ]
    for row in visit_rows(persons, rng):
        chunk.append(row)
        if len(chunk) == 250_000:
            await pg.copy_records_to_table(
                "visit_fact", schema_name="pathway", records=chunk, columns=columns
            )
            visits += len(chunk)
            chunk = []
            say(f"  {visits:,} visits written")
    await pg.copy_records_to_table("visit_fact", schema_name="pathway", records=chunk, columns=columns)
    visits += len(chunk)
    await pg.execute("analyze")
    return {
        "persons": len(persons),
        "visit_reports": visits,
        "referrals": len(facts["referrals"]),
        "decisions": len(facts["decisions"]),
        "appeals": len(facts["appeals"]),
        "pathways": len(facts["pathways"]),
        "load_seconds": round(time.perf_counter() - start, 1),
    }


# --- the same figures in hand-written SQL ---------------------------------------------------
# Written apart from the service's statements (generate_series for the months, a LATERAL
# join for the waits, one plain GROUP BY per level for continuity); the run checks both give
# the same figures.

RAW = {
    "users_backlog": """
        select d.district, g.m::date as month,
               count(distinct d.person_id) as users,
               count(*) filter (where d.start_date <= e.as_of
                                  and coalesce(d.ended_on, d.end_date, 'infinity') >= e.as_of) as active,
               count(*) filter (where d.start_date <= e.as_of
                                  and coalesce(d.ended_on, d.end_date, 'infinity') >= e.as_of
                                  and d.evaluation_date < e.as_of) as backlog
        from generate_series(date '2026-01-01', date '2026-12-01', interval '1 month') g(m)
        cross join lateral (select (g.m + interval '1 month' - interval '1 day')::date as as_of) e
        join pathway.decision_fact d
          on d.start_date <= e.as_of and coalesce(d.ended_on, d.end_date, 'infinity') >= g.m::date
        group by 1, 2""",
    "waits": """
        select r.district, date_trunc('month', r.received_date)::date as month,
               percentile_cont(0.5) within group (order by d.first - r.received_date) as to_decision,
               percentile_cont(0.5) within group (order by v.first - r.received_date) as to_visit
        from pathway.referral_fact r
        left join lateral (select min(decision_date) as first from pathway.decision_fact
                           where person_id = r.person_id and decision_date >= r.received_date) d on true
        left join lateral (select min(visit_date) as first from pathway.visit_fact
                           where person_id = r.person_id and not cancelled
                             and visit_date >= r.received_date) v on true
        where r.received_date between date '2026-01-01' and date '2026-12-31'
        group by 1, 2""",
    "continuity_district": """
        with hn as (
            select distinct d.person_id, g.m::date as month
            from generate_series(date '2026-01-01', date '2026-12-01', interval '1 month') g(m)
            join pathway.decision_fact d on '15' = any(d.service_codes)
             and d.start_date < g.m + interval '1 month'
             and coalesce(d.ended_on, d.end_date, 'infinity') >= g.m::date
        ), s as (
            select district, person_id, date_trunc('month', visit_date)::date as month,
                   count(distinct staff_id) as n
            from pathway.visit_fact
            where not cancelled and staff_id is not null and visit_date between '2026-01-01' and '2026-12-31'
            group by 1, 2, 3
        )
        select s.district, s.month, count(*) as persons, avg(s.n)::float8 as mean_staff
        from s join hn using (person_id, month) group by 1, 2""",
    "continuity_unit": """
        with hn as (
            select distinct d.person_id, g.m::date as month
            from generate_series(date '2026-01-01', date '2026-12-01', interval '1 month') g(m)
            join pathway.decision_fact d on '15' = any(d.service_codes)
             and d.start_date < g.m + interval '1 month'
             and coalesce(d.ended_on, d.end_date, 'infinity') >= g.m::date
        ), s as (
            select district, provider_org, person_id, date_trunc('month', visit_date)::date as month,
                   count(distinct staff_id) as n
            from pathway.visit_fact
            where not cancelled and staff_id is not null and visit_date between '2026-01-01' and '2026-12-31'
            group by 1, 2, 3, 4
        )
        select s.district, s.provider_org, s.month, count(*) as persons, avg(s.n)::float8 as mean_staff
        from s join hn using (person_id, month) group by 1, 2, 3""",
    "appeals": """
        select district, date_trunc('month', decided_date)::date as month, stage, outcome, count(*)
        from pathway.appeal_fact where decided_date between '2026-01-01' and '2026-12-31'
        group by 1, 2, 3, 4""",
    "pathways": """
        select p.district, g.m::date as month,
               count(distinct p.person_id) as in_pathway,
               count(*) filter (where p.opened_on <= e.as_of
                                  and (p.closed_on is null or p.closed_on > e.as_of)) as open,
               count(*) filter (where p.opened_on <= e.as_of
                                  and (p.closed_on is null or p.closed_on > e.as_of)
                                  and p.planned_end < e.as_of) as overdue,
               count(*) filter (where p.closed_on between g.m::date and e.as_of) as closed,
               count(*) filter (where p.closed_on between g.m::date and e.as_of and p.outcome = 'no_services')
                 as closed_without_services
        from generate_series(date '2026-01-01', date '2026-12-01', interval '1 month') g(m)
        cross join lateral (select (g.m + interval '1 month' - interval '1 day')::date as as_of) e
        join pathway.pathway p on p.opened_on <= e.as_of and (p.closed_on is null or p.closed_on >= g.m::date)
        group by 1, 2""",
    "pathway_union": """
        select x.district, x.month, count(distinct x.person_id) as users_or_pathway from (
            select p.district, g.m::date as month, p.person_id
            from generate_series(date '2026-01-01', date '2026-12-01', interval '1 month') g(m)
            join pathway.pathway p on p.opened_on < g.m + interval '1 month'
             and (p.closed_on is null or p.closed_on >= g.m::date)
            union
            select d.district, g.m::date, d.person_id
            from generate_series(date '2026-01-01', date '2026-12-01', interval '1 month') g(m)
            join pathway.decision_fact d on d.start_date < g.m + interval '1 month'
             and coalesce(d.ended_on, d.end_date, 'infinity') >= g.m::date
        ) x group by 1, 2""",
}


async def raw_figures(pg: asyncpg.Connection) -> JSON:
    return {name: [dict(r) for r in await pg.fetch(sql)] for name, sql in RAW.items()}


def stats_ms(samples: list[float]) -> JSON:
    ms = sorted(s * 1000 for s in samples)
    return {
        "runs": len(ms),
        "min_ms": round(ms[0], 1),
        "median_ms": round(statistics.median(ms), 1),
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


def compare(api: JSON, raw: JSON) -> JSON:
    """Which figures agree between the API's answer and the raw SQL (rounded to 1e-9)."""

    def r(x: Any) -> Any:
        return None if x is None else round(float(x), 9)

    rows = {(row["district"], row["month"]): row for row in api["districts"]}

    def key(row: JSON) -> tuple[str, str]:
        return row["district"], row["month"].strftime("%Y-%m")

    checks = {
        "users": all(rows[key(x)]["users"] == x["users"] for x in raw["users_backlog"]),
        "reassessment_backlog": all(
            (rows[key(x)]["active_decisions"], rows[key(x)]["reassessment_backlog"])
            == (x["active"], x["backlog"])
            for x in raw["users_backlog"]
        ),
        "waits": all(
            r(rows[key(x)]["referral_to_decision"]["median_days"]) == r(x["to_decision"])
            and r(rows[key(x)]["referral_to_first_visit"]["median_days"]) == r(x["to_visit"])
            for x in raw["waits"]
        ),
        "continuity": all(
            (rows[key(x)]["continuity"]["persons"], r(rows[key(x)]["continuity"]["mean_distinct_staff"]))
            == (x["persons"], r(x["mean_staff"]))
            for x in raw["continuity_district"]
        ),
        "continuity_units": {
            (u["district"], u["unit"], u["month"]): (
                u["continuity"]["persons"],
                r(u["continuity"]["mean_distinct_staff"]),
            )
            for u in api["units"]
        }
        == {
            (x["district"], x["provider_org"], x["month"].strftime("%Y-%m")): (
                x["persons"],
                r(x["mean_staff"]),
            )
            for x in raw["continuity_unit"]
        },
        "appeals": sum(a["appeals"] for row in api["districts"] for a in row["appeals"])
        == sum(x["count"] for x in raw["appeals"]),
        "pathways": all(
            (
                rows[key(x)]["persons_in_pathway"],
                rows[key(x)]["pathways_open"],
                rows[key(x)]["pathways_overdue"],
                rows[key(x)]["pathways_closed"],
                rows[key(x)]["closed_without_services"],
            )
            == (x["in_pathway"], x["open"], x["overdue"], x["closed"], x["closed_without_services"])
            for x in raw["pathways"]
        ),
    }
    union = {key(x): x["users_or_pathway"] for x in raw["pathway_union"]}
    checks["pathway_share"] = all(
        row["pathway_share"] is None or r(row["pathway_share"]) == r(row["persons_in_pathway"] / union[k])
        for k, row in rows.items()
    )
    return checks


async def run(stack: DevStack, cfg: Config) -> JSON:
    dsn = stack.database_url.replace("postgresql+asyncpg://", "postgresql://")
    pg = await asyncpg.connect(dsn)
    out: JSON = {}
    try:
        say(f"writing a year of facts for {cfg.persons:,} persons into the pathway schema (COPY)")
        out["rows"] = await load(pg, cfg)
        settings = stack.settings.model_copy(
            update={
                "database_url": stack.database_url,
                "nats_url": stack.nats_url,
                "jwt_jwks_file": stack.issuer.jwks_file,
            }
        )
        app = create_app(settings, clock=FixedClock(NOW))
        headers = {"Authorization": f"Bearer {stack.issuer.token(role=Role.manager)}"}
        params = {"from": "2026-01", "to": "2026-12"}
        async with app.router.lifespan_context(app):
            ctx = app.state.ctx
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(
                transport=transport, base_url="http://pathway", timeout=600
            ) as client:

                async def api() -> JSON:
                    r = await client.get("/v1/indicators", params=params, headers=headers)
                    r.raise_for_status()
                    return dict(r.json())

                say("timing GET /v1/indicators for 2026 (in-process ASGI)")
                out["api_indicators"], answer = await timed(cfg.repeats, api)

            async def computation() -> Any:
                async with ctx.sessionmaker() as session:
                    return await service.indicators(
                        session, first=date(2026, 1, 1), last=date(2026, 12, 1), today=NOW.date(),
                        districts=None, unit=None,
                    )  # fmt: skip

            say("timing the service's computation alone (its SQL and the assembly)")
            out["service_computation"], _ = await timed(cfg.repeats, computation)

        say("timing the same figures in hand-written raw SQL (asyncpg)")

        async def raw_all() -> JSON:
            return await raw_figures(pg)

        out["raw_sql"], raw = await timed(cfg.repeats, raw_all)
        step_times = {}
        for name, sql in RAW.items():

            async def one(sql: str = sql) -> list[asyncpg.Record]:
                return list(await pg.fetch(sql))

            step_times[name], _ = await timed(1, one)
        out["raw_sql_per_statement_ms"] = {k: v["median_ms"] for k, v in step_times.items()}
        out["same_answer"] = compare(answer, raw)
        out["ratio_api_to_raw"] = round(out["api_indicators"]["median_ms"] / out["raw_sql"]["median_ms"], 2)
        out["ratio_service_to_raw"] = round(
            out["service_computation"]["median_ms"] / out["raw_sql"]["median_ms"], 2
        )
        out["district_months"] = len(answer["districts"])
        out["unit_months"] = len(answer["units"])
        nord = next(
            row for row in answer["districts"] if row["district"] == "nord" and row["month"] == "2026-06"
        )
        out["sample_nord_2026_06"] = nord
    finally:
        await pg.close()
    return out


def print_report(cfg: Config, out: JSON) -> None:
    def row(label: str, s: JSON) -> str:
        return (
            f"  {label:<52}{s['median_ms']:>9.1f} ms median   min {s['min_ms']:.1f}   max {s['max_ms']:.1f}"
        )

    rows = out["rows"]
    lines = [
        "",
        f"indicators for {rows['persons']:,} persons, 2026: {rows['visit_reports']:,} visit reports, "
        f"{rows['decisions']:,} decisions, {rows['referrals']:,} referrals, {rows['pathways']:,} pathways, "
        f"{rows['appeals']:,} appeals (loaded in {rows['load_seconds']} s); "
        f"{cfg.repeats} runs after a warm-up",
        row("GET /v1/indicators?from=2026-01&to=2026-12 (ASGI)", out["api_indicators"]),
        row("  the service's computation alone", out["service_computation"]),
        row("raw: the same figures, hand-written SQL (asyncpg)", out["raw_sql"]),
        f"  raw per statement (ms): {out['raw_sql_per_statement_ms']}",
        f"  ratio API / raw: {out['ratio_api_to_raw']}x, service / raw: {out['ratio_service_to_raw']}x "
        f"(target <= {TARGET_RATIO}x)",
        f"  same figures both ways: {out['same_answer']}",
        f"  {out['district_months']} district-months, {out['unit_months']} unit-months",
        "",
    ]
    print("\n".join(lines))


def main(argv: list[str] | None = None) -> int:
    cfg = parse_args(argv)
    facts = run_facts()
    out = on_fresh_infrastructure("pathway", cfg.data_dir, lambda stack: run(stack, cfg))
    print_report(cfg, out)
    write_results("indicators", {"config": {**asdict(cfg), "data_dir": str(cfg.data_dir)}, **facts, **out})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
