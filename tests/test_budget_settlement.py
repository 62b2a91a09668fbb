"""Hourly purchase through the whole system: a case officer grants home nursing with a
chosen private provider; the provider reports three visits of 1 h 30 min through
notifications (without naming the service type: the order has one); the contract owner
drafts and issues the month's statement in budget, where each visit is a line at the
framework agreement's 650.00 kr per hour; the provider reads its statement line by line,
and another provider cannot see it. All of it over the gateway, the services as processes."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

import httpx
import pytest

from hjemflyt.shared.demo import decision_body
from hjemflyt.shared.identity import synthetic_identity_numbers
from hjemflyt.shared.platform.auth import Role
from hjemflyt.shared.platform.clock import OSLO
from hjemflyt.shared.testing import eventually
from tests.system import (
    PROVIDER_A,
    PROVIDER_B,
    Actor,
    advance_days,
    configure_municipality,
    framework_agreement,
    legal_today,
)

pytestmark = [pytest.mark.system, pytest.mark.calendar]

PRICE = 65_000  # 650.00 kr per hour of home nursing


async def order_for(provider: httpx.AsyncClient, person_id: str) -> str:
    async def arrived() -> str:
        r = await provider.get("/notifications/v1/inbox", params={"limit": 200})
        assert r.status_code == 200, r.text
        found = [m for m in r.json()["items"] if m["kind"] == "order.new" and m["person_id"] == person_id]
        assert found, "no order yet"
        return str(found[0]["order_id"])

    return await eventually(arrived, seconds=45, every=0.2)


async def test_delivered_visits_become_a_providers_statement(stack) -> None:
    async with (
        Actor(stack, Role.integration) as integration,
        Actor(stack, Role.case_officer, districts=["frogner"]) as officer,
        Actor(stack, Role.manager, subject="kontraktsansvarlig") as manager,
        Actor(stack, Role.provider, provider_org=PROVIDER_A) as provider,
        Actor(stack, Role.provider, provider_org=PROVIDER_B) as other,
    ):
        await configure_municipality(integration)
        # The framework agreement: home nursing at 650.00 kr per hour.
        await framework_agreement(integration, PRICE)

        number = next(iter(synthetic_identity_numbers(1, seed=5150)))
        r = await officer.post(
            "/assessment/v1/persons",
            json={
                "identity_number": number,
                "name": "Astrid Berg",
                "address": "Testveien 9",
                "district": "frogner",
            },
        )
        assert r.status_code == 201, r.text
        person_id = r.json()["id"]
        today = await legal_today(officer)
        start = today + timedelta(days=1)
        r = await officer.post(
            "/assessment/v1/decisions",
            json=decision_body(person_id, [("home-nursing", "20", PROVIDER_A)], start=start),
        )
        assert r.status_code == 201, r.text
        order_id = await order_for(provider, person_id)

        # Time passes (in every service) into the next month, so the visits' month is over.
        following = date(start.year + (start.month == 12), start.month % 12 + 1, 1)
        await advance_days(integration, (following - today).days + 1)

        def at(hour: int) -> datetime:
            return datetime.combine(start, time(hour), OSLO)

        visits: list[dict[str, Any]] = [
            {
                "visit_id": f"sv-{i}",
                "order_id": order_id,
                "planned_start": at(8 + 3 * i).isoformat(),
                "planned_end": (at(8 + 3 * i) + timedelta(minutes=90)).isoformat(),
                "actual_start": at(8 + 3 * i).isoformat(),
                "actual_end": (at(8 + 3 * i) + timedelta(minutes=90)).isoformat(),
                "staff_id": "emp-21",
                "measures_done": [],
                "cancelled": False,
            }
            for i in range(3)
        ]
        r = await provider.put("/notifications/v1/visit-batches/settlement-1", json={"visits": visits})
        assert r.status_code == 201, r.text

        month = f"{start.year:04d}-{start.month:02d}"

        async def drafted() -> dict[str, Any]:
            r = await manager.post(
                "/budget/v1/settlements", json={"provider_org": PROVIDER_A, "month": month}
            )
            if r.status_code == 409:  # drafted before the visits had all arrived
                r = await manager.post(f"/budget/v1/settlements/{r.json()['settlement_id']}/calculation")
            assert r.status_code in (200, 201), r.text
            # 3 visits of 1 h 30 min at 650.00 kr/h: 3 x 975.00 = 2,925.00 kr.
            assert (r.json()["lines"], r.json()["amount_ore"]) == (3, 292_500), r.json()
            return r.json()

        settlement = await eventually(drafted, seconds=45, every=0.5)
        r = await manager.post(f"/budget/v1/settlements/{settlement['id']}/issue")
        assert r.status_code == 200, r.text
        assert (r.json()["status"], r.json()["amount_ore"]) == ("issued", 292_500)

        # The provider reads its statement, line by line, to check against its own records.
        r = await provider.get("/budget/v1/settlements", params={"month": month})
        assert r.status_code == 200, r.text
        assert [(s["id"], s["amount_ore"]) for s in r.json()["items"]] == [(settlement["id"], 292_500)]
        r = await provider.get(f"/budget/v1/settlements/{settlement['id']}/lines")
        assert r.status_code == 200, r.text
        assert [
            (
                x["visit_id"],
                x["order_id"],
                x["person_id"],
                x["service_type"],
                x["actual_hours"],
                x["amount_ore"],
            )
            for x in r.json()["items"]
        ] == [(f"sv-{i}", order_id, person_id, "home-nursing", "1.5000", 97_500) for i in range(3)]
        assert {x["visit_date"] for x in r.json()["items"]} == {start.isoformat()}

        # Another provider does not see it.
        r = await other.get(f"/budget/v1/settlements/{settlement['id']}/lines")
        assert r.status_code == 404, r.text
        r = await other.get("/budget/v1/settlements")
        assert r.json()["items"] == []
