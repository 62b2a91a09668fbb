"""Decision → webhook delivered: the latency from a case officer's POST of a decision to its
order arriving at the provider's webhook receiver, at a sustained rate (default 50
decisions/s), beside a raw nats-py JetStream publish → consume round trip at the same rate
in the same run; the peak memory of the notifications service.

    uv run python -m bench.delivery            # (make bench-delivery)
    uv run python -m bench.delivery --help     # rate, duration

PostgreSQL, NATS, assessment and notifications run as in `make run` (processes, embedded
servers); the receiver is a process of its own that stamps each arrival with the wall clock.
The path measured: assessment's API and outbox → JetStream → notifications' consumer
(order, message, outbox) → NOTIFY → delivery worker → signed POST. Prints figures and writes
them to bench/results/delivery-<timestamp>.json; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import asyncpg
import nats
from sqlalchemy.engine import make_url

from bench.api import DISTRICT, PROVIDER_A, PROVIDER_B, START, client, expect, person_registrar
from bench.procwatch import ProcessWatch
from bench.skeleton import ROOT, machine, source_version
from bench.stats import Summary, summarise
from hjemflyt.shared.demo import decision_body
from hjemflyt.shared.devstack import DevStack
from hjemflyt.shared.identity import synthetic_identity_numbers
from hjemflyt.shared.platform import embedded
from hjemflyt.shared.platform.auth import Role
from hjemflyt.shared.platform.settings import Settings

RESULTS_DIR = Path(__file__).resolve().parent / "results"
TARGETS = {"delivered_p99_ms": 200}
JSON = dict[str, Any]


@dataclass(frozen=True)
class Config:
    rate: float = 50.0
    seconds: float = 30.0
    warmup_seconds: float = 3.0
    data_dir: Path = ROOT / ".hjemflyt" / "bench-delivery"
    drain_limit_s: float = 60.0


def parse_args(argv: list[str] | None) -> Config:
    d = Config()
    p = argparse.ArgumentParser(prog="python -m bench.delivery", description=__doc__.split("\n\n")[0])
    p.add_argument("--rate", type=float, default=d.rate, help="decisions per second (default %(default)s)")
    p.add_argument("--seconds", type=float, default=d.seconds, help="measured seconds at that rate")
    p.add_argument("--warmup", type=float, default=d.warmup_seconds, help="unmeasured seconds first")
    p.add_argument("--data-dir", type=Path, default=d.data_dir, help="deleted at start")
    a = p.parse_args(argv)
    return Config(rate=a.rate, seconds=a.seconds, warmup_seconds=a.warmup, data_dir=a.data_dir.resolve())


def say(message: str) -> None:
    print(message, flush=True)


# ----------------------------------------------------------------------------- the receiver


def serve_receiver(port: int, out: Path) -> None:
    """The provider's receiver (its own process): one line per POST, wall-clock stamped."""
    sink = out.open("a", buffering=1)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            arrived = time.time()
            message = json.loads(body)
            data = message.get("data") or {}
            sink.write(
                json.dumps({"t": arrived, "id": message["id"], "decision_id": data.get("decision_id")}) + "\n"
            )
            self.send_response(204)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()


def arrivals(path: Path) -> dict[str, float]:
    """decision id -> first arrival (wall clock); duplicates counted apart."""
    first: dict[str, float] = {}
    if path.exists():
        for line in path.read_text().splitlines():
            row = json.loads(line)
            first.setdefault(str(row["decision_id"]), float(row["t"]))
    return first


def embedded_dsn(stack: DevStack) -> str:
    return make_url(stack.database_url).set(drivername="postgresql").render_as_string(hide_password=False)


def received_lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


# ----------------------------------------------------------------------------- the stack


def start_stack(cfg: Config) -> DevStack:
    stack = DevStack(cfg.data_dir, Settings(gateway_port=0, database_url="", nats_url=""))
    # The bench's own webhook receiver listens on loopback.
    stack.extra_env["HJEMFLYT_WEBHOOK_ALLOW_PRIVATE_ADDRESSES"] = "true"
    try:
        stack.start_infrastructure()
        stack.migrate()
        stack.issuer.ensure_keys()
        stack.log_dir.mkdir(parents=True, exist_ok=True)
        for service in ("assessment", "notifications"):
            stack.ports[service] = embedded.free_port()
            stack.start_service(service)
        stack.wait_ready(("assessment", "notifications"))
    except BaseException:
        stack.stop()
        raise
    return stack


