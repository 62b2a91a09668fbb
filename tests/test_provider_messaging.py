"""A provider's whole conversation with the municipality, through the reference client.

The four services and the gateway run as processes; the provider is the reference client
(`clients/provider`): a webhook receiver that checks every signature, and the API client
with credentials from the provider registry. A case officer decides, the provider receives
the order by webhook, acknowledges it, confirms the start, reports visits and a change of
need, the case officer answers, the decision is amended and ended, and the provider sees
every step in order. A second provider sees none of it.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hjemflyt_provider import ApiError, ProviderClient

from hjemflyt.shared.demo import decision_body
from hjemflyt.shared.devstack import DevStack
from hjemflyt.shared.identity import synthetic_identity_numbers
from hjemflyt.shared.platform.auth import Role
from hjemflyt.shared.testing import eventually
from tests.system import (
    PROVIDER_A,
    PROVIDER_B,
    Actor,
    advance_days,
    configure_municipality,
    credentials,
    legal_today,
    next_message,
    received,
    webhook_receiver,
)

pytestmark = [pytest.mark.system]


async def test_a_provider_receives_acknowledges_reports_and_is_answered(stack: DevStack) -> None:
    notifications = stack.base_url + "/notifications"
    async with (
        Actor(stack, Role.integration) as integration,
        Actor(stack, Role.case_officer, districts=["frogner"]) as officer,
        webhook_receiver() as (receiver, hook_url),
    ):
        await configure_municipality(integration)
        r = await integration.put(f"/notifications/v1/providers/{PROVIDER_A}/webhook", json={"url": hook_url})
        assert r.status_code in (200, 201), r.text
        receiver.set_secrets([r.json()["secret"]])
        a_id, a_secret = await credentials(integration, PROVIDER_A)
        b_id, b_secret = await credentials(integration, PROVIDER_B)

        async with (
            ProviderClient(notifications, client_id=a_id, client_secret=a_secret) as provider,
            ProviderClient(notifications, client_id=b_id, client_secret=b_secret) as other,
        ):
            # 1. A decision with provider A: the order arrives by signed webhook.
            number = next(iter(synthetic_identity_numbers(1, seed=404)))
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
            person_id = r.json()["id"]
            today = await legal_today(officer)
            start = today + timedelta(days=7)
            r = await officer.post(
                "/assessment/v1/decisions",
                json=decision_body(person_id, [("home-nursing", "20", PROVIDER_A)], start=start),
            )
            assert r.status_code == 201, r.text
            decision = r.json()

            new = await next_message(receiver, person_id, "order.new")
            assert new["data"]["recipient"]["identity_number"] == number
            assert new["data"]["services"][0]["hours_per_month"] in ("20", "20.00", 20)
            assert new["ack"]["required"] is True
            order_id = new["order_id"]
            assert receiver.rejected == 0

            # 2. Acknowledged, started, visits reported (a retried batch is stored once).
            await provider.acknowledge(new["id"], accepted=True)
            await provider.acknowledge(new["id"], accepted=True)  # a retry is harmless
            with pytest.raises(ApiError) as refused:
                await provider.acknowledge(new["id"], accepted=False, reason="changed our mind")
            assert refused.value.status == 409
            # A start cannot be confirmed before it happened: ten days pass (in every service).
            early = {"staff_id": "emp-17", "name": "Primær Kontakt", "phone": "40000017"}
            with pytest.raises(ApiError) as refused:
                await provider.confirm_start(order_id, started_on=start, primary_contact=early)
            assert refused.value.status == 422
            await advance_days(integration, 10)
            await provider.confirm_start(
                order_id,
                started_on=start,
                primary_contact={"staff_id": "emp-17", "name": "Primær Kontakt", "phone": "40000017"},
            )
            day = datetime(start.year, start.month, start.day, 8, 0, tzinfo=UTC)
            visits = [
                {
                    "visit_id": f"v-{i}",
                    "order_id": order_id,
                    "planned_start": (day + timedelta(days=i)).isoformat(),
                    "planned_end": (day + timedelta(days=i, minutes=45)).isoformat(),
                    "actual_start": (day + timedelta(days=i, minutes=5)).isoformat(),
                    "actual_end": (day + timedelta(days=i, minutes=50)).isoformat(),
                    "staff_id": f"emp-{17 + i % 2}",
                    "measures_done": [],
                    "cancelled": False,
                }
                for i in range(3)
            ]
            batch = str(uuid.uuid4())
            first = await provider.upload_visits(batch, visits)
            assert await provider.upload_visits(batch, visits) == first

            # 3. A change of need becomes a task; the case officer answers; the provider hears.
            report = await provider.report_change_of_need(
                order_id,
                observation="Trenger hjelp også om kvelden etter fallet.",
                proposed_change="Kveldsbesøk hver dag",
                proposed_hours_per_month=30,
            )

            async def task_for_report() -> dict[str, Any]:
                r = await officer.get("/notifications/v1/tasks", params={"kind": "change_of_need"})
                assert r.status_code == 200, r.text
                tasks = [t for t in r.json()["items"] if t["person_id"] == person_id]
                assert tasks, "no change-of-need task yet"
                return tasks[0]

            task = await eventually(task_for_report, seconds=20)
            assert task["order_id"] == order_id
            r = await officer.post(
                f"/notifications/v1/change-of-need/{report['id']}/answer",
                json={"outcome": "accepted", "answer": "Vi øker til 30 timer i måneden."},
            )
            assert r.status_code == 200, r.text
            answered = await next_message(receiver, person_id, "change_of_need.answered")
            assert answered["data"]["outcome"] == "accepted"
            r = await officer.get(f"/notifications/v1/tasks/{task['id']}")
            assert r.json()["status"] == "done", r.json()

            # 4. The decision is amended in the person's favour: a changed order saying what changed.
            current = (await officer.get(f"/assessment/v1/decisions/{decision['id']}")).json()
            more = decision_body(person_id, [("home-nursing", "30", PROVIDER_A)], start=start)["services"]
            r = await officer.patch(
                f"/assessment/v1/decisions/{decision['id']}",
                json={"services": more},
                headers={"If-Match": f'"{current["version"]}"'},
            )
            assert r.status_code == 200, r.text
            changed = await next_message(receiver, person_id, "order.changed")
            assert changed["order_id"] == order_id
            assert changed["data"]["changes"], changed["data"]
            await provider.acknowledge(changed["id"], accepted=True)

            # 5. Ended.
            current = (await officer.get(f"/assessment/v1/decisions/{decision['id']}")).json()
            r = await officer.post(
                f"/assessment/v1/decisions/{decision['id']}/end",
                json={"end_date": (start + timedelta(days=60)).isoformat(), "reason": "person_wish"},
                headers={"If-Match": f'"{current["version"]}"'},
            )
            assert r.status_code == 200, r.text
            await next_message(receiver, person_id, "order.ended")

            # The case office sees the order's state and each message's delivery.
            r = await officer.get(f"/notifications/v1/orders/{order_id}/messages")
            assert r.status_code == 200, r.text
            order_messages = [m for m in r.json() if m["kind"].startswith("order.")]
            assert [m["kind"] for m in order_messages] == ["order.new", "order.changed", "order.ended"]
            assert {m["delivery"]["state"] for m in order_messages} == {"delivered"}, order_messages
            assert [m["ack"]["status"] for m in order_messages[:2]] == ["accepted", "accepted"]

            # Every message about the person came once, in sequence, and the inbox holds the same.
            messages = received(receiver, person_id)
            assert [m["sequence"] for m in messages] == list(range(1, len(messages) + 1))
            assert [m["kind"] for m in messages] == [
                "order.new",
                "change_of_need.answered",
                "order.changed",
                "order.ended",
            ]
            inbox = [m async for m in provider.messages()]
            assert [m["id"] for m in inbox if m["person_id"] == person_id] == [m["id"] for m in messages]

            # 6. The second provider sees none of it.
            assert [m async for m in other.messages()] == []
            for call in (
                other.order(order_id),
                other.acknowledge(new["id"]),
                other.confirm_start(order_id, started_on=start, primary_contact=early),
                other.report_change_of_need(order_id, observation="x", proposed_change="y"),
                other.report_deviation(
                    order_id, severity="low", category="fall", description="x", occurred_at=day.isoformat()
                ),
            ):
                with pytest.raises(ApiError) as hidden:
                    await call
                assert hidden.value.status == 404, hidden.value.problem
            with pytest.raises(ApiError) as hidden:
                await other.upload_visits(str(uuid.uuid4()), visits[:1])
            assert hidden.value.status in (404, 422), hidden.value.problem
            assert "Solveig" not in str(hidden.value.problem)
