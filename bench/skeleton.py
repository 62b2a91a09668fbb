"""The walking skeleton under load: decisions per second, end-to-end delivery, memory, and a
raw asyncpg / nats-py baseline measured on the same servers in the same run.

    uv run python -m bench.skeleton            # or: make bench
    uv run python -m bench.skeleton --help     # smaller or larger runs

Prints figures and writes them to bench/results/skeleton-<timestamp>.json. Never asserts a
timing: what is fast enough is for people to judge, with the baseline next to it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg

from bench.api import (
    DISTRICT,
    PROVIDER_A,
    client,
    configure_municipality,
    decision_maker,
    person_registrar,
    read_inbox,
)
from bench.baselines import NatsBaseline, PostgresBaseline, nats_baseline, postgres_baseline
from bench.observe import (
    ActivitySampler,
    Delivery,
    count_orders,
    order_latencies,
    wait_pipeline_drained,
    watch_delivery,
)
from bench.procwatch import CpuPhase, ProcessWatch, machine_busy_percent
from bench.stats import LoadResult, Summary, run_closed_loop, summarise
from hjemflyt.shared.devstack import DevStack
from hjemflyt.shared.identity import synthetic_identity_numbers
from hjemflyt.shared.platform.auth import Role
from hjemflyt.shared.platform.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = Path(__file__).resolve().parent / "results"
JSON = dict[str, Any]

TAIL_RESERVE_S = 25.0  # kept back from the load phases for the baselines and stopping the stack


@dataclass(frozen=True)
class Config:
    persons: int = 2000
    decisions: int = 2000
    gateway_decisions: int = 500
    sequential_decisions: int = 100
    concurrency: int = 16
    nats_messages: int = 2000
    warmup: int = 50
    data_dir: Path = ROOT / ".hjemflyt" / "bench"
    phase_limit_s: float = 45.0  # no new request starts after this long in one phase
    wait_limit_s: float = 30.0  # longest wait for deliveries or for the pipeline to drain
    budget_s: float = 170.0  # the whole run; phases are cut short rather than overrun it


def parse_args(argv: list[str] | None) -> Config:
    d = Config()
    p = argparse.ArgumentParser(prog="python -m bench.skeleton", description=__doc__.split("\n\n")[0])
    p.add_argument("--persons", type=int, default=d.persons, help="persons registered in setup")
    p.add_argument("--decisions", type=int, default=d.decisions, help="decisions straight to assessment")
    p.add_argument("--gateway-decisions", type=int, default=d.gateway_decisions, help="through the gateway")
    p.add_argument("--sequential-decisions", type=int, default=d.sequential_decisions, help="one client")
    p.add_argument("--concurrency", type=int, default=d.concurrency, help="concurrent clients")
    p.add_argument("--nats-messages", type=int, default=d.nats_messages, help="raw JetStream round trips")
    p.add_argument("--warmup", type=int, default=d.warmup, help="unmeasured decisions per path first")
    p.add_argument("--data-dir", type=Path, default=d.data_dir, help="deleted at start")
    p.add_argument("--phase-limit", type=float, default=d.phase_limit_s, help="seconds per load phase")
    p.add_argument("--wait-limit", type=float, default=d.wait_limit_s, help="seconds to wait for delivery")
    p.add_argument("--budget", type=float, default=d.budget_s, help="seconds for the whole run")
    a = p.parse_args(argv)
    return Config(
        persons=a.persons,
        decisions=a.decisions,
        gateway_decisions=a.gateway_decisions,
        sequential_decisions=a.sequential_decisions,
        concurrency=a.concurrency,
        nats_messages=a.nats_messages,
        warmup=a.warmup,
        data_dir=a.data_dir.resolve(),
        phase_limit_s=a.phase_limit,
        wait_limit_s=a.wait_limit,
        budget_s=a.budget,
    )


@dataclass
class Budget:
    total_s: float
    start: float = field(default_factory=time.perf_counter)

    def cap(self, seconds: float, reserve: float = TAIL_RESERVE_S) -> float:
        """At most `seconds`, and never into the last `reserve` seconds of the run."""
        left = self.total_s - (time.perf_counter() - self.start)
        return max(1.0, min(seconds, left - reserve))


def say(message: str) -> None:
    print(message, flush=True)


# ----------------------------------------------------------------------------- decision phases


@dataclass
class DecisionPhase:
    name: str
    concurrency: int
    load: LoadResult
    cpu: CpuPhase
    delivery: Delivery
    activity: JSON | None = None

    @property
    def summary(self) -> Summary:
        return self.load.summary

    def as_dict(self) -> JSON:
        return {
            "name": self.name,
            "concurrency": self.concurrency,
            "requests": self.summary.as_dict(),
            "stopped_by_time_limit": self.load.stopped_by_time_limit,
            "first_errors": self.load.errors[:5],
            "delivery": self.delivery.as_dict(),
            "cpu": self.cpu.as_dict(),
            "postgres_connections_by_state": self.activity,
        }


async def decision_phase(
    name: str,
    count: int,
    concurrency: int,
    decide: Callable[[int], Awaitable[str]],
    *,
    pg: asyncpg.Pool,
    watch: ProcessWatch,
    time_limit_s: float,
    wait_limit_s: float,
    sample_activity: bool = False,
) -> DecisionPhase:
    """Make `count` decisions with `concurrency` clients and wait until all their orders are in
    the provider's inbox. The delivery watcher runs during the load, so a pipeline that keeps
    up is timed exactly."""
    load_done, sampler_stop = asyncio.Event(), asyncio.Event()
    returned: dict[uuid.UUID, float] = {}
    sampler = ActivitySampler(pg)
    sampler_task = asyncio.create_task(sampler.run(sampler_stop)) if sample_activity else None
    cpu = CpuPhase(watch).begin()
    start = time.perf_counter()
    watcher = asyncio.create_task(watch_delivery(pg, lambda: list(returned), load_done, start, wait_limit_s))

    async def decide_and_note(i: int) -> str:
        decision_id = await decide(i)
        returned[uuid.UUID(decision_id)] = time.time()
        return decision_id

    load = await run_closed_loop(count, concurrency, decide_and_note, time_limit_s=time_limit_s)
    last_post = time.perf_counter()
    cpu.end()
    delivered_at_end = await count_orders(pg, list(returned))
    sampler_stop.set()
    if sampler_task is not None:
        await sampler_task
    load_done.set()
    after = await watcher
    delivery = Delivery(
        expected=len(returned),
        delivered=await count_orders(pg, list(returned)),
        delivered_when_load_ended=delivered_at_end,
        all_delivered_after_s=after,
        after_last_post_s=None if after is None else after - (last_post - start),
    )
    delivery.per_order_ms = summarise(await order_latencies(pg, returned), after or 0.0)
    phase = DecisionPhase(
        name, concurrency, load, cpu, delivery, sampler.as_dict() if sample_activity else None
    )
    say(latency_row(name, phase.summary, "decisions/s"))
    return phase


# ----------------------------------------------------------------------------- report


def fmt(value: float | None, spec: str = ".1f") -> str:
    return "-" if value is None or value != value else format(value, spec)  # NaN != NaN


def latency_row(label: str, s: Summary, unit: str) -> str:
    errors = f", errors={s.errors}" if s.errors else ""
    return (
        f"  {label:<42} {fmt(s.rate, '7.1f')} {unit:<11} p50 {fmt(s.p50_ms, '7.2f')}"
        f"  p95 {fmt(s.p95_ms, '7.2f')}  p99 {fmt(s.p99_ms, '7.2f')}  max {fmt(s.max_ms, '7.2f')} ms"
        f"  (n={s.count}{errors})"
    )


def cpu_lines(cpu: CpuPhase, count: int) -> list[str]:
    n = max(count, 1)
    per_process = ", ".join(
        f"{k} {1000 * v / n:.1f} ms ({100 * v / cpu.wall_s:.0f}%)"
        for k, v in sorted(cpu.seconds.items(), key=lambda kv: -kv[1])
        if v >= 0.01
    )
    m = cpu.machine
    machine = ", ".join(f"{k} {m[k]:.0f}%" for k in ("user", "system", "iowait", "steal", "idle") if k in m)
    return [
        f"    CPU per decision (and share of one core): {per_process}",
        f"    whole machine: {machine}; processes outside the stack {cpu.untracked_percent:.0f}% of one core",
    ]


def print_report(
    r: JSON, phases: dict[str, DecisionPhase], persons: Summary, pg_base: PostgresBaseline, nats: NatsBaseline
) -> None:
    main, sequential, gateway = phases["direct"], phases.get("sequential"), phases.get("gateway")
    gateway_sequential = phases.get("gateway_sequential")
    rule = "=" * 126
    m = r["machine"]
    say("")
    say(rule)
    say(
        f"hjemflyt skeleton benchmark, {r['started_at']}: {m['cpus']} CPUs ({m['cpu_model']}), Python"
        f" {m['python']}, PostgreSQL {r['database']['postgres_version']}, NATS {nats.server_version};"
        f" stack started in {r['stack_startup_s']:.1f} s"
    )
    if (busy := r.get("machine_busy_before_start_percent")) is not None and busy > 10:
        say(
            f"NOTE: the machine was already {busy:.0f}% busy before the run;"
            " the figures are disturbed by that"
        )
    say(rule)
    say("Through the API (closed loop; latency per request as the client saw it)")
    say(latency_row("persons registered, assessment direct", persons, "persons/s"))
    for phase in phases.values():
        say(latency_row(phase.name, phase.summary, "decisions/s"))
    say("Raw baselines on the same servers, same run")
    say(latency_row(f"asyncpg: the same rows, 1 tx/decision, C={main.concurrency}", pg_base.summary, "tx/s"))
    say(latency_row("JetStream publish -> ack, one at a time", nats.publish_ack, "msgs/s"))
    say(latency_row("JetStream publish -> pull consumer receives", nats.latency, "msgs/s"))
    say("Comparisons")
    say(
        f"  decisions through the API reach {fmt(100 * main.summary.rate / pg_base.summary.rate, '.0f')}% of"
        f" the raw asyncpg rate; their p50 is {fmt(main.summary.p50_ms / pg_base.summary.p50_ms, '.0f')}x"
        " the raw p50"
    )
    if gateway is not None:
        say(
            f"  the gateway adds {fmt(gateway.summary.p50_ms - main.summary.p50_ms, '.1f')} ms at p50"
            f" and changes throughput by {fmt(100 * (gateway.summary.rate / main.summary.rate - 1), '+.0f')}%"
        )
    if sequential is not None:
        say(f"  one client alone: p50 {fmt(sequential.summary.p50_ms, '.1f')} ms per decision (no queueing)")
    if sequential is not None and gateway_sequential is not None:
        say(
            "  one client alone through the gateway:"
            f" p50 {fmt(gateway_sequential.summary.p50_ms - sequential.summary.p50_ms, '+.1f')} ms"
        )
    say("End to end: POST returned -> order committed in the provider's inbox")
    for phase in phases.values():
        d = phase.delivery
        if d.all_delivered_after_s is not None:
            say(
                f"  {phase.name}: all {d.delivered} orders delivered after {d.all_delivered_after_s:.2f} s"
                f" ({fmt(d.rate)} orders/s), {fmt(d.after_last_post_s, '.2f')} s after the last POST returned"
            )
        else:
            say(f"  {phase.name}: only {d.delivered} of {d.expected} orders delivered within the wait limit")
        if d.per_order_ms is not None and d.per_order_ms.count:
            s = d.per_order_ms
            backlog = d.delivered - d.delivered_when_load_ended
            drain = (
                f"; backlog of {backlog} at the last POST drained at {fmt(d.drain_rate)}/s" if backlog else ""
            )
            say(
                f"    per order p50 {fmt(s.p50_ms, '.0f')}  p95 {fmt(s.p95_ms, '.0f')}"
                f"  p99 {fmt(s.p99_ms, '.0f')}  max {fmt(s.max_ms, '.0f')} ms{drain}"
            )
    drained = r["pipeline_after_direct_decisions"]
    say(
        f"  all outboxes and consumers idle {fmt(drained.get('drained_after_s'), '.2f')} s after the direct"
        " phase's last order"
    )
    inbox = r["inbox_read"]
    say(
        f"  the provider's whole inbox read through the gateway: {inbox['orders']} orders in"
        f" {inbox['seconds']:.2f} s (pages of {inbox['page_size']})"
    )
    say("Where the time goes")
    for shown in (main, sequential, gateway):
        if shown is None:
            continue
        say(f"  {shown.name}:")
        for line in cpu_lines(shown.cpu, shown.summary.count):
            say(line)
        if shown.activity:
            top = shown.activity.get("hjemflyt-assessment", {})
            states = ", ".join(f"{state} {n}" for state, n in list(top.items())[:4])
            say(f"    assessment's PostgreSQL connections, average number by state: {states}")
    say("Peak memory (RSS of the process and its children)")
    mem = r["memory"]
    say("  " + ", ".join(f"{k} {v['peak_rss_mb']:.0f} MB" for k, v in mem.items()))
    say(
        "  (postgres: RSS counts the shared buffers once per backend;"
        f" its proportional share, PSS, peaked at {mem['postgres']['peak_pss_mb']:.0f} MB)"
    )
    say(f"Figures written to {r['results_file']}")


# ----------------------------------------------------------------------------- main


async def database_facts(pg: asyncpg.Pool) -> JSON:
    settings = {
        r["name"]: r["setting"] + (r["unit"] or "")
        for r in await pg.fetch(
            """SELECT name, setting, unit FROM pg_settings WHERE name IN
               ('fsync', 'synchronous_commit', 'shared_buffers', 'wal_level', 'max_connections')"""
        )
    }
    envelope = await pg.fetchrow(
        "SELECT avg(octet_length(envelope))::int AS avg, max(octet_length(envelope)) AS max"
        " FROM assessment.outbox"
    )
    tables = ("assessment.person", "assessment.decision", "assessment.outbox", "assessment.access_log")
    rows = {t: int(await pg.fetchval(f"SELECT count(*) FROM {t}")) for t in tables}  # noqa: S608
    rows["notifications.provider_order"] = int(
        await pg.fetchval("SELECT count(*) FROM notifications.provider_order")
    )
    return {
        "postgres_version": await pg.fetchval("SHOW server_version"),
        "postgres_settings": settings,
        "assessment_envelope_bytes": dict(envelope or {}),
        "rows": rows,
    }


def source_version() -> JSON:
    """The commit measured and whether the work tree differed from it (read-only git calls)."""

    def git(*args: str) -> str:
        try:
            done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=10)
        except (OSError, subprocess.SubprocessError):
            return ""
        return done.stdout.strip() if done.returncode == 0 else ""

    changed = git("status", "--porcelain", "--untracked-files=no")
    return {"commit": git("rev-parse", "HEAD") or None, "uncommitted_changes": bool(changed)}


def machine() -> JSON:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "platform": platform.platform(),
        "python": platform.python_version(),
    }


async def run(stack: DevStack, cfg: Config, budget: Budget, facts: JSON) -> JSON:
    if stack.postgres is None or stack.nats is None:
        raise RuntimeError("the benchmark needs the embedded PostgreSQL and NATS")
    pids = {name: proc.pid for name, proc in stack.procs.items()}
    pids |= {"postgres": stack.postgres.pid or 0, "nats": stack.nats.pid or 0, "bench-client": os.getpid()}
    watch = ProcessWatch(pids, solo=frozenset({"bench-client"}))
    watch.start()
    issuer = stack.issuer
    officer_token = issuer.token(role=Role.case_officer, districts=[DISTRICT], subject="bench-officer")
    c = cfg.concurrency
    phases: dict[str, DecisionPhase] = {}
    pg = await asyncpg.create_pool(stack.postgres.raw_dsn, min_size=1, max_size=3)
    try:
        async with (
            client(stack.base_url, issuer.token(role=Role.integration), 4) as integration,
            client(stack.service_url("assessment"), officer_token, c) as direct,
            client(stack.base_url, officer_token, c) as via_gateway,
            client(stack.base_url, issuer.token(role=Role.provider, provider_org=PROVIDER_A), 2) as provider,
        ):
            facts["configure_municipality_s"] = round(
                await configure_municipality(integration, cfg.wait_limit_s), 3
            )
            say(
                "municipality configured; assessment knew the providers after"
                f" {facts['configure_municipality_s']} s"
            )

            numbers = list(synthetic_identity_numbers(cfg.persons, seed=2026))
            persons_cpu = CpuPhase(watch).begin()
            persons_load = await run_closed_loop(
                cfg.persons, c, person_registrar(direct, numbers), time_limit_s=budget.cap(cfg.phase_limit_s)
            )
            persons_cpu.end()
            persons = persons_load.summary
            facts["persons_registered"] = {**persons.as_dict(), "cpu": persons_cpu.as_dict()}
            say(latency_row(f"persons registered (C={c})", persons, "persons/s"))
            person_ids = [persons_load.results[i] for i in sorted(persons_load.results)]
            if not person_ids:
                raise RuntimeError(f"no person registered: {persons_load.errors[:3]}")

            # Warm-up, not measured: connection pools, statement caches, the gateway's client.
            for path_client, path in ((direct, "/v1/decisions"), (via_gateway, "/assessment/v1/decisions")):
                await run_closed_loop(
                    cfg.warmup,
                    c,
                    decision_maker(path_client, path, person_ids, 0),
                    time_limit_s=budget.cap(10),
                )
            await wait_pipeline_drained(stack.nats_url, pg, budget.cap(cfg.wait_limit_s))

            def phase_args(sample_activity: bool = False) -> JSON:
                return {
                    "pg": pg,
                    "watch": watch,
                    "time_limit_s": budget.cap(cfg.phase_limit_s),
                    "wait_limit_s": budget.cap(cfg.wait_limit_s),
                    "sample_activity": sample_activity,
                }

            offset = 0  # each phase decides for other persons than the one before
            if cfg.sequential_decisions > 0:
                phases["sequential"] = await decision_phase(
                    "decisions, assessment direct (C=1)",
                    cfg.sequential_decisions,
                    1,
                    decision_maker(direct, "/v1/decisions", person_ids, offset),
                    **phase_args(),
                )
                offset += cfg.sequential_decisions
                await wait_pipeline_drained(stack.nats_url, pg, budget.cap(cfg.wait_limit_s))

            phases["direct"] = await decision_phase(
                f"decisions, assessment direct (C={c})",
                cfg.decisions,
                c,
                decision_maker(direct, "/v1/decisions", person_ids, offset),
                **phase_args(sample_activity=True),
            )
            offset += cfg.decisions
            facts["pipeline_after_direct_decisions"] = await wait_pipeline_drained(
                stack.nats_url, pg, budget.cap(cfg.wait_limit_s)
            )

            t0 = time.perf_counter()
            inbox = await read_inbox(provider)
            facts["inbox_read"] = {
                "orders": len(inbox),
                "seconds": round(time.perf_counter() - t0, 3),
                "page_size": 200,
                "has_every_order_of_the_direct_phase": {
                    str(v) for v in phases["direct"].load.results.values()
                }
                <= {o["decision_id"] for o in inbox},
            }

            if cfg.gateway_decisions > 0:
                phases["gateway"] = await decision_phase(
                    f"decisions, through the gateway (C={c})",
                    cfg.gateway_decisions,
                    c,
                    decision_maker(via_gateway, "/assessment/v1/decisions", person_ids, offset),
                    **phase_args(),
                )
                await wait_pipeline_drained(stack.nats_url, pg, budget.cap(cfg.wait_limit_s))
                offset += cfg.gateway_decisions
            if cfg.gateway_decisions > 0 and cfg.sequential_decisions > 0:
                phases["gateway_sequential"] = await decision_phase(
                    "decisions, through the gateway (C=1)",
                    cfg.sequential_decisions,
                    1,
                    decision_maker(via_gateway, "/assessment/v1/decisions", person_ids, offset),
                    **phase_args(),
                )
        facts["database"] = await database_facts(pg)
    finally:
        await pg.close()

    baseline_cpu = CpuPhase(watch).begin()
    pg_base = await postgres_baseline(
        stack.postgres.raw_dsn, count=cfg.decisions, concurrency=c, time_limit_s=budget.cap(15, reserve=8)
    )
    baseline_cpu.end()
    say(latency_row(f"raw asyncpg (C={c})", pg_base.summary, "tx/s"))
    nats_base = await nats_baseline(
        stack.nats_url, messages=cfg.nats_messages, timeout_s=budget.cap(15, reserve=5)
    )
    say(latency_row("raw JetStream publish -> receive", nats_base.latency, "msgs/s"))
    watch.stop()

    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    results_file = RESULTS_DIR / f"skeleton-{stamp}.json"
    report: JSON = {
        **facts,
        "decisions": {key: phase.as_dict() for key, phase in phases.items()},
        "baseline_asyncpg": {**pg_base.summary.as_dict(), "cpu": baseline_cpu.as_dict()},
        "baseline_nats": nats_base.as_dict(),
        "memory": watch.memory(),
        "results_file": str(results_file.relative_to(ROOT)),
    }
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    results_file.write_text(json.dumps(report, indent=2, default=str) + "\n")
    print_report(report, phases, persons, pg_base, nats_base)
    return report


def main(argv: list[str] | None = None) -> int:
    cfg = parse_args(argv)
    budget = Budget(cfg.budget_s)
    facts: JSON = {
        "benchmark": "skeleton",
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "source": source_version(),
        # The dev stack passes the user's own HJEMFLYT_* settings on to the services.
        "hjemflyt_settings_in_environment": sorted(k for k in os.environ if k.startswith("HJEMFLYT_")),
        "config": {k: str(v) if isinstance(v, Path) else v for k, v in asdict(cfg).items()},
    }
    busy = machine_busy_percent(1.0)
    facts["machine_busy_before_start_percent"] = None if busy is None else round(busy, 1)
    if busy is not None and busy > 10:
        say(f"NOTE: the machine is {busy:.0f}% busy before the benchmark starts; expect disturbed figures")
    shutil.rmtree(cfg.data_dir, ignore_errors=True)
    say(f"starting the stack in {cfg.data_dir} ...")
    t0 = time.perf_counter()
    stack = DevStack(cfg.data_dir, Settings(gateway_port=0, database_url="", nats_url=""))
    stack.start()
    facts["stack_startup_s"] = round(time.perf_counter() - t0, 3)
    say(f"stack ready in {facts['stack_startup_s']:.1f} s (gateway {stack.base_url})")
    try:
        try:
            import uvloop  # the services run on uvloop (uvicorn picks it); so does the client
        except ImportError:
            asyncio.run(run(stack, cfg, budget, facts))
        else:
            uvloop.run(run(stack, cfg, budget, facts))
    finally:
        t0 = time.perf_counter()
        stack.stop()
        say(
            f"stack stopped in {time.perf_counter() - t0:.1f} s;"
            f" whole run {time.perf_counter() - budget.start:.0f} s"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
