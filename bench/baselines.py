"""Raw baselines measured on the same servers as the services, in the same run.

* asyncpg: per "decision" one transaction inserting what the decision endpoint inserts (a
  decision row, a service row, two outbox rows with a ~1 KB bytes envelope, an access-log
  row) into a scratch schema, at the same concurrency, on a plain asyncpg pool. No reads,
  no ORM, no HTTP: the floor the endpoint's writes sit on.
* nats-py: JetStream publish (awaiting the ack, one at a time, as the outbox relay does) on a
  scratch file-storage stream, received by a durable pull consumer fetching in batches (as the
  services' consumers do); latency is from the start of publish to receipt.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import asyncpg
import nats
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy, StorageType, StreamConfig

from bench.stats import LoadResult, Summary, run_closed_loop, summarise

SCRATCH_SCHEMA = "bench_raw"  # written out in the SQL below

_SCHEMA_SQL = """
DROP SCHEMA IF EXISTS bench_raw CASCADE;
CREATE SCHEMA bench_raw;
CREATE TABLE bench_raw.decision (
    id uuid PRIMARY KEY,
    version integer NOT NULL,
    person_id uuid NOT NULL,
    district text NOT NULL,
    status text NOT NULL,
    decision_date date NOT NULL,
    start_date date NOT NULL,
    end_date date,
    evaluation_date date,
    made_by text NOT NULL,
    made_at timestamptz NOT NULL
);
CREATE INDEX ON bench_raw.decision (person_id);
CREATE TABLE bench_raw.decision_service (
    id uuid PRIMARY KEY,
    decision_id uuid NOT NULL REFERENCES bench_raw.decision (id) ON DELETE CASCADE,
    service_code text NOT NULL,
    hours_per_month numeric(6, 2) NOT NULL,
    provider_org text NOT NULL,
    UNIQUE (decision_id, service_code)
);
CREATE TABLE bench_raw.outbox (
    seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id uuid NOT NULL UNIQUE,
    subject text NOT NULL,
    type text NOT NULL,
    envelope bytea NOT NULL,
    created_at timestamptz NOT NULL,
    published_at timestamptz,
    attempts integer NOT NULL DEFAULT 0,
    last_error text
);
CREATE INDEX ON bench_raw.outbox (seq) WHERE published_at IS NULL;
CREATE TABLE bench_raw.access_log (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at timestamptz NOT NULL,
    actor text NOT NULL,
    role text NOT NULL,
    organisation text,
    action varchar(16) NOT NULL,
    resource text NOT NULL,
    resource_id text,
    person_id uuid,
    purpose text NOT NULL,
    trace_id text
);
CREATE INDEX ON bench_raw.access_log (person_id, at);
"""

_INSERT_DECISION = """INSERT INTO bench_raw.decision
    (id, version, person_id, district, status, decision_date, start_date, end_date, evaluation_date,
     made_by, made_at)
    VALUES ($1, 1, $2, 'frogner', 'made', $3, $4, NULL, $5, 'bench', $6)"""
_INSERT_SERVICE = """INSERT INTO bench_raw.decision_service
    (id, decision_id, service_code, hours_per_month, provider_org) VALUES ($1, $2, '15', $3, '320000009')"""
_INSERT_OUTBOX = """INSERT INTO bench_raw.outbox (event_id, subject, type, envelope, created_at)
    VALUES ($1, $2, $3, $4, $5)"""
_INSERT_ACCESS = """INSERT INTO bench_raw.access_log
    (at, actor, role, action, resource, resource_id, person_id, purpose)
    VALUES ($1, 'bench', 'case_officer', 'create', 'decision', $2, $3, 'making a decision')"""


def _envelope(event_type: str, decision_id: uuid.UUID, person_id: uuid.UUID, now: datetime) -> bytes:
    """About the size of the services' CloudEvents envelopes (~1 KB)."""
    return json.dumps(
        {
            "specversion": "1.0",
            "id": str(uuid.uuid4()),
            "source": "/hjemflyt/assessment",
            "type": event_type,
            "subject": str(decision_id),
            "time": now.isoformat(),
            "datacontenttype": "application/json",
            "dataschema": f"https://hjemflyt.example/schemas/{event_type}.json",
            "tenant": "0301",
            "data": {
                "decision_id": str(decision_id),
                "version": 1,
                "person_id": str(person_id),
                "district": "frogner",
                "decision_date": now.date().isoformat(),
                "start_date": "2026-12-01",
                "end_date": None,
                "evaluation_date": "2027-02-01",
                "services": [
                    {
                        "service_code": "15",
                        "service_name": "Helsetjenester i hjemmet",
                        "hours_per_month": "24.00",
                        "provider_org": "320000009",
                    }
                ],
                "recipient": {
                    "identity_number": "00000000000",
                    "name": "Bench Person",
                    "address": "Benchveien 1, 0250 Oslo",
                    "phone": None,
                },
                "made_at": now.isoformat(),
            },
        }
    ).encode()


@dataclass
class PostgresBaseline:
    load: LoadResult
    server_version: str

    @property
    def summary(self) -> Summary:
        return self.load.summary


