"""The legal edges of a running decision, as a case office and a provider's system see them
(forvaltningsloven § 35): a detrimental edit is refused, an early end needs a lawful reason
and tells the provider why, and a decision starts and ends by the clock, the provider told
by webhook each time.

The four services and the gateway run as processes; the decision clock's sweep runs every
second here (HJEMFLYT_DECISION_SWEEP_SECONDS), and the clock moves in every service at once.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any, cast

import pytest
from hjemflyt_provider import ProviderClient

from hjemflyt.shared.demo import decision_body
from hjemflyt.shared.devstack import DevStack
from hjemflyt.shared.identity import synthetic_identity_numbers
from hjemflyt.shared.platform.auth import Role
from tests.conftest import fresh_stack
from tests.system import (
    PROVIDER_A,
    Actor,
    advance_days,
    configure_municipality,
    credentials,
    legal_today,
    next_message,
    webhook_receiver,
)

pytestmark = [pytest.mark.system]


@pytest.fixture(scope="module")
def clock_stack() -> Iterator[DevStack]:
    stack = fresh_stack("test_decision_clock")
    stack.extra_env["HJEMFLYT_DECISION_SWEEP_SECONDS"] = "1"
    with stack as running:
        yield running


async def register(officer: Any, number: str) -> str:
    r = await officer.post(
        "/assessment/v1/persons",
        json={
            "identity_number": number,
            "name": "Solveig Dahl",
            "address": "Testgata 4",
            "district": "frogner",
        },
    )
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


async def test_a_running_decision_changes_only_lawfully_and_runs_by_the_clock(clock_stack: DevStack) -> None:
    stack = clock_stack
    async with (
        Actor(stack, Role.integration) as integration,
        Actor(stack, Role.case_officer, districts=["frogner"]) as officer,
        webhook_receiver() as (receiver, hook_url),
    ):
        await configure_municipality(integration)
        r = await integration.put(f"/notifications/v1/providers/{PROVIDER_A}/webhook", json={"url": hook_url})
        assert r.status_code in (200, 201), r.text
        receiver.set_secrets([r.json()["secret"]])
        client_id, secret = await credentials(integration, PROVIDER_A)
        first, second = synthetic_identity_numbers(2, seed=512)

        async with ProviderClient(
            stack.base_url + "/notifications", client_id=client_id, client_secret=secret
        ) as provider:
            # 1. A decision for 20 days from a week ahead, made and sent; the provider accepts it.
            person_id = await register(officer, first)
            start = await legal_today(officer) + timedelta(days=7)
            last_day = start + timedelta(days=20)
            body = decision_body(
                person_id,
                [("home-nursing", "20", PROVIDER_A)],
                start=start,
                evaluation_days=14,
                end_date=str(last_day),
            )
            r = await officer.post("/assessment/v1/decisions", json=body)
            assert r.status_code == 201, r.text
            decision = r.json()
            url = f"/assessment/v1/decisions/{decision['id']}"
            r = await officer.post(f"{url}/send", headers={"If-Match": f'"{decision["version"]}"'})
            assert r.status_code == 200, r.text
            sent: dict[str, Any] = r.json()
            new = await next_message(receiver, person_id, "order.new")
            await provider.acknowledge(new["id"], accepted=True)

            # 2. To the person's detriment: refused, naming what is worse; nothing reaches the provider.
            frame = {
                **cast(list[dict[str, Any]], body["services"])[0],
                "scope_kind": "frame",
                "frame_min_hours": "0.5",
                "frame_max_hours": "20",
            }
            frame.pop("hours_per_month")
            r = await officer.patch(
                url, json={"services": [frame]}, headers={"If-Match": f'"{sent["version"]}"'}
            )
            assert r.status_code == 409, r.text
            assert r.json()["type"].endswith("/reduction-requires-new-decision")
            assert any("minimum hours is lower" in d for d in r.json()["detriments"]), r.json()

            # 3. On its start date it becomes active by itself; the provider is told (no answer asked).
            await advance_days(integration, 7)
            started = await next_message(receiver, person_id, "order.started")
            assert started["order_id"] == new["order_id"]
            assert started["ack"]["required"] is False
            assert started["data"]["started"]["start_date"] == start.isoformat()
            assert (await officer.get(url)).json()["status"] == "active"

            # 4. The day after its last day it ends by itself; the provider's order ends, saying why.
            await advance_days(integration, 21)
            ended = await next_message(receiver, person_id, "order.ended")
            assert ended["order_id"] == new["order_id"]
            assert (ended["data"]["end_reason"], ended["data"]["end_date"]) == (
                "expired",
                last_day.isoformat(),
            )
            current = (await officer.get(url)).json()
            assert (current["status"], current["end_reason"]) == ("ended", "expired")

            # 5. Ending a running decision early: not for a generic reason; for a lawful one, and the
            # provider hears which.
            other_id = await register(officer, second)
            start = await legal_today(officer) + timedelta(days=3)
            r = await officer.post(
                "/assessment/v1/decisions",
                json=decision_body(other_id, [("home-nursing", "12", PROVIDER_A)], start=start),
            )
            assert r.status_code == 201, r.text
            other_url = f"/assessment/v1/decisions/{r.json()['id']}"
            await next_message(receiver, other_id, "order.new")
            end = {"end_date": (start + timedelta(days=10)).isoformat(), "reason": "ended"}
            r = await officer.post(f"{other_url}/end", json=end)
            assert r.status_code == 422, r.text
            assert r.json()["type"].endswith("/end-reason-not-allowed")
            r = await officer.post(f"{other_url}/end", json={**end, "reason": "deceased"})
            assert r.status_code == 200, r.text
            gone = await next_message(receiver, other_id, "order.ended")
            assert gone["data"]["end_reason"] == "deceased"
