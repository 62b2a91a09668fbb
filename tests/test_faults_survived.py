"""Faults are survived, not just tested (issue 14).

A case system makes decisions through the gateway, one after another, while the system is
hurt: each of the four services is killed with SIGKILL in turn (the dev stack's supervisor
starts it again), PostgreSQL is restarted, and - on a three-node NATS cluster with
replicated streams - the node leading the decisions' stream is killed. The case system
does what an integrator does on a 502/503 or a broken connection: it sends the same
request again with the same Idempotency-Key.

Afterwards every decision has exactly one order at the provider, one `decision-made` entry
on the person's timeline and one row of decided hours in budget: nothing lost, nothing
doubled. Each scenario is tens of decisions, so the suite stays quick.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import threading
from collections import Counter
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

import httpx
import nats
import pytest

from hjemflyt.shared.contracts.registry import stream_name
from hjemflyt.shared.demo import decision_body
from hjemflyt.shared.devstack import DevStack
from hjemflyt.shared.identity import synthetic_identity_numbers
from hjemflyt.shared.platform.auth import Role
from hjemflyt.shared.platform.settings import SERVICES
from hjemflyt.shared.testing import eventually, suite_today
from tests.conftest import fresh_stack
from tests.system import PROVIDER_A, Actor, all_orders, configure_municipality

pytestmark = [pytest.mark.system, pytest.mark.fault]

RETRYABLE = {502, 503, 504}
NUMBERS = list(synthetic_identity_numbers(400, seed=1401))  # the two scenarios on one stack share none


@contextlib.contextmanager
def supervised(stack: DevStack) -> Iterator[list[str]]:
    """`make run`'s supervisor over the stack: a process that dies is started again."""
    stop = threading.Event()
    restarts: list[str] = []
    thread = threading.Thread(target=stack.supervise, args=(stop, restarts.append), daemon=True)
    thread.start()
    try:
        yield restarts
    finally:
        stop.set()
        thread.join(10)


@dataclass
class CaseSystem:
    """Registers a person and makes a decision for them through the gateway, one person after
    another, until told to stop; retries a request that failed for want of a service
    (gateway 502/503/504, a broken connection) with the same Idempotency-Key, as an
    integrator is told to."""

    officer: httpx.AsyncClient
    numbers: list[str]  # more than the stream will need: it stops when told to
    pause: float = 0.2
    made: dict[str, str] = field(default_factory=dict)  # decision id -> person id
    hours: dict[str, Decimal] = field(default_factory=dict)  # decision id -> hours a month
    retried: Counter[int | str] = field(default_factory=Counter)
    enough: asyncio.Event = field(default_factory=asyncio.Event)

    async def send(self, path: str, body: Mapping[str, object], key: str) -> httpx.Response:
        for _ in range(600):
            try:
                r = await self.officer.post(path, json=body, headers={"Idempotency-Key": key})
            except httpx.TransportError as exc:
                self.retried[type(exc).__name__] += 1
            else:
                if r.status_code not in RETRYABLE:
                    return r
                self.retried[r.status_code] += 1
            await asyncio.sleep(0.2)
        raise AssertionError(f"{path} did not succeed in two minutes: {self.retried}")

    async def run(self) -> None:
        for i, number in enumerate(self.numbers):
            if self.enough.is_set():
                return
            person = {
                "identity_number": number,
                "name": f"Person {i}",
                "address": "Vei 1",
                "district": "frogner",
            }
            r = await self.send("/assessment/v1/persons", person, f"person-{number}")
            assert r.status_code == 201, r.text
            person_id = r.json()["id"]
            hours = Decimal(5 + i % 20)
            body = decision_body(person_id, [("home-nursing", str(hours), PROVIDER_A)], start=suite_today())
            r = await self.send("/assessment/v1/decisions", body, f"decision-{person_id}")
            assert r.status_code == 201, r.text
            self.made[r.json()["id"]] = person_id
            self.hours[r.json()["id"]] = hours
            await asyncio.sleep(self.pause)
        raise AssertionError(f"the stream ran out of {len(self.numbers)} persons before it was stopped")

    async def reach(self, count: int, stream: asyncio.Task[None]) -> None:
        """Until `count` decisions are made; raises what failed the stream."""
        while len(self.made) < count and not stream.done():
            await asyncio.sleep(0.05)
        if stream.done():
            stream.result()

    async def more(self, count: int, stream: asyncio.Task[None]) -> None:
        """Until `count` more decisions than now are made."""
        await self.reach(len(self.made) + count, stream)

    async def stop_after(self, count: int, stream: asyncio.Task[None]) -> None:
        """`count` more decisions, then the stream ends."""
        await self.more(count, stream)
        self.enough.set()
        await stream


@contextlib.asynccontextmanager
async def actors(stack: DevStack) -> AsyncIterator[tuple[httpx.AsyncClient, ...]]:
    async with (
        Actor(stack, Role.integration) as integration,
        Actor(stack, Role.case_officer, districts=["frogner"]) as officer,
        Actor(stack, Role.provider, provider_org=PROVIDER_A) as provider,
    ):
        yield integration, officer, provider


