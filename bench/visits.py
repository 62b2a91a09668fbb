"""Visit-report ingest: one 100,000-visit batch through the API (parse and validate, order
checks, COPY of the visits, `visits.reported` events through the outbox, all in one
transaction), its replay (the same batch again answers the receipt), and beside them a raw
asyncpg COPY of the very same rows into a scratch table with the same indexes; the
service's peak memory.

    uv run python -m bench.visits            # (make bench-visits)
    uv run python -m bench.visits --help     # sizes

Only PostgreSQL, NATS and notifications run. Orders are created first as assessment
creates them (`order.issued` on the bus). Prints figures and writes them to
bench/results/visits-<timestamp>.json. Never asserts a timing: the target (5,000 visits/s)
is printed beside the figures, for people to judge.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import time
import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from bench.procwatch import ProcessWatch
from bench.results_file import run_facts, write_results
from bench.skeleton import ROOT, say
from hjemflyt.shared.contracts.envelope import CloudEvent
from hjemflyt.shared.contracts.events import ORDER_ISSUED, DecidedService, OrderIssued, OrderRecipient
from hjemflyt.shared.devstack import DevStack
from hjemflyt.shared.identity import synthetic_identity_numbers
from hjemflyt.shared.platform import embedded
from hjemflyt.shared.platform.auth import Role
from hjemflyt.shared.platform.bus import Bus
from hjemflyt.shared.platform.settings import Settings

PROVIDER = "320000009"  # synthetic, as in the system tests
DISTRICT = "frogner"
TARGET_VISITS_PER_S = 5000
JSON = dict[str, Any]


@dataclass(frozen=True)
class Config:
    visits: int = 100_000
    orders: int = 1_000
    data_dir: Path = ROOT / ".hjemflyt" / "bench-visits"


def parse_args(argv: list[str] | None) -> Config:
    d = Config()
    p = argparse.ArgumentParser(prog="python -m bench.visits", description=__doc__.split("\n\n")[0])
    p.add_argument("--visits", type=int, default=d.visits, help="visits in the batch (at most 100,000)")
    p.add_argument("--orders", type=int, default=d.orders, help="orders the visits are spread over")
    p.add_argument("--data-dir", type=Path, default=d.data_dir, help="deleted at start")
    a = p.parse_args(argv)
    return Config(visits=a.visits, orders=a.orders, data_dir=a.data_dir.resolve())


def start_stack(cfg: Config) -> DevStack:
    shutil.rmtree(cfg.data_dir, ignore_errors=True)
    stack = DevStack(cfg.data_dir, Settings(gateway_port=0, database_url="", nats_url=""))
    try:
        stack.start_infrastructure()
        stack.migrate()
        stack.issuer.ensure_keys()
        stack.ports["notifications"] = embedded.free_port()
        stack.ports["gateway"] = embedded.free_port()
        stack.log_dir.mkdir(parents=True, exist_ok=True)
        stack.start_service("notifications")
        stack.wait_ready(("notifications",))
    except BaseException:
        stack.stop()
        raise
    return stack


async def issue_orders(stack: DevStack, count: int, start: date) -> None:
    """`order.issued` events as assessment's outbox relay publishes them."""
    settings = stack.settings.model_copy(update={"nats_url": stack.nats_url})
    bus = Bus(settings, name="bench-assessment")
    await bus.connect()
    try:
        await bus.ensure_stream("assessment")
        subject = ORDER_ISSUED.subject(settings.bus_namespace, settings.tenant)
        numbers = list(synthetic_identity_numbers(min(count, 1000)))
        for i in range(count):
            decision_id = uuid.uuid4()
            data = OrderIssued(
                decision_id=decision_id,
                decision_version=1,
                person_id=uuid.uuid4(),
                district=DISTRICT,
                provider_org=PROVIDER,
                recipient=OrderRecipient(
                    identity_number=numbers[i % len(numbers)], name=f"Bench Person {i}", address="Benkveien 1"
                ),
                services=[
                    DecidedService(
                        service_code="15",
                        service_name="Helsetjenester i hjemmet",
                        hours_per_month="20",
                        provider_org=PROVIDER,
                    )
                ],
                start_date=start,
                issued_at=datetime.now(UTC),
            )
            event = CloudEvent(
                id=uuid.uuid4(),
                source="/hjemflyt/assessment",
                type=ORDER_ISSUED.name,
                subject=f"{decision_id}/{PROVIDER}",
                time=datetime.now(UTC),
                dataschema=ORDER_ISSUED.dataschema,
                tenant=settings.tenant,
                data=data.model_dump(mode="json"),
            )
            await bus.js.publish(
                subject, event.model_dump_json().encode(), headers={"Nats-Msg-Id": str(event.id)}
            )
    finally:
        await bus.close()


