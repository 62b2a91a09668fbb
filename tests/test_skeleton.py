"""The walking skeleton, end to end: four services as processes, one gateway, real bus.

A case system configures the municipality, a case officer registers a person and makes a
decision; the decision must show up on the person's timeline (pathway), in the decided
hours per provider unit (budget) and in the chosen provider's inbox (notifications) — and
in no other provider's.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import httpx
import pytest

from hjemflyt.shared.demo import decision_body
from hjemflyt.shared.identity import synthetic_identity_numbers
from hjemflyt.shared.platform.auth import Role
from hjemflyt.shared.platform.devissuer import DevIssuer
from hjemflyt.shared.testing import eventually, suite_now, suite_today
from tests.system import PROVIDER_A, PROVIDER_B, Actor, all_orders, configure_municipality

pytestmark = pytest.mark.system

NUMBERS = list(synthetic_identity_numbers(10, seed=42))


async def test_decision_reaches_timeline_budget_and_the_chosen_provider_only(stack):
    async with (
        Actor(stack, Role.integration) as integration,
        Actor(stack, Role.case_officer, districts=["frogner"], subject="case-officer-1") as officer,
        Actor(stack, Role.manager) as manager,
        Actor(stack, Role.provider, provider_org=PROVIDER_A) as provider_a,
        Actor(stack, Role.provider, provider_org=PROVIDER_B) as provider_b,
    ):
        await configure_municipality(integration)
        r = await officer.post(
            "/assessment/v1/persons",
            json={
                "identity_number": NUMBERS[0],
                "name": "Kari Nordmann",
                "address": "Eksempelveien 1, 0250 Oslo",
                "district": "frogner",
            },
        )
        assert r.status_code == 201, r.text
        person_id = r.json()["id"]
        r = await officer.post(
            "/assessment/v1/decisions",
            json=decision_body(
                person_id,
                [("home-nursing", "24", PROVIDER_A), ("practical-help", "6.5", PROVIDER_B)],
                start=suite_today(),
            ),
        )
        assert r.status_code == 201, r.text
        decision_id = r.json()["id"]

        async def on_timeline():
            r = await officer.get(f"/pathway/v1/persons/{person_id}/timeline")
            assert r.status_code == 200
            kinds = [e["kind"] for e in r.json()["entries"]]
            assert kinds.count("decision-made") == 1
            assert kinds.count("order-created") == 2  # one order per chosen provider

        await eventually(on_timeline, seconds=30)

        async def in_budget():
            r = await manager.get("/budget/v1/providers/hours")
            assert r.status_code == 200
            hours = {u["provider_org"]: u["hours_per_month"] for u in r.json()}
            assert hours == {PROVIDER_A: "24.00", PROVIDER_B: "6.50"}

        await eventually(in_budget, seconds=30)

        orders_a = await all_orders(provider_a)
        orders_b = await all_orders(provider_b)
        assert [o["decision_id"] for o in orders_a] == [decision_id]
        assert [s["service_type"] for s in orders_a[0]["services"]] == ["home-nursing"]
        assert orders_a[0]["recipient"]["name"] == "Kari Nordmann"
        assert orders_a[0]["case_office_contact"] == "Forvaltning Frogner"
        assert [s["service_type"] for s in orders_b[0]["services"]] == ["practical-help"]
        # Each provider sees only its own order.
        assert (await provider_b.get(f"/notifications/v1/orders/{orders_a[0]['id']}")).status_code == 404
        assert (await provider_a.get(f"/notifications/v1/orders/{orders_a[0]['id']}")).status_code == 200
        # And a provider cannot read case handling's data.
        assert (await provider_a.get(f"/assessment/v1/persons/{person_id}")).status_code == 403


async def test_bad_input_is_refused_with_problem_json_and_changes_nothing(stack, tmp_path):
    async with (
        Actor(stack, Role.integration) as integration,
        Actor(stack, Role.case_officer, districts=["frogner"]) as officer,
        Actor(stack, Role.provider, provider_org=PROVIDER_A) as provider_a,
        Actor(stack, Role.manager) as manager,
    ):
        await configure_municipality(integration)
        persons_before = (await integration.get("/assessment/v1/persons", params={"limit": 500})).json()[
            "items"
        ]
        orders_before = len(await all_orders(provider_a))
        hours_before = (await manager.get("/budget/v1/providers/hours")).json()

        def is_problem(r: httpx.Response, status: int, slug: str) -> None:
            assert r.status_code == status, r.text
            assert r.headers["content-type"].startswith("application/problem+json")
            assert r.json()["type"].endswith("/" + slug)

        bad_number = NUMBERS[1][:-1] + str((int(NUMBERS[1][-1]) + 1) % 10)
        person = {
            "identity_number": bad_number,
            "name": "Ola",
            "address": "Demogata 2",
            "district": "frogner",
        }
        is_problem(await officer.post("/assessment/v1/persons", json=person), 422, "invalid-identity-number")
        is_problem(
            await officer.post(
                "/assessment/v1/persons", content=b"{not json", headers={"content-type": "application/json"}
            ),
            422,
            "validation-error",
        )
        is_problem(
            await officer.post("/assessment/v1/persons", json={"name": "Ola"}), 422, "validation-error"
        )

        person["identity_number"] = NUMBERS[2]
        async with httpx.AsyncClient(base_url=stack.base_url) as anonymous:
            is_problem(await anonymous.post("/assessment/v1/persons", json=person), 401, "unauthorized")
        foreign = DevIssuer(tmp_path / "foreign", issuer=stack.settings.jwt_issuer).token(
            role=Role.integration
        )
        async with httpx.AsyncClient(
            base_url=stack.base_url, headers={"Authorization": f"Bearer {foreign}"}
        ) as c:
            is_problem(await c.post("/assessment/v1/persons", json=person), 401, "unauthorized")

        r = await officer.post("/assessment/v1/persons", json=person)
        assert r.status_code == 201
        person_id = r.json()["id"]
        decision = decision_body(person_id, [("home-nursing", "10", "974760673")], start=suite_today())
        is_problem(await officer.post("/assessment/v1/decisions", json=decision), 422, "unknown-provider")

        # Nothing stored, no event: only the one valid person was added, and no order or hours appeared.
        persons_after = (await integration.get("/assessment/v1/persons", params={"limit": 500})).json()[
            "items"
        ]
        assert [p["id"] for p in persons_after if p not in persons_before] == [person_id]
        assert (await integration.get(f"/assessment/v1/persons/{person_id}/decisions")).json() == []
        # A valid decision made afterwards is the first to arrive: had the refused one produced an
        # event, its order would be in the inbox as well.
        decision["services"][0]["provider_org"] = PROVIDER_A
        assert (await officer.post("/assessment/v1/decisions", json=decision)).status_code == 201

        async def one_new_order():
            assert len(await all_orders(provider_a)) == orders_before + 1

        await eventually(one_new_order, seconds=30)
        before = {u["provider_org"]: float(u["hours_per_month"]) for u in hours_before}

        async def only_the_valid_decisions_hours():
            # Budget consumes the same event on its own: wait for it, then the refused one must not count.
            after = {
                u["provider_org"]: float(u["hours_per_month"])
                for u in (await manager.get("/budget/v1/providers/hours")).json()
            }
            assert after[PROVIDER_A] == before.get(PROVIDER_A, 0) + 10

        await eventually(only_the_valid_decisions_hours, seconds=30)


async def test_gateway_serves_docs_health_and_the_event_catalogue(stack):
    async with httpx.AsyncClient(base_url=stack.base_url) as client:
        health = await client.get("/healthz")
        assert health.status_code == 200
        assert health.json()["services"] == dict.fromkeys(
            ["assessment", "pathway", "budget", "notifications"], "ok"
        )
        for service in ("assessment", "pathway", "budget", "notifications"):
            spec = (await client.get(f"/{service}/openapi.json")).json()
            assert spec["servers"] == [{"url": f"/{service}"}]
            assert (await client.get(f"/{service}/docs")).status_code == 200
        catalogue = (await client.get("/asyncapi.json")).json()
        assert "no.hjemflyt.assessment.decision.made.v1" in {
            m["name"] for m in catalogue["components"]["messages"].values()
        }
        # A path the gateway routes nowhere: its own answer, a problem as the services' are.
        # (The requests that broke the home-made proxy, issue 14's list: test_issue_14_gateway.py.)
        r = await client.get("/nosuchservice/v1/x")
        assert r.status_code == 404
        assert r.headers["content-type"].startswith("application/problem+json")


async def test_time_moves_in_every_service_at_once(stack):
    async with httpx.AsyncClient(base_url=stack.base_url) as client:
        before = (await client.get("/assessment/_dev/clock")).json()["offset_seconds"]
        r = await client.post("/_dev/clock", json={"advance_seconds": 86400})
        assert r.status_code == 200, r.text
        offsets = {name: state["offset_seconds"] for name, state in r.json().items()}
        assert set(offsets) == {"assessment", "pathway", "budget", "notifications"}
        assert all(offset >= before + 86400 for offset in offsets.values())
        backwards = await client.post("/assessment/_dev/clock", json={"offset_seconds": 0})
        assert backwards.status_code == 409


async def test_every_process_lives_on_the_suites_pinned_day(stack):
    # HJEMFLYT_TEST_TODAY reaches the processes: their clock is the suite's, give or take the
    # seconds of the run, whichever day the suite is pinned to.
    async with httpx.AsyncClient(base_url=stack.base_url) as client:
        for service in ("assessment", "pathway", "budget", "notifications"):
            state = (await client.get(f"/{service}/_dev/clock")).json()
            now = datetime.fromisoformat(state["now"]) - timedelta(seconds=state["offset_seconds"])
            assert abs(now - suite_now()) < timedelta(minutes=1), service