async def postgres_baseline(
    dsn: str, *, count: int, concurrency: int, time_limit_s: float
) -> PostgresBaseline:
    setup = await asyncpg.connect(dsn)
    try:
        await setup.execute(_SCHEMA_SQL)
        version = str(await setup.fetchval("SHOW server_version"))
    finally:
        await setup.close()
    pool = await asyncpg.create_pool(dsn, min_size=concurrency, max_size=concurrency)
    try:

        async def one(i: int) -> None:
            now = datetime.now(UTC)
            decision_id, person_id = uuid.uuid4(), uuid.uuid4()
            async with pool.acquire() as conn, conn.transaction():
                await conn.execute(
                    _INSERT_DECISION,
                    decision_id,
                    person_id,
                    now.date(),
                    date(2026, 12, 1),
                    date(2027, 2, 1),
                    now,
                )
                await conn.execute(_INSERT_SERVICE, uuid.uuid4(), decision_id, Decimal("24"))
                for event_type, subject in (
                    ("no.hjemflyt.assessment.decision.made.v1", "hjemflyt.assessment.decision.made"),
                    ("no.hjemflyt.assessment.order.issued.v1", "hjemflyt.assessment.order.issued"),
                ):
                    envelope = _envelope(event_type, decision_id, person_id, now)
                    await conn.execute(_INSERT_OUTBOX, uuid.uuid4(), subject, event_type, envelope, now)
                await conn.execute(_INSERT_ACCESS, now, str(decision_id), person_id)

        # A short warm-up fills the pool and the statement caches, as the services' are warm.
        await run_closed_loop(concurrency * 4, concurrency, one, time_limit_s=10)
        load = await run_closed_loop(count, concurrency, one, time_limit_s=time_limit_s)
    finally:
        await pool.close()
        cleanup = await asyncpg.connect(dsn)
        try:
            await cleanup.execute("DROP SCHEMA IF EXISTS bench_raw CASCADE")
        finally:
            await cleanup.close()
    return PostgresBaseline(load, version)


@dataclass
class NatsBaseline:
    messages: int
    received: int
    publish_elapsed_s: float
    latency: Summary
    publish_ack: Summary
    server_version: str

    @property
    def publish_rate(self) -> float:
        return self.messages / self.publish_elapsed_s if self.publish_elapsed_s > 0 else float("nan")

    def as_dict(self) -> dict[str, Any]:
        return {
            "messages": self.messages,
            "received": self.received,
            "publish_elapsed_s": round(self.publish_elapsed_s, 3),
            "publishes_per_second": round(self.publish_rate, 1),
            "publish_ack": self.publish_ack.as_dict(),
            "publish_to_receive": self.latency.as_dict(),
            "server_version": self.server_version,
        }


async def nats_baseline(
    url: str, *, messages: int, payload_bytes: int = 1024, timeout_s: float
) -> NatsBaseline:
    """Sequential acked publishes; a pull consumer (batch 64, explicit ack) timestamps receipt."""
    stream, subject, durable = "BENCH_RAW", "bench.raw.events", "bench_raw"
    publisher = await nats.connect(servers=[url], name="bench-raw-publisher")
    receiver = await nats.connect(servers=[url], name="bench-raw-receiver")
    pub_js, sub_js = publisher.jetstream(timeout=5.0), receiver.jetstream(timeout=5.0)
    try:
        with contextlib.suppress(nats.js.errors.NotFoundError):
            await pub_js.delete_stream(stream)
        await pub_js.add_stream(
            StreamConfig(name=stream, subjects=[f"{subject}.>", subject], storage=StorageType.FILE)
        )
        await sub_js.add_consumer(
            stream,
            config=ConsumerConfig(
                durable_name=durable,
                deliver_policy=DeliverPolicy.ALL,
                ack_policy=AckPolicy.EXPLICIT,
                max_ack_pending=1000,
            ),
        )
        psub = await sub_js.pull_subscribe_bind(durable, stream=stream)
        sent_at: dict[int, float] = {}
        received_at: dict[int, float] = {}
        done = asyncio.Event()
        padding = b"x" * max(0, payload_bytes - 16)

        async def receive() -> None:
            while len(received_at) < messages:
                try:
                    batch = await psub.fetch(64, timeout=1)
                except nats.errors.TimeoutError:
                    continue
                now = time.perf_counter()
                for msg in batch:
                    received_at[int(msg.data[:16])] = now
                    await msg.ack()
            done.set()

        receiver_task = asyncio.create_task(receive())
        ack_latencies: list[float] = []
        t0 = time.perf_counter()
        for i in range(messages):
            start = time.perf_counter()
            sent_at[i] = start
            await pub_js.publish(subject, f"{i:016d}".encode() + padding, headers={"Nats-Msg-Id": f"b-{i}"})
            ack_latencies.append((time.perf_counter() - start) * 1000)
        publish_elapsed = time.perf_counter() - t0
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(done.wait(), timeout=timeout_s)
        receiver_task.cancel()
        await asyncio.gather(receiver_task, return_exceptions=True)
        latencies = [(received_at[i] - sent_at[i]) * 1000 for i in received_at if i in sent_at]
        version = str(publisher.connected_server_version)
        await pub_js.delete_stream(stream)
    finally:
        await receiver.close()
        await publisher.close()
    return NatsBaseline(
        messages=messages,
        received=len(received_at),
        publish_elapsed_s=publish_elapsed,
        latency=summarise(latencies, publish_elapsed),
        publish_ack=summarise(ack_latencies, publish_elapsed),
        server_version=version,
    )
