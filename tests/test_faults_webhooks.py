"""Fault test: the notifications service is killed with SIGKILL while it delivers webhooks.

A case system makes decisions for many persons with provider A, whose webhook is the
reference receiver. In the middle of delivery notifications is SIGKILLed and started again.
Afterwards every order reached the provider, each person's messages in sequence, and the
provider's code handled each message once (a delivery cut off between the provider's 2xx
and hjemflyt's record of it may come again: the receiver drops it by message id).
"""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest

from hjemflyt.shared.identity import synthetic_identity_numbers
from hjemflyt.shared.platform.auth import Role
from hjemflyt.shared.testing import eventually
from tests.system import PROVIDER_A, Actor, configure_municipality, webhook_receiver
from tests.test_faults import decide, register_persons

pytestmark = [pytest.mark.system, pytest.mark.fault]


async def test_sigkill_mid_delivery_loses_nothing_and_keeps_order(stack):
    async with (
        Actor(stack, Role.integration) as integration,
        Actor(stack, Role.case_officer, districts=["frogner"]) as officer,
        webhook_receiver() as (receiver, hook_url),
    ):
        await configure_municipality(integration)
        r = await integration.put(f"/notifications/v1/providers/{PROVIDER_A}/webhook", json={"url": hook_url})
        assert r.status_code in (200, 201), r.text
        receiver.set_secrets([r.json()["secret"]])

        person_ids = await register_persons(officer, list(synthetic_identity_numbers(40, seed=31)))
        made: list[str] = []
        stream = asyncio.create_task(decide(officer, person_ids, made, pause=0.02))
        while len([d for d in receiver.deliveries if not d.duplicate]) < 8:
            await asyncio.sleep(0.02)
        stack.stop_process("notifications", kill=True)
        await asyncio.sleep(1.0)
        stack.start_service("notifications")
        await asyncio.to_thread(stack.wait_ready, ("notifications",))
        await stream
        assert len(made) == 40

        async def all_delivered() -> None:
            handled = [d.message for d in receiver.deliveries if not d.duplicate]
            orders = Counter(m["data"]["decision_id"] for m in handled if m["kind"] == "order.new")
            assert set(orders) == set(made), f"{len(set(made) - set(orders))} orders not delivered yet"
            assert set(orders.values()) == {1}

        # The lease of a claim cut off by the kill must run out before it is retried.
        await eventually(all_delivered, seconds=120, every=0.5)
        assert receiver.rejected == 0
        assert receiver.gaps == [], "a person's messages arrived out of sequence"