async def assert_nothing_lost_or_doubled(
    integration: httpx.AsyncClient, provider: httpx.AsyncClient, cases: CaseSystem, orders_before: int
) -> None:
    """Every decision: one order at the provider, one `decision-made` timeline entry, one row
    of decided hours (its hours); and no order besides these has arrived."""
    made = cases.made
    assert len(set(made.values())) == len(made)  # one decision per person

    async def orders() -> None:
        got = await all_orders(provider)
        counts = Counter(o["decision_id"] for o in got if o["decision_id"] in made)
        assert len(set(made) - set(counts)) == 0, f"{len(set(made) - set(counts))} decisions without an order"
        assert set(counts.values()) == {1}, f"doubled orders: {[d for d, n in counts.items() if n > 1]}"
        assert len(got) == orders_before + len(made)

    async def timelines() -> None:
        for decision_id, person_id in made.items():
            r = await integration.get(
                f"/pathway/v1/persons/{person_id}/timeline", params={"kind": "decision-made"}
            )
            assert r.status_code == 200, r.text
            entries = r.json()["entries"]
            assert len(entries) == 1, f"{person_id}: {len(entries)} decision-made entries"
            assert entries[0]["reference"] == decision_id

    async def budget() -> None:
        for decision_id, person_id in made.items():
            r = await integration.get(f"/budget/v1/persons/{person_id}/hours")
            assert r.status_code == 200, r.text
            rows = r.json()
            assert len(rows) == 1, f"{person_id}: {len(rows)} rows of decided hours"
            assert rows[0]["decision_id"] == decision_id
            assert Decimal(rows[0]["hours_per_month"]) == cases.hours[decision_id]

    for check in (orders, timelines, budget):
        await eventually(check, seconds=90, every=0.5)
    await asyncio.sleep(2)  # and nothing arrives twice afterwards (a late redelivery)
    for check in (orders, timelines, budget):
        await check()


async def all_ready(stack: DevStack) -> None:
    async with httpx.AsyncClient(base_url=stack.base_url, timeout=5) as client:
        for service in SERVICES:
            r = await client.get(f"/{service}/readyz")
            assert r.status_code == 200, f"{service}: {r.text}"


# ------------------------------------------------------------------ single NATS, supervised


async def test_each_service_killed_in_turn_mid_stream(stack):
    with supervised(stack) as restarts:
        async with actors(stack) as (integration, officer, provider):
            await configure_municipality(integration)
            orders_before = len(await all_orders(provider))
            # Slower: the stream goes on while each service is restarted (seconds each).
            cases = CaseSystem(officer, NUMBERS[:300], pause=0.4)
            stream = asyncio.create_task(cases.run())
            for service in SERVICES:
                await cases.more(3, stream)  # decisions before each kill: it lands mid-stream
                old = stack.procs[service].pid
                stack.procs[service].send_signal(signal.SIGKILL)

                async def back(service: str = service, old: int = old) -> None:
                    assert stack.procs[service].pid != old
                    await all_ready(stack)

                await eventually(back, seconds=60)
            await cases.stop_after(3, stream)
            assert [r.split(" exited")[0] for r in restarts] == list(SERVICES)
            assert all(" exited with -9" in r for r in restarts)
            await assert_nothing_lost_or_doubled(integration, provider, cases, orders_before)


async def test_postgres_restarted_mid_stream(stack):
    assert stack.postgres is not None
    async with actors(stack) as (integration, officer, provider):
        await configure_municipality(integration)
        orders_before = len(await all_orders(provider))
        cases = CaseSystem(officer, NUMBERS[300:])
        stream = asyncio.create_task(cases.run())
        await cases.reach(10, stream)
        await asyncio.to_thread(stack.postgres.stop)
        await asyncio.sleep(2)  # the case system meets a system without its database
        await asyncio.to_thread(stack.postgres.start)
        await cases.stop_after(10, stream)
        await eventually(lambda: all_ready(stack), seconds=30)
        await assert_nothing_lost_or_doubled(integration, provider, cases, orders_before)
        # Not one process had to be restarted to get there.
        assert all(proc.poll() is None for proc in stack.procs.values())


# ------------------------------------------------------------------ three-node NATS cluster


@pytest.fixture(scope="module")
def cluster_stack() -> Iterator[DevStack]:
    with fresh_stack("test_faults_survived_cluster", nats_nodes=3, nats_stream_replicas=3) as running:
        yield running


async def stream_leader(stack: DevStack, stream: str) -> int:
    """Index (0-based) of the cluster node leading `stream`."""
    nc = await nats.connect(servers=stack.nats_url.split(","))
    try:

        async def led() -> str:
            try:
                info = await nc.jetstream(timeout=2).stream_info(stream)
            except nats.errors.Error as exc:  # no leader elected yet
                raise AssertionError(exc) from exc
            assert info.config.num_replicas == 3
            assert info.cluster is not None
            assert info.cluster.leader is not None
            return info.cluster.leader

        leader = await eventually(led, seconds=30)
    finally:
        await nc.close()
    return int(leader.removeprefix("n")) - 1


async def test_stream_leader_killed_on_a_three_node_cluster(cluster_stack):
    stack = cluster_stack
    assert stack.nats_cluster is not None
    async with actors(stack) as (integration, officer, provider):
        await configure_municipality(integration)
        orders_before = len(await all_orders(provider))
        cases = CaseSystem(officer, list(synthetic_identity_numbers(100, seed=1403)))
        # The decisions' events travel on assessment's stream: kill the node that leads it.
        leader = await stream_leader(stack, stream_name(stack.settings.bus_namespace, "assessment"))
        stream = asyncio.create_task(cases.run())
        await cases.reach(10, stream)
        await asyncio.to_thread(stack.nats_cluster.kill_node, leader)
        await cases.stop_after(15, stream)
        # Two nodes of three are a quorum: everything arrives while the killed one is down ...
        await assert_nothing_lost_or_doubled(integration, provider, cases, orders_before)
        # ... and nothing twice once it is back and has caught up.
        await asyncio.to_thread(stack.nats_cluster.start_node, leader)
        await assert_nothing_lost_or_doubled(integration, provider, cases, orders_before)