async def configure(stack: DevStack, receiver_url: str) -> None:
    integration = client(stack.service_url("assessment"), stack.issuer.token(role=Role.integration), 4)
    notifications = client(stack.service_url("notifications"), stack.issuer.token(role=Role.integration), 4)
    async with integration, notifications:
        expect(await integration.post("/v1/config/presets/oslo"), 200)
        expect(
            await integration.put(
                f"/v1/districts/{DISTRICT}",
                json={
                    "name": "Bydel Frogner",
                    "organisation_model": "trust_model",
                    "case_office": "Forvaltning",
                },
            ),
            200,
        )
        for org in (PROVIDER_A, PROVIDER_B):
            expect(
                await notifications.put(
                    f"/v1/providers/{org}",
                    json={
                        "name": f"Bench {org}",
                        "kind": "private",
                        "service_codes": ["1", "15"],
                        "districts": [DISTRICT],
                    },
                ),
                200,
                201,
            )
        expect(
            await notifications.put(f"/v1/providers/{PROVIDER_A}/webhook", json={"url": receiver_url}), 201
        )
        t0 = time.perf_counter()
        while time.perf_counter() - t0 < 30:
            r = expect(await integration.get("/v1/providers"), 200)
            if {p["provider_org"] for p in r.json()} >= {PROVIDER_A, PROVIDER_B}:
                return
            await asyncio.sleep(0.05)
        raise RuntimeError("assessment did not learn of the providers in 30 s")


# ----------------------------------------------------------------------------- phases


async def open_loop(rate: float, count: int, send: Any) -> tuple[list[Any], float, int]:
    """`count` calls of `send(i)` started at `rate` per second whatever the answers' pace."""
    start = time.perf_counter()
    tasks = []
    for i in range(count):
        delay = start + i / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(send(i)))
    results = await asyncio.gather(*tasks, return_exceptions=True)
    errors = sum(isinstance(r, BaseException) for r in results)
    return results, time.perf_counter() - start, errors


async def decisions_to_webhook(stack: DevStack, cfg: Config, arrivals_file: Path) -> JSON:
    total = int(cfg.rate * (cfg.seconds + cfg.warmup_seconds))
    warm = int(cfg.rate * cfg.warmup_seconds)
    officer = client(
        stack.service_url("assessment"),
        stack.issuer.token(role=Role.case_officer, districts=[DISTRICT]),
        64,
    )
    async with officer:
        say(f"registering {total} persons ...")
        numbers = list(synthetic_identity_numbers(total, seed=4))
        register = person_registrar(officer, numbers)
        person_ids: list[str] = []
        for chunk in range(0, total, 32):
            person_ids += await asyncio.gather(*(register(i) for i in range(chunk, min(total, chunk + 32))))
        sent: dict[str, float] = {}
        answered: dict[str, float] = {}

        async def decide(i: int) -> str:
            body = decision_body(person_ids[i], [("home-nursing", "24", PROVIDER_A)], start=START)
            t = time.time()
            r = await officer.post("/v1/decisions", json=body)
            decision_id = str(expect(r, 201).json()["id"])
            sent[decision_id] = t
            answered[decision_id] = time.time()
            return decision_id

        say(f"{total} decisions at {cfg.rate:g}/s ({warm} of them warm-up) ...")
        results, elapsed, errors = await open_loop(cfg.rate, total, decide)
    measured = [r for r in results[warm:] if isinstance(r, str)]
    deadline = time.monotonic() + cfg.drain_limit_s
    while time.monotonic() < deadline:
        got = arrivals(arrivals_file)
        if all(d in got for d in measured):
            break
        await asyncio.sleep(0.2)
    got = arrivals(arrivals_file)
    lines = received_lines(arrivals_file)
    latencies = [(got[d] - sent[d]) * 1000 for d in measured if d in got]
    seconds = elapsed * cfg.seconds / (cfg.seconds + cfg.warmup_seconds)
    summary = summarise(latencies, seconds, errors)
    # Where the time goes: the decision POST, then to the order message in notifications.
    pg = await asyncpg.connect(embedded_dsn(stack))
    try:
        rows = await pg.fetch(
            "SELECT body->>'decision_id' AS d, created_at, delivered_at FROM notifications.message"
        )
    finally:
        await pg.close()
    enqueued = {r["d"]: r["created_at"].timestamp() for r in rows}
    stages = {
        "post": summarise([(answered[d] - sent[d]) * 1000 for d in measured], seconds).as_dict(),
        "post_to_message": summarise(
            [(enqueued[d] - sent[d]) * 1000 for d in measured if d in enqueued], seconds
        ).as_dict(),
        "message_to_receiver": summarise(
            [(got[d] - enqueued[d]) * 1000 for d in measured if d in enqueued and d in got], seconds
        ).as_dict(),
    }
    return {
        "stages": stages,
        "decisions": len(measured),
        "api_errors": errors,
        "not_delivered": sum(d not in got for d in measured),
        "posts_received": len(lines),
        "duplicates_at_receiver": len(lines) - len({json.loads(x)["id"] for x in lines}),
        "offered_rate": cfg.rate,
        "summary": summary.as_dict(),
    }


