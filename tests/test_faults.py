"""Fault tests: nothing lost, nothing doubled.

While a case system keeps making decisions, NATS is stopped and restarted, and the service
that creates orders is killed with SIGKILL and started again. Afterwards every decision
must have exactly one order in the provider's inbox.
"""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest

from hjemflyt.shared.demo import decision_body
from hjemflyt.shared.identity import synthetic_identity_numbers
from hjemflyt.shared.platform.auth import Role
from hjemflyt.shared.testing import eventually, suite_today
from tests.system import PROVIDER_A, Actor, all_orders, configure_municipality

pytestmark = [pytest.mark.system, pytest.mark.fault]


async def register_persons(officer, numbers: list[str]) -> list[str]:
    ids = []
    for i, number in enumerate(numbers):
        r = await officer.post(
            "/assessment/v1/persons",
            json={
                "identity_number": number,
                "name": f"Person {i}",
                "address": f"Demogata {i}",
                "district": "frogner",
            },
        )
        assert r.status_code == 201, r.text
        ids.append(r.json()["id"])
    return ids


async def decide(officer, person_ids: list[str], made: list[str], pause: float) -> None:
    """Make one decision per person, one after another, as a case system would."""
    for i, person_id in enumerate(person_ids):
        r = await officer.post(
            "/assessment/v1/decisions",
            json=decision_body(
                person_id, [("home-nursing", str(5 + i % 20), PROVIDER_A)], start=suite_today()
            ),
            headers={"Idempotency-Key": f"decision-{person_id}"},
        )
        assert r.status_code == 201, r.text
        made.append(r.json()["id"])
        await asyncio.sleep(pause)


async def assert_exactly_one_order_each(provider, made: list[str], before: int = 0) -> None:
    """Every decision in `made` has one order, and no other orders arrived besides the `before` ones."""

    async def settled():
        orders = await all_orders(provider)
        counts = Counter(o["decision_id"] for o in orders if o["decision_id"] in set(made))
        assert set(counts) == set(made), f"{len(set(made) - set(counts))} decisions without an order"
        assert set(counts.values()) == {1}, "a decision got more than one order"
        assert len(orders) == before + len(made)

    await eventually(settled, seconds=90, every=0.5)


async def test_nats_restart_mid_stream_loses_and_doubles_nothing(stack):
    async with (
        Actor(stack, Role.integration) as integration,
        Actor(stack, Role.case_officer, districts=["frogner"]) as officer,
        Actor(stack, Role.provider, provider_org=PROVIDER_A) as provider,
    ):
        await configure_municipality(integration)
        person_ids = await register_persons(officer, list(synthetic_identity_numbers(60, seed=11)))
        made: list[str] = []
        stream = asyncio.create_task(decide(officer, person_ids, made, pause=0.05))
        while len(made) < 15:
            await asyncio.sleep(0.05)
        assert stack.nats is not None
        await asyncio.to_thread(stack.nats.stop)
        # Decisions keep being made while the bus is down: the outbox holds their events.
        while len(made) < 35 and not stream.done():
            await asyncio.sleep(0.05)
        await asyncio.to_thread(stack.nats.start)
        await stream
        assert len(made) == 60
        await assert_exactly_one_order_each(provider, made)


async def test_order_service_killed_mid_stream_resumes_without_doubles(stack):
    async with (
        Actor(stack, Role.integration) as integration,
        Actor(stack, Role.case_officer, districts=["frogner"]) as officer,
        Actor(stack, Role.provider, provider_org=PROVIDER_A) as provider,
    ):
        await configure_municipality(integration)
        before = len(await all_orders(provider))
        person_ids = await register_persons(officer, list(synthetic_identity_numbers(100, seed=12))[60:])
        made: list[str] = []
        stream = asyncio.create_task(decide(officer, person_ids, made, pause=0.02))
        while len(made) < 10:
            await asyncio.sleep(0.02)
        stack.stop_process("notifications", kill=True)
        await asyncio.sleep(1.0)
        stack.start_service("notifications")
        await asyncio.to_thread(stack.wait_ready, ("notifications",))
        await stream
        await assert_exactly_one_order_each(provider, made, before)
