"""The year's budget through the whole system: decisions made in assessment reach budget as
events; a manager allocates the frame by the Stavanger levels model; a case officer then
grants a new user 25 hours a month of home nursing at a municipal unit (level 1); the
tertial recomputation gives that unit the growth from the buffer, and every line still adds
up to the frame to the øre. All of it over the gateway, the services as processes."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import httpx
import pytest

from hjemflyt.shared.demo import PROVIDERS, decision_body
from hjemflyt.shared.identity import synthetic_identity_numbers
from hjemflyt.shared.platform.auth import Role
from hjemflyt.shared.testing import eventually
from tests.system import Actor, configure_municipality, legal_today

pytestmark = pytest.mark.system

UNIT = next(p for p in PROVIDERS if p.kind == "municipal" and "frogner" in p.districts)
BASE, LEVEL_1 = 3_413_328, 28_764_000  # Stavanger 2022: 3.56 h and 30 h * 799 kr * 12, in øre
FRAME = 100_000_000  # 1 MNOK


async def grant(officer: httpx.AsyncClient, number: str, hours: str, start: date) -> None:
    r = await officer.post(
        "/assessment/v1/persons",
        json={
            "identity_number": number,
            "name": "Demo Bruker",
            "address": "Demogata 1",
            "district": "frogner",
        },
    )
    assert r.status_code == 201, r.text
    body = decision_body(r.json()["id"], [("home-nursing", hours, UNIT.org)], start=start)
    r = await officer.post("/assessment/v1/decisions", json=body)
    assert r.status_code == 201, r.text


async def persons_at_unit(manager: httpx.AsyncClient, persons: int) -> None:
    async def counted() -> None:
        r = await manager.get("/budget/v1/providers/hours")
        assert r.status_code == 200, r.text
        at = {p["provider_org"]: p for p in r.json()}
        assert UNIT.org in at  # (eventually retries assertions only: no KeyError before it arrives)
        assert at[UNIT.org]["persons"] == persons
        assert at[UNIT.org]["kind"] == "municipal"

    await eventually(counted, seconds=45)


def line(allocation: dict[str, Any]) -> dict[str, Any]:
    return next(u for u in allocation["units"] if u["provider_org"] == UNIT.org)


async def test_a_new_level_1_user_grows_the_units_allocation_from_the_buffer_at_the_tertial(stack):
    async with (
        Actor(stack, Role.integration) as integration,
        Actor(stack, Role.case_officer, districts=["frogner"], subject="saksbehandler-frogner") as officer,
        Actor(stack, Role.manager, subject="okonomisjef") as manager,
    ):
        await configure_municipality(integration)
        r = await integration.put(
            f"/notifications/v1/providers/{UNIT.org}",
            json={
                "name": UNIT.name,
                "kind": "municipal",
                "service_codes": ["1", "15"],
                "districts": ["frogner"],
            },
        )
        assert r.status_code in (200, 201), r.text

        async def known() -> None:
            r = await integration.get("/assessment/v1/providers")
            assert UNIT.org in {p["provider_org"] for p in r.json()}

        await eventually(known, seconds=30)
        today = await legal_today(officer)
        start = today + timedelta(days=1)
        numbers = iter(synthetic_identity_numbers(4, seed=4242))
        for _ in range(3):  # three users under 20 h/month: base funding
            await grant(officer, next(numbers), "10", start)
        await persons_at_unit(manager, 3)

        # The manager adopts Stavanger's 2022 rules and allocates next year's frame.
        r = await manager.post("/budget/v1/rule-sets/defaults/stavanger-2022")
        assert r.status_code == 201, r.text
        r = await manager.post(f"/budget/v1/rule-sets/{r.json()['id']}/adoption")
        assert r.status_code == 200, r.text
        year = today.year + 1
        r = await manager.post(
            "/budget/v1/allocations",
            json={"year": year, "budgeting_date": f"{year}-01-01", "frame_ore": FRAME},
        )
        assert r.status_code == 201, r.text
        made = r.json()
        assert line(made)["persons_per_level"]["base"] == 3
        assert line(made)["amount_ore"] == 3 * BASE
        assert made["general_ore"] == 26_000_000  # 26 %
        assert made["buffer_ore"] == FRAME - 26_000_000 - 3 * BASE  # 1.2 % and what is not needed
        assert made["total_ore"] == FRAME

        # A new user: 25 h/month of home nursing at the unit, level 1.
        await grant(officer, next(numbers), "25", start)
        await persons_at_unit(manager, 4)

        r = await manager.post(f"/budget/v1/allocations/{made['id']}/tertials/2")
        assert r.status_code == 200, r.text
        tertial = r.json()
        grown = next(g for g in tertial["growth"] if g["provider_org"] == UNIT.org)
        # By hand: level 1 is 30 h * 799 kr * 12 = 287 640 kr a year; from 1 May, 8 of 12
        # months: 191 760 kr, paid from the buffer.
        assert grown["levels_growth_ore"] == grown["paid_ore"] == LEVEL_1 * 8 // 12 == 19_176_000
        after = tertial["allocation"]
        assert line(after)["amount_ore"] == 3 * BASE + 19_176_000
        assert line(after)["persons_per_level"]["1"] == 1
        assert after["buffer_ore"] == made["buffer_ore"] - 19_176_000
        assert (
            sum(u["amount_ore"] for u in after["units"]) + after["general_ore"] + after["buffer_ore"] == FRAME
        )

        r = await manager.get(f"/budget/v1/allocations/{made['id']}/buffer")
        assert r.status_code == 200, r.text
        assert r.json()["entries"][-1] == {
            **r.json()["entries"][-1],
            "amount_ore": -19_176_000,
            "provider_org": UNIT.org,
            "cause": "tertial-2",
        }
        r = await manager.get(f"/budget/v1/allocations/{made['id']}/changes")
        changed = [c for c in r.json() if c["line"] == UNIT.org and c["cause"] == "tertial-2"]
        assert [(c["before_ore"], c["after_ore"], c["changed_by"]) for c in changed] == [
            (3 * BASE, 3 * BASE + 19_176_000, "okonomisjef")
        ]