async def nats_round_trip(nats_url: str, cfg: Config) -> JSON:
    """The same rate through a bare JetStream stream: publish (acked) → push consumer."""
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    stream = f"BENCH_RAW_{uuid.uuid4().hex[:8].upper()}"
    subject = f"bench.raw.{stream.lower()}"
    await js.add_stream(name=stream, subjects=[subject])
    received: dict[int, float] = {}
    done = asyncio.Event()
    total = int(cfg.rate * (cfg.seconds + cfg.warmup_seconds))
    warm = int(cfg.rate * cfg.warmup_seconds)

    async def on_message(msg: Any) -> None:
        received[int(msg.data.split(b"|", 1)[0])] = time.perf_counter()
        await msg.ack()
        if len(received) >= total:
            done.set()

    sub = await js.subscribe(subject, cb=on_message, manual_ack=True)
    sent: dict[int, float] = {}
    payload = b"x" * 1500  # about the size of an order message

    async def publish(i: int) -> None:
        sent[i] = time.perf_counter()
        await js.publish(subject, str(i).encode() + b"|" + payload)

    _, elapsed, errors = await open_loop(cfg.rate, total, publish)
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(done.wait(), timeout=30)
    await sub.unsubscribe()
    await js.delete_stream(stream)
    await nc.close()
    latencies = [(received[i] - sent[i]) * 1000 for i in range(warm, total) if i in received]
    summary: Summary = summarise(
        latencies, elapsed * cfg.seconds / (cfg.seconds + cfg.warmup_seconds), errors
    )
    return {"messages": total - warm, "summary": summary.as_dict()}


# ----------------------------------------------------------------------------- main


async def run(stack: DevStack, cfg: Config, receiver_url: str, arrivals_file: Path) -> JSON:
    await configure(stack, receiver_url)
    watch = ProcessWatch(
        {name: stack.procs[name].pid for name in ("assessment", "notifications")}, interval=0.25
    )
    watch.start()
    try:
        delivery = await decisions_to_webhook(stack, cfg, arrivals_file)
    finally:
        watch.stop()
    raw = await nats_round_trip(stack.nats_url, cfg)
    return {"delivery": delivery, "nats_raw": raw, "memory": watch.memory()}


def row(label: str, s: JSON) -> str:
    return (
        f"  {label:<34} n={s['count']:>5}  p50 {s['p50_ms']:>7.1f} ms  p95 {s['p95_ms']:>7.1f} ms"
        f"  p99 {s['p99_ms']:>7.1f} ms  max {s['max_ms']:>7.1f} ms"
    )


def report(figures: JSON, cfg: Config) -> None:
    d, raw, mem = figures["delivery"], figures["nats_raw"], figures["memory"]
    say("")
    say(f"decision → webhook delivered at {cfg.rate:g} decisions/s for {cfg.seconds:g} s")
    say(row("decision POST → receiver", d["summary"]))
    say(row("raw JetStream publish → consume", raw["summary"]))
    for stage, s in d["stages"].items():
        say(row(f"  stage: {stage}", s))
    say(
        f"  delivered {d['decisions'] - d['not_delivered']}/{d['decisions']}, API errors {d['api_errors']}, "
        f"duplicates at the receiver {d['duplicates_at_receiver']}"
    )
    say(f"  target p99 ≤ {TARGETS['delivered_p99_ms']} ms (not asserted)")
    for name, m in mem.items():
        say(f"  peak memory {name:<14} RSS {m['peak_rss_mb']:>6.1f} MB  PSS {m['peak_pss_mb']:>6.1f} MB")


def main(argv: list[str] | None = None) -> int:
    if argv is None and len(sys.argv) > 1 and sys.argv[1] == "--receiver":
        serve_receiver(int(sys.argv[2]), Path(sys.argv[3]))
        return 0
    cfg = parse_args(argv)
    shutil.rmtree(cfg.data_dir, ignore_errors=True)
    cfg.data_dir.mkdir(parents=True)
    arrivals_file = cfg.data_dir / "arrivals.jsonl"
    port = embedded.free_port()
    receiver = subprocess.Popen(
        [sys.executable, "-m", "bench.delivery", "--receiver", str(port), str(arrivals_file)], cwd=ROOT
    )
    stack = start_stack(cfg)
    try:
        figures = asyncio.run(run(stack, cfg, f"http://127.0.0.1:{port}/webhook", arrivals_file))
    finally:
        stack.stop()
        receiver.terminate()
        receiver.wait(10)
    report(figures, cfg)
    RESULTS_DIR.mkdir(exist_ok=True)
    out = RESULTS_DIR / f"delivery-{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}.json"
    out.write_text(
        json.dumps(
            {
                "config": {"rate": cfg.rate, "seconds": cfg.seconds},
                "machine": machine(),
                "source": source_version(),
                **figures,
            },
            indent=2,
            default=str,
        )
    )
    say(f"\nfigures written to {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    raise SystemExit(main())
