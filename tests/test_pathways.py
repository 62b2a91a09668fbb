"""Pathways through the whole system with the clock moved: one closed on time, one
forgotten and flagged with an overdue task, and a pathway 1 running past day 14 with
active services, flagged with a decision-required task.

Assessment's events open the pathways (a discharge home opens pathway 1); the case officer
opens and closes by hand over the gateway; the pathway service's own deadline sweep opens
the tasks as the system clock moves.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from hjemflyt.shared.demo import decision_body
from hjemflyt.shared.identity import synthetic_identity_numbers
from hjemflyt.shared.platform.auth import Role
from hjemflyt.shared.testing import eventually
from tests.system import Actor, advance_days, configure_municipality, legal_today

pytestmark = [pytest.mark.system, pytest.mark.calendar]


async def now(client: httpx.AsyncClient) -> datetime:
    return datetime.fromisoformat((await client.get("/assessment/_dev/clock")).json()["now"])


async def pathways(officer: httpx.AsyncClient, person_id: str) -> list[dict[str, Any]]:
    r = await officer.get("/pathway/v1/pathways", params={"person_id": person_id})
    assert r.status_code == 200, r.text
    items: list[dict[str, Any]] = r.json()["items"]
    return items


async def test_pathways_closed_on_time_forgotten_and_past_day_14(stack):
    async with (
        Actor(stack, Role.integration) as integration,
        Actor(stack, Role.case_officer, districts=["frogner"], subject="saksbehandler-frogner") as officer,
        Actor(stack, Role.case_officer, districts=["grorud"], subject="saksbehandler-grorud") as other,
    ):
        await configure_municipality(integration)
        persons = []
        for i, number in enumerate(synthetic_identity_numbers(3, seed=614)):
            r = await officer.post(
                "/assessment/v1/persons",
                json={
                    "identity_number": number,
                    "name": f"Forløp Person {i}",
                    "address": f"Demogata {i + 1}, 0268 Oslo",
                    "district": "frogner",
                },
            )
            assert r.status_code == 201, r.text
            persons.append(r.json()["id"])
        on_time, forgotten, running = persons

        # Day 0: a GP refers `on_time`; `running` already has home nursing by a decision;
        # `forgotten` and `running` go to hospital.
        today = await legal_today(officer)
        r = await officer.post(
            "/assessment/v1/referrals",
            json={
                "source": "gp",
                "person_id": on_time,
                "summary": "Trenger oppfølging etter hjemkomst.",
                "requested_services": ["home-nursing"],
                "sender_name": "Fastlege Demo",
            },
        )
        assert r.status_code == 201, r.text
        r = await officer.post(
            "/assessment/v1/decisions",
            json=decision_body(running, [("home-nursing", "12", None)], start=today),
        )
        assert r.status_code == 201, r.text
        admissions = {}
        for person in (forgotten, running):
            r = await officer.post(
                f"/assessment/v1/persons/{person}/admissions",
                json={"admitted_at": (await now(officer)).isoformat(), "institution_kind": "hospital"},
            )
            assert r.status_code == 201, r.text
            admissions[person] = r.json()["id"]

        # Day 1: both come home: each gets a pathway 1 from the discharge. The case officer
        # opens a pathway 0 (a follow-up call) for `on_time` by hand.
        await advance_days(integration, 1)
        opened_on = await legal_today(officer)
        for person in (forgotten, running):
            r = await officer.post(
                f"/assessment/v1/admissions/{admissions[person]}/discharge",
                json={"discharged_at": (await now(officer)).isoformat()},
            )
            assert r.status_code == 200, r.text

        async def discharged_into_pathway_1() -> None:
            for person in (forgotten, running):
                found = await pathways(officer, person)
                assert len(found) == 1
                p = found[0]
                assert (p["kind"], p["status"], p["source"]) == (1, "open", "person.discharged")
                assert p["opened_on"] == opened_on.isoformat()
                assert p["planned_end"] == (opened_on + timedelta(days=14)).isoformat()
            [p] = await pathways(officer, running)
            assert p["has_active_services"] is True

        await eventually(discharged_into_pathway_1, seconds=30)

        async def referral_known() -> None:
            # The timeline's entry is written in the same unit of work as pathway's referral.
            r = await officer.get(f"/pathway/v1/persons/{on_time}/timeline")
            assert "referral-received" in {e["kind"] for e in r.json()["entries"]}

        await eventually(referral_known, seconds=30)
        r = await officer.post(
            "/pathway/v1/pathways", json={"person_id": on_time, "district": "frogner", "kind": 0}
        )
        assert r.status_code == 201, r.text
        call = r.json()
        assert call["referral_on"] is not None  # pathway had heard of the referral
        r = await officer.post(
            "/pathway/v1/pathways", json={"person_id": on_time, "district": "frogner", "kind": 0}
        )
        assert r.status_code == 409  # one open pathway per person and kind
        r = await other.get(f"/pathway/v1/pathways/{call['id']}")
        assert r.status_code == 404  # another district's case officer does not see it

        # Day 4: the call is made and the pathway closed on time, at the clock's time.
        await advance_days(integration, 3)
        r = await officer.post(f"/pathway/v1/pathways/{call['id']}/closure", json={"outcome": "no_services"})
        assert r.status_code == 200, r.text
        closed = r.json()
        assert (closed["status"], closed["outcome"]) == ("closed", "no_services")
        assert closed["closed_on"] == (await legal_today(officer)).isoformat()
        assert closed["closed_on"] <= closed["planned_end"]
        r = await officer.post(f"/pathway/v1/pathways/{call['id']}/closure", json={"outcome": "reduced"})
        assert r.status_code == 409

        # Day 16: nobody closed `forgotten`'s pathway 1 (past its planned end on day 15), and
        # `running`'s services go on past day 14 without a decision made in the pathway.
        await advance_days(integration, 12)

        async def flagged() -> list[dict[str, Any]]:
            r = await officer.get("/pathway/v1/tasks")
            assert r.status_code == 200, r.text
            tasks = r.json()
            assert sorted((t["person_id"], t["kind"]) for t in tasks) == sorted(
                [(forgotten, "overdue"), (running, "decision_required"), (running, "overdue")]
            )
            return list(tasks)

        tasks = await eventually(flagged, seconds=30)
        due = {(t["person_id"], t["kind"]): t["due"] for t in tasks}
        assert due[(running, "decision_required")] == (opened_on + timedelta(days=14)).isoformat()
        r = await officer.get("/pathway/v1/pathways", params={"overdue": "true"})
        assert {p["person_id"] for p in r.json()["items"]} == {forgotten, running}
        assert (await other.get("/pathway/v1/tasks")).json() == []

        # The case officer closes the forgotten one late; its task closes with it.
        r = await officer.post(
            f"/pathway/v1/pathways/{(await pathways(officer, forgotten))[0]['id']}/closure",
            json={"outcome": "no_services"},
        )
        assert r.status_code == 200, r.text
        r = await officer.get("/pathway/v1/tasks")
        assert sorted(t["kind"] for t in r.json()) == ["decision_required", "overdue"]