def make_visits(order_ids: list[uuid.UUID], count: int, first_day: date) -> list[JSON]:
    visits = []
    for n in range(count):
        order_id = order_ids[n % len(order_ids)]
        day = first_day + timedelta(days=(n // len(order_ids)) % 28)
        start = datetime(day.year, day.month, day.day, 7, tzinfo=UTC) + timedelta(minutes=(n * 7) % 720)
        cancelled = n % 50 == 0
        visits.append(
            {
                "visit_id": f"bench-{n:07d}",
                "order_id": str(order_id),
                "planned_start": start.isoformat(),
                "planned_end": (start + timedelta(minutes=30)).isoformat(),
                "actual_start": None if cancelled else (start + timedelta(minutes=n % 11)).isoformat(),
                "actual_end": None if cancelled else (start + timedelta(minutes=32 + n % 9)).isoformat(),
                "staff_id": None if cancelled else f"staff-{n % 40:03d}",
                "measures_done": [] if cancelled else ["personal_care", "medication"],
                "cancelled": cancelled,
                "cancel_cause": "user_not_home" if cancelled else None,
            }
        )
    return visits


def records(visits: list[JSON], persons: dict[str, uuid.UUID], now: datetime) -> list[tuple[Any, ...]]:
    def ts(value: str | None) -> datetime | None:
        return datetime.fromisoformat(value) if value else None

    return [
        (
            PROVIDER,
            v["visit_id"],
            "raw",
            uuid.UUID(v["order_id"]),
            persons[v["order_id"]],
            DISTRICT,
            ts(v["planned_start"]),
            ts(v["planned_end"]),
            ts(v["actual_start"]),
            ts(v["actual_end"]),
            v["staff_id"],
            v["measures_done"],
            v["cancelled"],
            v["cancel_cause"],
            now,
        )
        for v in visits
    ]


async def run(stack: DevStack, cfg: Config) -> JSON:
    issuer = stack.issuer
    base = stack.service_url("notifications")
    integration = {"Authorization": f"Bearer {issuer.token(role=Role.integration, subject='bench')}"}
    provider_token = issuer.token(role=Role.provider, provider_org=PROVIDER, subject="bench-provider")
    provider = {
        "Authorization": f"Bearer {provider_token}",
        "Content-Type": "application/json",
    }
    dsn = stack.database_url.replace("postgresql+asyncpg://", "postgresql://")
    pg = await asyncpg.connect(dsn)
    watch = ProcessWatch(pids={"notifications": stack.procs["notifications"].pid})
    watch.start()
    out: JSON = {}
    try:
        async with httpx.AsyncClient(base_url=base, timeout=600.0) as http:
            r = await http.put(
                f"/v1/providers/{PROVIDER}",
                json={
                    "name": "Bench AS",
                    "kind": "private",
                    "service_codes": ["15"],
                    "districts": [DISTRICT],
                },
                headers=integration,
            )
            r.raise_for_status()
            today = datetime.now(UTC).date()
            t0 = time.perf_counter()
            await issue_orders(stack, cfg.orders, today - timedelta(days=60))
            while (await pg.fetchval("select count(*) from notifications.provider_order")) < cfg.orders:  # noqa: ASYNC110
                await asyncio.sleep(0.1)
            out["orders_created"] = cfg.orders
            out["orders_seconds"] = round(time.perf_counter() - t0, 2)
            say(f"{cfg.orders} orders in {out['orders_seconds']} s")
            rows = await pg.fetch("select id, person_id from notifications.provider_order")
            persons = {str(r["id"]): r["person_id"] for r in rows}
            order_ids = [r["id"] for r in rows]

            visits = make_visits(order_ids, cfg.visits, today - timedelta(days=40))
            body = json.dumps({"visits": visits}).encode()
            out["body_mb"] = round(len(body) / 2**20, 1)
            rss_before = watch.memory()["notifications"]["last_rss_mb"]

            t0 = time.perf_counter()
            r = await http.put("/v1/visit-batches/bench-1", content=body, headers=provider)
            api_s = time.perf_counter() - t0
            if r.status_code != 201:
                raise RuntimeError(f"batch refused: {r.status_code} {r.text[:500]}")
            receipt = r.json()
            out["api_seconds"] = round(api_s, 2)
            out["api_visits_per_s"] = round(cfg.visits / api_s)
            out["events"] = receipt["events"]
            say(f"API: {cfg.visits} visits in {api_s:.2f} s = {cfg.visits / api_s:,.0f} visits/s")

            t0 = time.perf_counter()
            while await pg.fetchval("select count(*) from notifications.outbox where published_at is null"):  # noqa: ASYNC110
                await asyncio.sleep(0.05)
            out["events_published_after_s"] = round(time.perf_counter() - t0, 2)

            t0 = time.perf_counter()
            r = await http.put("/v1/visit-batches/bench-1", content=body, headers=provider)
            out["replay_seconds"] = round(time.perf_counter() - t0, 2)
            out["replay_status"] = r.status_code
            say(f"replay: {r.status_code} in {out['replay_seconds']} s")
        out["rss_before_batch_mb"] = rss_before

        # The raw baseline: the very same rows, COPYed into a table like the service's.
        await pg.execute("drop schema if exists bench_raw cascade; create schema bench_raw")
        await pg.execute("create table bench_raw.visit (like notifications.visit including all)")
        t0 = time.perf_counter()
        parsed = json.loads(body)["visits"]
        recs = records(parsed, persons, datetime.now(UTC))
        build_s = time.perf_counter() - t0
        columns = [
            "provider_org", "visit_id", "batch_id", "order_id", "person_id", "district", "planned_start",
            "planned_end", "actual_start", "actual_end", "staff_id", "measures_done", "cancelled",
            "cancel_cause", "reported_at",
        ]  # fmt: skip
        t0 = time.perf_counter()
        async with pg.transaction():
            await pg.copy_records_to_table("visit", schema_name="bench_raw", columns=columns, records=recs)
        copy_s = time.perf_counter() - t0
        out["raw_json_and_records_seconds"] = round(build_s, 2)
        out["raw_copy_seconds"] = round(copy_s, 2)
        out["raw_copy_visits_per_s"] = round(cfg.visits / copy_s)
        out["raw_total_visits_per_s"] = round(cfg.visits / (build_s + copy_s))
        say(f"raw asyncpg COPY: {copy_s:.2f} s (+{build_s:.2f} s json.loads and tuples)")
        stored = await pg.fetchval("select count(*) from notifications.visit")
        out["visits_stored"] = stored
    finally:
        watch.stop()
        await pg.close()
    memory = watch.memory()
    memory["notifications"]["rss_before_batch_mb"] = out.pop("rss_before_batch_mb", None)
    out["memory"] = memory
    return out


def print_report(cfg: Config, out: JSON) -> None:
    mem = out["memory"]["notifications"]

    def row(label: str, seconds: float, rate: str) -> str:
        return f"  {label:<44}{seconds:>7.2f} s   {rate}"

    raw_total = out["raw_copy_seconds"] + out["raw_json_and_records_seconds"]
    lines = [
        "",
        f"visit ingest: one batch of {cfg.visits:,} visits, {cfg.orders:,} orders ({out['body_mb']} MB JSON)",
        row(
            "through the API (PUT /v1/visit-batches)",
            out["api_seconds"],
            f"{out['api_visits_per_s']:>9,} visits/s   (target >= {TARGET_VISITS_PER_S:,})",
        ),
        f"    {out['events']} visits.reported events, published {out['events_published_after_s']} s later",
        row(
            "replay of the same batch (the receipt)", out["replay_seconds"], f"status {out['replay_status']}"
        ),
        row(
            "raw asyncpg COPY of the same rows",
            out["raw_copy_seconds"],
            f"{out['raw_copy_visits_per_s']:>9,} visits/s",
        ),
        row("  with json.loads and tuples first", raw_total, f"{out['raw_total_visits_per_s']:>9,} visits/s"),
        f"  notifications RSS: {mem.get('rss_before_batch_mb')} MB before, peak {mem['peak_rss_mb']} MB"
        f" (peak PSS {mem['peak_pss_mb']} MB)",
        "",
    ]
    print("\n".join(lines))


def main(argv: list[str] | None = None) -> int:
    cfg = parse_args(argv)
    facts = run_facts()
    say("starting PostgreSQL, NATS and notifications")
    stack = start_stack(cfg)
    try:
        out = asyncio.run(run(stack, cfg))
    finally:
        stack.stop()
    print_report(cfg, out)
    write_results("visits", {"config": {**asdict(cfg), "data_dir": str(cfg.data_dir)}, **facts, **out})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
