"""Watching the system from beside it while the load runs: when orders reach the provider's
inbox, what PostgreSQL connections are doing, and when the event pipeline is idle again.

These read PostgreSQL and NATS directly (a few cheap queries a second), so watching does not
queue behind the load it watches."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import nats

from bench.stats import Summary
from hjemflyt.shared.platform.settings import SERVICES

JSON = dict[str, Any]


def _round(value: float | None, digits: int = 3) -> float | None:
    return None if value is None else round(value, digits)


@dataclass
class Delivery:
    """When the orders of one phase's decisions became visible in the provider's inbox."""

    expected: int
    delivered: int = 0
    delivered_when_load_ended: int = 0
    all_delivered_after_s: float | None = None  # from the start of the phase; None: not within the wait
    after_last_post_s: float | None = None
    per_order_ms: Summary | None = None

    @property
    def rate(self) -> float | None:
        """Orders per second over the whole phase (intake and drain)."""
        return self.delivered / self.all_delivered_after_s if self.all_delivered_after_s else None

    @property
    def drain_rate(self) -> float | None:
        """Orders per second once no new decisions came in: the pipeline on its own."""
        backlog = self.delivered - self.delivered_when_load_ended
        if self.after_last_post_s is None or self.after_last_post_s <= 0.2 or backlog <= 0:
            return None
        return backlog / self.after_last_post_s

    def as_dict(self) -> JSON:
        return {
            "expected": self.expected,
            "delivered": self.delivered,
            "delivered_when_load_ended": self.delivered_when_load_ended,
            "all_delivered_after_s": _round(self.all_delivered_after_s),
            "after_last_post_returned_s": _round(self.after_last_post_s),
            "orders_per_second": _round(self.rate, 1),
            "backlog_drain_orders_per_second": _round(self.drain_rate, 1),
            "post_returned_to_order_committed": self.per_order_ms.as_dict() if self.per_order_ms else None,
        }


async def count_orders(pg: asyncpg.Pool, decision_ids: list[uuid.UUID]) -> int:
    return int(
        await pg.fetchval(
            "SELECT count(*) FROM notifications.provider_order WHERE decision_id = ANY($1::uuid[])",
            decision_ids,
        )
    )


async def watch_delivery(
    pg: asyncpg.Pool,
    decision_ids: Callable[[], list[uuid.UUID]],
    load_done: asyncio.Event,
    start: float,
    limit_s: float,
) -> float | None:
    """Polls the notifications schema (10 Hz) until every decision of the phase has its order;
    returns the seconds from `start`, or None if that took longer than `limit_s` after the load."""
    deadline: float | None = None
    while True:
        finished = load_done.is_set()
        ids = decision_ids()
        delivered = await count_orders(pg, ids)
        now = time.perf_counter()
        if finished:
            if delivered >= len(ids):
                return now - start
            deadline = deadline or now + limit_s
            if now > deadline:
                return None
        await asyncio.sleep(0.1)


async def order_latencies(pg: asyncpg.Pool, returned_at: dict[uuid.UUID, float]) -> list[float]:
    """Milliseconds from the POST returning to the order's created_at, which the notifications
    consumer sets just before it commits; both are this machine's wall clock."""
    rows = await pg.fetch(
        "SELECT decision_id, created_at FROM notifications.provider_order"
        " WHERE decision_id = ANY($1::uuid[])",
        list(returned_at),
    )
    return [(r["created_at"].timestamp() - returned_at[r["decision_id"]]) * 1000 for r in rows]


@dataclass
class ActivitySampler:
    """Samples pg_stat_activity (10 Hz) and tallies what each service's connections are doing."""

    pool: asyncpg.Pool
    tallies: dict[str, Counter[str]] = field(default_factory=dict)
    samples: int = 0

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            rows = await self.pool.fetch(
                """SELECT application_name, state, wait_event_type, wait_event FROM pg_stat_activity
                   WHERE backend_type = 'client backend' AND application_name LIKE 'hjemflyt-%'"""
            )
            self.samples += 1
            for r in rows:
                state = r["state"] or "?"
                if r["wait_event"] and state != "idle":
                    state += f" ({r['wait_event_type']}:{r['wait_event']})"
                self.tallies.setdefault(r["application_name"], Counter())[state] += 1
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=0.1)

    def as_dict(self) -> JSON:
        """Average number of connections in each state over the samples, commonest first."""
        return {
            app: {state: round(n / max(self.samples, 1), 2) for state, n in tally.most_common()}
            for app, tally in sorted(self.tallies.items())
        }


async def wait_pipeline_drained(nats_url: str, pg: asyncpg.Pool, limit_s: float) -> JSON:
    """Seconds until every outbox is empty and no durable consumer has anything pending or
    unacknowledged, and when each of them got there."""
    nc = await nats.connect(servers=[nats_url], name="bench-observer")
    js = nc.jetstream()
    t0 = time.perf_counter()
    caught_up: dict[str, float] = {}
    pending: dict[str, int] = {}
    try:
        while time.perf_counter() - t0 < limit_s:
            pending = {}
            for service in SERVICES:
                n = await pg.fetchval(f"SELECT count(*) FROM {service}.outbox WHERE published_at IS NULL")  # noqa: S608
                pending[f"outbox {service}"] = int(n)
            for stream in await js.streams_info():
                name = stream.config.name or ""
                for info in await js.consumers_info(name):
                    pending[f"{name} -> {info.name}"] = int(
                        (info.num_pending or 0) + (info.num_ack_pending or 0)
                    )
            now = time.perf_counter() - t0
            for key, n in pending.items():
                if n == 0:
                    caught_up.setdefault(key, now)
                else:
                    caught_up.pop(key, None)
            if all(n == 0 for n in pending.values()):
                ordered = sorted(caught_up.items(), key=lambda kv: kv[1])
                return {
                    "drained_after_s": round(now, 3),
                    "caught_up_after_s": {k: round(v, 3) for k, v in ordered},
                }
            await asyncio.sleep(0.1)
        return {"drained_after_s": None, "still_pending": {k: v for k, v in pending.items() if v}}
    finally:
        await nc.close()
