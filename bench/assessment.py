"""The assessment service under load: decisions made per second through the API (outbox
included) at several concurrencies, beside a raw asyncpg insert of the very rows the API
wrote; then a bulk import of 20,000 persons with one decision each (and its replay), beside
a raw insert of the import's rows; the service's peak memory in each phase.

    uv run python -m bench.assessment            # (make bench-assessment)
    uv run python -m bench.assessment --help     # sizes, concurrency, the whole stack

By default only PostgreSQL, NATS and assessment run (the consumers of its events would
compete for the same two cores); `--full-stack` starts the other services and the gateway
too. Prints figures and writes them to bench/results/assessment-<timestamp>.json. Never
asserts a timing: the targets are printed beside the figures, for people to judge.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import sys
import time
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from bench.api import DISTRICT, PROVIDER_A, PROVIDER_B, client, configure_municipality, decision_maker, expect
from bench.procwatch import CpuPhase, ProcessWatch, machine_busy_percent
from bench.rows import Templates, decisions_baseline, import_baseline, read_templates
from bench.skeleton import ROOT, Budget, fmt, machine, say, source_version
from bench.stats import LoadResult, Summary, run_closed_loop
from hjemflyt.shared.contracts.events import PROVIDER_REGISTERED, ProviderKind, ProviderRegistered
from hjemflyt.shared.demo import decision_body
from hjemflyt.shared.devstack import DevStack
from hjemflyt.shared.identity import synthetic_identity_numbers
from hjemflyt.shared.platform import embedded
from hjemflyt.shared.platform.auth import Role
from hjemflyt.shared.platform.bus import Bus
from hjemflyt.shared.platform.settings import Settings

RESULTS_DIR = Path(__file__).resolve().parent / "results"
JSON = dict[str, Any]
TABLES = ("person", "decision", "decision_service", "measure", "decision_version", "outbox", "access_log")
TARGETS = {"decisions_per_s": 300, "decision_p99_ms": 100, "import_persons_per_s": 2000, "rss_mb": 200}
START = date(2026, 12, 1)


@dataclass(frozen=True)
class Config:
    persons: int = 2000
    decisions: int = 2000
    sequential_decisions: int = 200
    concurrency: tuple[int, ...] = (4, 16)
    warmup: int = 100
    import_persons: int = 20000
    batch_size: int = 1000
    import_concurrency: int = 1
    replay: bool = True
    full_stack: bool = False
    data_dir: Path = ROOT / ".hjemflyt" / "bench-assessment"
    phase_limit_s: float = 60.0
    budget_s: float = 400.0


def parse_args(argv: list[str] | None) -> Config:
    d = Config()
    p = argparse.ArgumentParser(prog="python -m bench.assessment", description=__doc__.split("\n\n")[0])
    p.add_argument("--persons", type=int, default=d.persons, help="persons the decisions are for")
    p.add_argument("--decisions", type=int, default=d.decisions, help="decisions per concurrency level")
    p.add_argument("--sequential-decisions", type=int, default=d.sequential_decisions, help="with one client")
    p.add_argument(
        "--concurrency",
        default=",".join(map(str, d.concurrency)),
        help="comma-separated concurrent clients, one phase each (default %(default)s)",
    )
    p.add_argument("--warmup", type=int, default=d.warmup, help="unmeasured decisions first")
    p.add_argument("--import-persons", type=int, default=d.import_persons, help="persons in the bulk import")
    p.add_argument("--batch-size", type=int, default=d.batch_size, help="persons per import request")
    p.add_argument("--import-concurrency", type=int, default=d.import_concurrency, help="requests in flight")
    p.add_argument("--no-replay", action="store_true", help="do not send the import a second time")
    p.add_argument(
        "--full-stack", action="store_true", help="run pathway, budget, notifications, gateway too"
    )
    p.add_argument("--data-dir", type=Path, default=d.data_dir, help="deleted at start")
    p.add_argument("--phase-limit", type=float, default=d.phase_limit_s, help="seconds per load phase")
    p.add_argument("--budget", type=float, default=d.budget_s, help="seconds for the whole run")
    a = p.parse_args(argv)
    return Config(
        persons=a.persons,
        decisions=a.decisions,
        sequential_decisions=a.sequential_decisions,
        concurrency=tuple(int(c) for c in a.concurrency.split(",") if c.strip()),
        warmup=a.warmup,
        import_persons=a.import_persons,
        batch_size=a.batch_size,
        import_concurrency=a.import_concurrency,
        replay=not a.no_replay,
        full_stack=a.full_stack,
        data_dir=a.data_dir.resolve(),
        phase_limit_s=a.phase_limit,
        budget_s=a.budget,
    )


# ----------------------------------------------------------------------------- the stack


def start_stack(cfg: Config) -> DevStack:
    stack = DevStack(cfg.data_dir, Settings(gateway_port=0, database_url="", nats_url=""))
    if cfg.full_stack:
        stack.start()
        return stack
    try:
        stack.start_infrastructure()
        stack.migrate()
        stack.issuer.ensure_keys()
        stack.ports["assessment"] = embedded.free_port()
        stack.log_dir.mkdir(parents=True, exist_ok=True)
        stack.start_service("assessment")
        stack.wait_ready(("assessment",))
    except BaseException:
        stack.stop()
        raise
    return stack


async def announce_providers(stack: DevStack) -> None:
    """As the notifications service announces its registry (assessment keeps a read model)."""
    settings = stack.settings.model_copy(update={"nats_url": stack.nats_url})
    bus = Bus(settings, name="bench-notifications")
    await bus.connect()
    try:
        await bus.ensure_stream("notifications")
        for org, services in ((PROVIDER_A, ["1", "15"]), (PROVIDER_B, ["1"])):
            event_id = str(uuid.uuid4())
            event = {
                "specversion": "1.0",
                "id": event_id,
                "source": "/hjemflyt/notifications",
                "type": PROVIDER_REGISTERED.name,
                "subject": org,
                "time": datetime.now(UTC).isoformat(),
                "datacontenttype": "application/json",
                "dataschema": PROVIDER_REGISTERED.dataschema,
                "tenant": settings.tenant,
                "data": ProviderRegistered(
                    provider_org=org,
                    name=f"Bench provider {org}",
                    kind=ProviderKind.private,
                    service_codes=services,
                    districts=[DISTRICT],
                    version=1,
                ).model_dump(mode="json"),
            }
            await bus.js.publish(
                PROVIDER_REGISTERED.subject(settings.bus_namespace, settings.tenant),
                json.dumps(event).encode(),
                headers={"Nats-Msg-Id": event_id},
            )
    finally:
        await bus.close()


async def configure(stack: DevStack, cfg: Config, integration: httpx.AsyncClient) -> float:
    """The Oslo preset, Frogner on the trust model, two providers; seconds until assessment
    knows the providers."""
    if cfg.full_stack:
        return await configure_municipality(integration, 30)
    t0 = time.perf_counter()
    expect(await integration.post("/v1/config/presets/oslo"), 200)
    expect(
        await integration.put(
            f"/v1/districts/{DISTRICT}",
            json={"name": "Bydel Frogner", "organisation_model": "trust_model", "case_office": "Forvaltning"},
        ),
        200,
    )
    await announce_providers(stack)
    while time.perf_counter() - t0 < 30:
        r = expect(await integration.get("/v1/providers"), 200)
        if {p["provider_org"] for p in r.json()} >= {PROVIDER_A, PROVIDER_B}:
            return time.perf_counter() - t0
        await asyncio.sleep(0.05)
    raise RuntimeError("assessment did not learn of the providers in 30 s")


# ----------------------------------------------------------------------------- phases


@dataclass
class Phase:
    name: str
    load: LoadResult
    cpu: CpuPhase
    memory: JSON
    rows: dict[str, int] = field(default_factory=dict)
    extra: JSON = field(default_factory=dict)

    @property
    def summary(self) -> Summary:
        return self.load.summary

    def as_dict(self) -> JSON:
        return {
            "name": self.name,
            "requests": self.summary.as_dict(),
            "stopped_by_time_limit": self.load.stopped_by_time_limit,
            "first_errors": self.load.errors[:5],
            "cpu": self.cpu.as_dict(),
            "peak_memory": self.memory,
            "rows_written": self.rows,
            **self.extra,
        }


async def count_rows(pg: asyncpg.Pool) -> dict[str, int]:
    return {t: int(await pg.fetchval(f"SELECT count(*) FROM assessment.{t}")) for t in TABLES}  # noqa: S608


async def measured(
    name: str,
    pg: asyncpg.Pool,
    pids: dict[str, int],
    run: Any,
) -> Phase:
    """Runs `run()` (a coroutine function returning a LoadResult) with CPU, peak memory and
    rows written recorded around it."""
    watch = ProcessWatch(pids, solo=frozenset({"bench-client"}))
    watch.start()
    before = await count_rows(pg)
    cpu = CpuPhase(watch).begin()
    load = await run()
    cpu.end()
    watch.stop()
    after = await count_rows(pg)
    return Phase(name, load, cpu, watch.memory(), {t: after[t] - before[t] for t in TABLES})


def import_items(numbers: list[str], start: int, count: int, system: str, with_decision: bool) -> list[JSON]:
    items = []
    for i in range(start, start + count):
        item: JSON = {
            "source_system": system,
            "external_id": f"P{i}",
            "identity_number": numbers[i],
            "name": f"Bench Person {i}",
            "address": f"Benchveien {i % 200 + 1}, 0250 Oslo",
            "phone": "41234567",
            "district": DISTRICT,
            "decisions": [],
        }
        if with_decision:
            body = decision_body("", [("home-nursing", "24", PROVIDER_A)], start=START)
            for key in ("person_id", "make"):
                body.pop(key)
            item["decisions"] = [{"external_id": f"V{i}", "decision_date": "2026-11-02", **body}]
        items.append(item)
    return items


def batches(items: list[JSON], size: int) -> list[bytes]:
    """Serialised before the clock starts: the client's JSON work is not the service's."""
    return [json.dumps({"items": items[i : i + size]}).encode() for i in range(0, len(items), size)]


async def post_batches(
    integration: httpx.AsyncClient, bodies: list[bytes], concurrency: int, time_limit_s: float
) -> tuple[LoadResult, dict[str, int]]:
    outcomes: dict[str, int] = {}

    async def one(i: int) -> list[JSON]:
        r = await integration.post(
            "/v1/imports/persons", content=bodies[i], headers={"Content-Type": "application/json"}
        )
        items: list[JSON] = expect(r, 200).json()["items"]
        for item in items:
            outcomes[item["status"]] = outcomes.get(item["status"], 0) + 1
        return items

    load = await run_closed_loop(len(bodies), concurrency, one, time_limit_s=time_limit_s)
    return load, outcomes


async def outbox_drain(pg: asyncpg.Pool, limit_s: float) -> float | None:
    """Seconds until the relay has published every outbox row (None: not within the limit)."""
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < limit_s:
        if not await pg.fetchval("SELECT count(*) FROM assessment.outbox WHERE published_at IS NULL"):
            return time.perf_counter() - t0
        await asyncio.sleep(0.1)
    return None


# ----------------------------------------------------------------------------- report


def row(label: str, s: Summary, unit: str) -> str:
    errors = f", errors={s.errors}" if s.errors else ""
    return (
        f"  {label:<46} {fmt(s.rate, '8.1f')} {unit:<12} p50 {fmt(s.p50_ms, '7.2f')}"
        f"  p95 {fmt(s.p95_ms, '7.2f')}  p99 {fmt(s.p99_ms, '7.2f')}  max {fmt(s.max_ms, '7.2f')} ms"
        f"  (n={s.count}{errors})"
    )


def cpu_line(cpu: CpuPhase, units: int, unit: str) -> str:
    n = max(units, 1)
    parts = ", ".join(
        f"{k} {1000 * v / n:.2f} ms ({100 * v / cpu.wall_s:.0f}% of a core)"
        for k, v in sorted(cpu.seconds.items(), key=lambda kv: -kv[1])
        if v >= 0.01
    )
    line = f"    CPU per {unit}: {parts}; machine idle {cpu.machine.get('idle', 0):.0f}%"
    if cpu.untracked_percent > 20:
        line += (
            f"\n    NOTE: processes outside the benchmark used {cpu.untracked_percent:.0f}% of a core"
            " meanwhile: these figures are disturbed"
        )
    return line


def memory_line(memory: JSON) -> str:
    services = [k for k in memory if k not in ("postgres", "nats", "bench-client")]
    return "    peak RSS: " + ", ".join(f"{k} {memory[k]['peak_rss_mb']:.0f} MB" for k in services)


def print_report(r: JSON, phases: dict[str, Phase], baselines: dict[str, LoadResult]) -> None:
    rule = "=" * 128
    m = r["machine"]
    say("")
    say(rule)
    say(
        f"hjemflyt assessment benchmark, {r['started_at']}: {m['cpus']} CPUs ({m['cpu_model']}), Python"
        f" {m['python']}; {'whole stack' if r['config']['full_stack'] else 'assessment alone'};"
        f" stack started in {r['stack_startup_s']:.1f} s"
    )
    if (busy := r.get("machine_busy_before_start_percent")) is not None and busy > 10:
        say(f"NOTE: the machine was already {busy:.0f}% busy before the run; the figures are disturbed")
    t = TARGETS
    say(rule)
    say(f"Decisions made through the API, POST /v1/decisions make=true (target >= {t['decisions_per_s']}/s,")
    say(f"p99 <= {t['decision_p99_ms']} ms, <= {t['rss_mb']} MB resident)")
    for key, phase in phases.items():
        if not key.startswith("decisions"):
            continue
        say(row(phase.name, phase.summary, "decisions/s"))
        say(cpu_line(phase.cpu, phase.summary.count, "decision"))
        say(memory_line(phase.memory))
    if "decisions" in baselines:
        b = baselines["decisions"].summary
        say(row(f"raw asyncpg, the same rows, C={r['baseline_concurrency']}", b, "tx/s"))
        per = r["rows_per_decision"]
        say("    rows per decision (measured from the API, inserted by the baseline): " + per_text(per))
        best = max((p for k, p in phases.items() if k.startswith("decisions")), key=lambda p: p.summary.rate)
        say(
            f"    the API reaches {fmt(100 * best.summary.rate / b.rate if b.rate else None, '.0f')}%"
            " of the raw rate"
            f" ({best.name}); raw p50 {fmt(b.p50_ms, '.2f')} ms"
        )
    say(rule)
    say(f"Bulk import, POST /v1/imports/persons (target >= {t['import_persons_per_s']} persons/s)")
    for key, phase in phases.items():
        if key not in ("import", "replay"):
            continue
        persons = phase.extra["persons"]
        rate = persons / phase.load.elapsed_s if phase.load.elapsed_s else float("nan")
        say(
            f"  {phase.name:<46} {fmt(rate, '8.0f')} persons/s  ({persons} persons in"
            f" {phase.load.elapsed_s:.2f} s, {phase.extra['outcomes']})"
        )
        say(row("    per request (a batch)", phase.summary, "batches/s"))
        say(cpu_line(phase.cpu, persons, "person"))
        say(memory_line(phase.memory))
        if phase.extra.get("outbox_drained_after_s") is not None or key == "import":
            say(
                f"    outbox relay published the import's {phase.rows.get('outbox', 0)} events"
                f" {fmt(phase.extra.get('outbox_drained_after_s'), '.1f')} s after the last batch returned"
            )
    for method in ("executemany", "copy"):
        raw = baselines.get(f"import_{method}")
        if raw is None:
            continue
        persons = r["config"]["import_persons"]
        say(
            f"  {'raw asyncpg, the same rows, ' + method:<46}"
            f" {fmt(persons / raw.elapsed_s if raw.elapsed_s else float('nan'), '8.0f')} persons/s"
            f"  ({persons} persons in {raw.elapsed_s:.2f} s, {len(raw.latencies_ms)} transactions)"
        )
    if "rows_per_person" in r:
        say(
            "    rows per person (measured from the API, inserted by the baselines): "
            + per_text(r["rows_per_person"])
        )
    say(rule)
    say(f"Figures written to {r['results_file']}")


def per_text(per: dict[str, float]) -> str:
    return ", ".join(f"{k} {v:g}" for k, v in per.items() if v)


# ----------------------------------------------------------------------------- main


async def run(stack: DevStack, cfg: Config, budget: Budget, facts: JSON) -> JSON:
    if stack.postgres is None:
        raise RuntimeError("the benchmark needs the embedded PostgreSQL")
    dsn = stack.postgres.raw_dsn
    pids = {name: proc.pid for name, proc in stack.procs.items()}
    pids |= {"postgres": stack.postgres.pid or 0, "bench-client": os.getpid()}
    if stack.nats is not None:
        pids["nats"] = stack.nats.pid or 0
    # Configuration goes through the gateway when there is one; the load goes to assessment.
    base = stack.base_url if cfg.full_stack else stack.service_url("assessment")
    issuer = stack.issuer
    officer_token = issuer.token(role=Role.case_officer, districts=[DISTRICT], subject="bench-officer")
    phases: dict[str, Phase] = {}
    baselines: dict[str, LoadResult] = {}
    top = max((*cfg.concurrency, 1))
    pg = await asyncpg.create_pool(dsn, min_size=1, max_size=3)
    try:
        async with (
            client(base, issuer.token(role=Role.integration, subject="bench-case-system"), 4) as integration,
            client(stack.service_url("assessment"), officer_token, top) as direct,
        ):
            facts["configure_s"] = round(await configure(stack, cfg, integration), 3)
            say(f"configured; assessment knew the providers after {facts['configure_s']} s")
            direct_import = client(
                stack.service_url("assessment"),
                issuer.token(role=Role.integration, subject="bench-case-system"),
                max(cfg.import_concurrency, 1),
            )
            async with direct_import as importer:
                # Persons for the decisions, registered through the import (no decisions).
                numbers = list(synthetic_identity_numbers(cfg.persons + cfg.import_persons, seed=2026))
                load, _ = await post_batches(
                    importer,
                    batches(import_items(numbers, 0, cfg.persons, "bench-setup", False), 1000),
                    1,
                    60,
                )
                person_ids = [item["person_id"] for items in load.results.values() for item in items]
                if len(person_ids) != cfg.persons:
                    raise RuntimeError(f"setup registered {len(person_ids)} persons: {load.errors[:3]}")

                await run_closed_loop(
                    cfg.warmup, top, decision_maker(direct, "/v1/decisions", person_ids, 0), time_limit_s=20
                )
                offset = cfg.warmup
                levels = [(1, cfg.sequential_decisions)] if cfg.sequential_decisions else []
                levels += [(c, cfg.decisions) for c in cfg.concurrency if c > 1]
                for c, n in levels:
                    maker = decision_maker(direct, "/v1/decisions", person_ids, offset)

                    async def load_decisions(n: int = n, c: int = c, maker: Any = maker) -> LoadResult:
                        return await run_closed_loop(n, c, maker, time_limit_s=budget.cap(cfg.phase_limit_s))

                    phase = await measured(f"decisions, C={c}", pg, pids, load_decisions)
                    phases[f"decisions_c{c}"] = phase
                    offset += n
                    say(row(phase.name, phase.summary, "decisions/s"))
                    await outbox_drain(pg, budget.cap(30))

                # The rows one decision wrote: the last one of the sequential phase ran alone.
                main_phase = max(
                    (p for k, p in phases.items() if k.startswith("decisions")), key=lambda p: p.summary.count
                )
                per_decision = {t: main_phase.rows[t] / max(main_phase.summary.count, 1) for t in TABLES}
                facts["rows_per_decision"] = {t: round(v, 2) for t, v in per_decision.items()}
                last = await run_closed_loop(
                    1, 1, decision_maker(direct, "/v1/decisions", person_ids, offset), time_limit_s=10
                )
                decision_templates = await read_templates(
                    pg,
                    decision_ids=[uuid.UUID(last.results[0])],
                    outbox_rows=round(per_decision["outbox"]),
                    access_rows=round(per_decision["access_log"]),
                )
                facts["decision_template_rows"] = decision_templates.counts()

                # The bulk import: persons with one decision each, then the same batches again.
                items = import_items(numbers, cfg.persons, cfg.import_persons, "bench-gerica", True)
                bodies = batches(items, cfg.batch_size)
                facts["import_body_bytes"] = {
                    "batches": len(bodies),
                    "mean": round(sum(map(len, bodies)) / max(len(bodies), 1)),
                    "max": max(map(len, bodies), default=0),
                }
                del items
                outcomes: dict[str, int] = {}

                async def load_import() -> LoadResult:
                    nonlocal outcomes
                    load, outcomes = await post_batches(
                        importer, bodies, cfg.import_concurrency, budget.cap(cfg.phase_limit_s * 2)
                    )
                    return load

                phase = await measured(
                    f"import, {cfg.batch_size} per batch, C={cfg.import_concurrency}", pg, pids, load_import
                )
                phase.extra = {"persons": sum(outcomes.values()), "outcomes": outcomes}
                phase.extra["outbox_drained_after_s"] = await outbox_drain(pg, budget.cap(90))
                phases["import"] = phase
                say(f"  import: {phase.extra['persons']} persons in {phase.load.elapsed_s:.2f} s {outcomes}")
                last_items = phase.load.results[max(phase.load.results)] if phase.load.results else []
                created = [i for i in last_items if i["status"] == "created"]
                per_person = {t: phase.rows[t] / max(phase.extra["persons"], 1) for t in TABLES}
                facts["rows_per_person"] = {t: round(v, 2) for t, v in per_person.items()}
                import_templates = Templates()
                if created:
                    import_templates = await read_templates(
                        pg,
                        decision_ids=[uuid.UUID(created[-1]["decisions"][0]["decision_id"])],
                        person_ids=[uuid.UUID(created[-1]["person_id"])],
                        outbox_rows=round(per_person["outbox"]),
                        access_rows=round(per_person["access_log"]),
                    )
                facts["import_template_rows"] = import_templates.counts()

                if cfg.replay:

                    async def load_replay() -> LoadResult:
                        nonlocal outcomes
                        load, outcomes = await post_batches(
                            importer, bodies, cfg.import_concurrency, budget.cap(cfg.phase_limit_s * 2)
                        )
                        return load

                    phase = await measured("the same import again (a replay)", pg, pids, load_replay)
                    phase.extra = {"persons": sum(outcomes.values()), "outcomes": outcomes}
                    phases["replay"] = phase
                    say(
                        f"  replay: {phase.extra['persons']} persons"
                        f" in {phase.load.elapsed_s:.2f} s {outcomes}"
                    )
    finally:
        await pg.close()

    c = max(cfg.concurrency, default=1)
    facts["baseline_concurrency"] = c
    baselines["decisions"] = await decisions_baseline(
        dsn, decision_templates, count=cfg.decisions, concurrency=c, time_limit_s=budget.cap(30, reserve=10)
    )
    say(row(f"raw asyncpg, the same rows, C={c}", baselines["decisions"].summary, "tx/s"))
    for name, result in baselines.items():
        if result.errors:
            say(f"  NOTE: the {name} baseline had {len(result.errors)} errors, e.g. {result.errors[0]}")
    for method in ("executemany", "copy") if import_templates.rows else ():
        key = f"import_{method}"
        baselines[key] = await import_baseline(
            dsn,
            import_templates,
            persons=cfg.import_persons,
            batch_size=cfg.batch_size,
            time_limit_s=budget.cap(60, reserve=10),
            method=method,
        )
        if baselines[key].errors:
            say(f"  NOTE: the {method} import baseline failed: {baselines[key].errors[0]}")

    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    results_file = RESULTS_DIR / f"assessment-{stamp}.json"
    report: JSON = {
        **facts,
        "targets": TARGETS,
        "phases": {k: p.as_dict() for k, p in phases.items()},
        "baseline_asyncpg_decisions": baselines["decisions"].summary.as_dict(),
        "baseline_asyncpg_import": {
            key.removeprefix("import_"): {
                "elapsed_s": round(b.elapsed_s, 3),
                "transactions": b.summary.count,
                "persons_per_second": round(cfg.import_persons / b.elapsed_s, 1) if b.elapsed_s else None,
                "errors": b.errors[:3],
            }
            for key, b in baselines.items()
            if key.startswith("import_")
        },
        "results_file": str(results_file.relative_to(ROOT)),
    }
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    results_file.write_text(json.dumps(report, indent=2, default=str) + "\n")
    print_report(report, phases, baselines)
    return report


def main(argv: list[str] | None = None) -> int:
    cfg = parse_args(argv)
    budget = Budget(cfg.budget_s)
    facts: JSON = {
        "benchmark": "assessment",
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "source": source_version(),
        "hjemflyt_settings_in_environment": sorted(k for k in os.environ if k.startswith("HJEMFLYT_")),
        "config": {k: str(v) if isinstance(v, Path) else v for k, v in asdict(cfg).items()},
    }
    busy = machine_busy_percent(1.0)
    facts["machine_busy_before_start_percent"] = None if busy is None else round(busy, 1)
    if busy is not None and busy > 10:
        say(f"NOTE: the machine is {busy:.0f}% busy before the benchmark starts; expect disturbed figures")
    shutil.rmtree(cfg.data_dir, ignore_errors=True)
    say(
        f"starting {'the stack' if cfg.full_stack else 'PostgreSQL, NATS and assessment'}"
        f" in {cfg.data_dir} ..."
    )
    t0 = time.perf_counter()
    stack = start_stack(cfg)
    facts["stack_startup_s"] = round(time.perf_counter() - t0, 3)
    try:
        try:
            import uvloop
        except ImportError:
            asyncio.run(run(stack, cfg, budget, facts))
        else:
            uvloop.run(run(stack, cfg, budget, facts))
    finally:
        stack.stop()
        say(f"stack stopped; whole run {time.perf_counter() - budget.start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
