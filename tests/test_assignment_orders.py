"""A pathway assignment reaches the provider as an order, and the provider reports against
it: assessment and notifications in one process on the real bus (PostgreSQL and NATS).

The case officer sends a pathway-1 assignment before any decision; the provider's inbox
gets an `order.new` with basis "assignment" and the assignment's id as `decision_id`; a
visit batch against that order is accepted; the person's timeline (pathway, also in the
process) shows the assignment and its order; ending the assignment ends the order.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, time, timedelta
from typing import Any

import httpx
import pytest
from identity_corpus import VALID_NUMBERS

from hjemflyt.assessment.main import create_app as assessment_app
from hjemflyt.notifications.main import create_app as notifications_app
from hjemflyt.pathway.main import create_app as pathway_app
from hjemflyt.shared.platform.auth import Role
from hjemflyt.shared.platform.clock import OSLO
from hjemflyt.shared.testing import auth, eventually, running_service, suite_today

PROVIDER = "320000009"
NUMBER = next(n for n, cls in VALID_NUMBERS if cls == "tenor_birth_number")
TODAY = suite_today()


async def drain(client: httpx.AsyncClient) -> None:
    relay = client.app.state.relay  # type: ignore[attr-defined]

    async def drained() -> None:
        assert await relay.pending_count() == 0

    await eventually(drained)
    await asyncio.sleep(0.05)


@pytest.fixture
async def services(settings, issuer):
    async with (
        running_service(assessment_app, settings) as assessment,
        running_service(notifications_app, settings) as notifications,
        running_service(pathway_app, settings) as pathway,
    ):
        yield assessment, notifications, pathway
        await drain(pathway)
        await drain(notifications)
        await drain(assessment)


async def next_message(client: httpx.AsyncClient, headers: dict[str, str], after: int) -> dict[str, Any]:
    async def arrived() -> dict[str, Any]:
        r = await client.get("/v1/inbox", params={"after": after}, headers=headers)
        assert r.status_code == 200, r.text
        assert r.json()["items"], "no message yet"
        return r.json()["items"][0]

    return await eventually(arrived)


async def test_an_assignment_reaches_the_providers_inbox_and_visits_are_reported_against_it(services, issuer):
    assessment, notifications, pathway = services
    integration = auth(issuer, Role.integration)
    officer = auth(issuer, Role.case_officer, districts=["frogner"])
    provider = auth(issuer, Role.provider, provider_org=PROVIDER, subject=f"system-{PROVIDER}")

    assert (await assessment.post("/v1/config/presets/oslo", headers=integration)).status_code == 200
    r = await assessment.put(
        "/v1/districts/frogner",
        json={
            "name": "Bydel Frogner",
            "organisation_model": "professional_freedom",
            "case_office": "Forvaltning Frogner",
        },
        headers=integration,
    )
    assert r.status_code == 200, r.text
    # The provider registry is notifications'; assessment learns of it by event.
    r = await notifications.put(
        f"/v1/providers/{PROVIDER}",
        json={
            "name": "Omsorgspartner Demo AS",
            "kind": "private",
            "service_codes": ["15"],
            "districts": ["frogner"],
        },
        headers=integration,
    )
    assert r.status_code in (200, 201), r.text

    async def known() -> None:
        r = await assessment.get("/v1/providers", headers=integration)
        assert [p["provider_org"] for p in r.json()] == [PROVIDER]

    await eventually(known)
    r = await assessment.post(
        "/v1/persons",
        json={"identity_number": NUMBER, "name": "Kari Nordmann", "address": "Gata 2", "district": "frogner"},
        headers=integration,
    )
    assert r.status_code == 201, r.text
    person_id = r.json()["id"]

    start = TODAY - timedelta(days=1)  # home from hospital yesterday
    r = await assessment.post(
        "/v1/assignments",
        json={
            "person_id": person_id,
            "provider_org": PROVIDER,
            "services": [
                {
                    "service_type": "home-nursing",
                    "measures": [{"description": "Sårstell", "times": 3, "per": "week", "minutes": 20}],
                }
            ],
            "purpose": "Trygg hjemkomst etter sykehusopphold",
            "user_goal": "Jeg vil klare sårstellet selv.",
            "start_date": str(start),
            "end_date": str(start + timedelta(days=13)),
        },
        headers=officer,
    )
    assert r.status_code == 201, r.text
    assignment = r.json()

    message = await next_message(notifications, provider, 0)
    assert message["kind"] == "order.new"
    assert message["person_id"] == person_id
    order = message["data"]
    assert message["order_id"] == order["id"]
    assert (order["basis"], order["kind"], order["decision_id"], order["decision_version"]) == (
        "assignment",
        "new",
        assignment["id"],
        1,
    )
    assert order["recipient"]["name"] == "Kari Nordmann"
    assert (order["start_date"], order["end_date"]) == (str(start), str(start + timedelta(days=13)))
    [service] = order["services"]
    assert (service["service_code"], service["outcome"]) == ("15", "granted")
    assert [m["description"] for m in service["measures"]] == ["Sårstell"]

    # The provider delivers and reports against the assignment's order.
    visit_start = datetime.combine(start, time(9), OSLO)
    visit = {
        "visit_id": "v-1",
        "order_id": order["id"],
        "planned_start": visit_start.isoformat(),
        "planned_end": (visit_start + timedelta(minutes=20)).isoformat(),
        "actual_start": visit_start.isoformat(),
        "actual_end": (visit_start + timedelta(minutes=25)).isoformat(),
        "staff_id": "staff-1",
        "measures_done": ["wound_care"],
        "cancelled": False,
        "cancel_cause": None,
    }
    r = await notifications.put("/v1/visit-batches/oppdrag-1", json={"visits": [visit]}, headers=provider)
    assert r.status_code in (200, 201), r.text

    # The person's timeline shows the assignment and the order it became, in its district.
    async def on_timeline() -> list[dict[str, Any]]:
        r = await pathway.get(f"/v1/persons/{person_id}/timeline", headers=officer)
        assert r.status_code == 200, r.text
        found = [e for e in r.json()["entries"] if e["kind"] in ("assignment-issued", "order-created")]
        assert sorted(e["kind"] for e in found) == ["assignment-issued", "order-created"]
        return found

    for entry in await eventually(on_timeline):
        assert entry["district"] == "frogner"

    # Ended early: the provider's order ends.
    r = await assessment.post(
        f"/v1/assignments/{assignment['id']}/end",
        json={"end_date": str(TODAY), "reason": "masters_daily_life"},
        headers=officer,
    )
    assert r.status_code == 200, r.text
    ended = await next_message(notifications, provider, message["position"])
    assert ended["kind"] == "order.ended"
    assert ended["order_id"] == order["id"]
    assert (ended["data"]["basis"], ended["data"]["end_date"]) == ("assignment", str(TODAY))
