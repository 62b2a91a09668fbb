"""Hospital and institution stays: recorded once, discharged once, published as events
that pause and resume home services elsewhere; bad input changes nothing."""

from __future__ import annotations

import json
import uuid
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from hjemflyt.assessment.db import platform_tables
from hjemflyt.assessment.main import create_app
from hjemflyt.shared.contracts.events import PERSON_ADMITTED, PERSON_DISCHARGED
from hjemflyt.shared.identity import SyntheticSource, synthetic_identity_number
from hjemflyt.shared.platform.auth import Role
from hjemflyt.shared.testing import auth, eventually, fixed_clock, running_service

# The service's clock stands still on the suite's day and hour (HJEMFLYT_TEST_TODAY).
NOW = fixed_clock().now()
TODAY = fixed_clock().today()


async def drain_outbox(client) -> None:
    relay = client.app.state.relay

    async def drained():
        assert await relay.pending_count() == 0

    await eventually(drained)


def assert_problem(r, status: int, slug: str) -> None:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["type"].endswith("/" + slug), r.json()


async def events(client, event_type) -> list[dict[str, Any]]:
    outbox = platform_tables.outbox
    async with client.app.state.ctx.sessionmaker() as s:
        rows = await s.scalars(
            select(outbox.c.envelope).where(outbox.c.type == event_type.name).order_by(outbox.c.seq)
        )
        return [json.loads(bytes(envelope)) for envelope in rows]


async def logged_persons(client, resource: str) -> set[uuid.UUID]:
    log = platform_tables.access_log
    async with client.app.state.ctx.sessionmaker() as s:
        return set(await s.scalars(select(log.c.person_id).where(log.c.resource == resource)))


@pytest.fixture
async def client(settings, issuer):
    async with running_service(create_app, settings, clock=fixed_clock()) as client:
        r = await client.post("/v1/config/presets/oslo", headers=auth(issuer, Role.integration))
        assert r.status_code == 200, r.text
        yield client
        await drain_outbox(client)


async def a_person(client, issuer, district: str = "frogner") -> str:
    number = synthetic_identity_number(date(1938, 5, 17), 431, synthetic=SyntheticSource.tenor)
    body = {"identity_number": number, "name": "Ola Testmann", "address": "Testveien 1", "district": district}
    r = await client.post("/v1/persons", json=body, headers=auth(issuer, Role.integration))
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


async def test_admission_and_discharge_are_published_once(client, issuer):
    person = await a_person(client, issuer)
    officer = auth(issuer, Role.case_officer, districts=["frogner"])
    admitted_at = (NOW - timedelta(hours=3)).isoformat()
    r = await client.post(
        f"/v1/persons/{person}/admissions",
        json={
            "admitted_at": admitted_at,
            "institution_kind": "hospital",
            "expected_discharge_date": str(TODAY + timedelta(days=7)),
        },
        headers=officer,
    )
    assert r.status_code == 201, r.text
    admission = r.json()
    assert admission["discharged_at"] is None

    # A second open stay is refused while the first lasts.
    again = await client.post(
        f"/v1/persons/{person}/admissions", json={"admitted_at": admitted_at}, headers=officer
    )
    assert_problem(again, 409, "already-admitted")

    # Discharge before the admission, or in the future: refused, nothing changes.
    early = (NOW - timedelta(days=1)).isoformat()
    url = f"/v1/admissions/{admission['id']}/discharge"
    assert_problem(
        await client.post(url, json={"discharged_at": early}, headers=officer),
        422,
        "discharge-before-admission",
    )
    future = (NOW + timedelta(days=1)).isoformat()
    assert_problem(
        await client.post(url, json={"discharged_at": future}, headers=officer), 422, "discharge-in-future"
    )
    # A naive time is a payload error.
    naive = (NOW - timedelta(hours=1)).replace(tzinfo=None).isoformat(timespec="seconds")
    assert (await client.post(url, json={"discharged_at": naive}, headers=officer)).status_code == 422

    r = await client.post(url, json={"discharged_at": NOW.isoformat()}, headers=officer)
    assert r.status_code == 200, r.text
    assert_problem(
        await client.post(url, json={"discharged_at": NOW.isoformat()}, headers=officer),
        409,
        "already-discharged",
    )

    admitted = await events(client, PERSON_ADMITTED)
    discharged = await events(client, PERSON_DISCHARGED)
    assert [e["data"]["admission_id"] for e in admitted] == [admission["id"]]
    assert [e["data"]["admission_id"] for e in discharged] == [admission["id"]]
    assert discharged[0]["data"]["person_id"] == person
    # Events are pseudonymous: no name, no identity number.
    assert "Testmann" not in str(admitted + discharged)

    # A new stay may start after the discharge; the list is newest first and access-logged.
    r = await client.post(
        f"/v1/persons/{person}/admissions", json={"admitted_at": NOW.isoformat()}, headers=officer
    )
    assert r.status_code == 201, r.text
    listed = (await client.get(f"/v1/persons/{person}/admissions", headers=officer)).json()
    assert [a["id"] for a in listed] == [r.json()["id"], admission["id"]]
    assert await logged_persons(client, "admission-list") == {uuid.UUID(person)}


async def test_other_districts_and_bad_input(client, issuer):
    person = await a_person(client, issuer)
    elsewhere = auth(issuer, Role.case_officer, districts=["grorud"])
    body = {"admitted_at": NOW.isoformat()}
    assert_problem(
        await client.post(f"/v1/persons/{person}/admissions", json=body, headers=elsewhere), 404, "not-found"
    )
    provider = auth(issuer, Role.provider, provider_org="974760673")
    assert (
        await client.post(f"/v1/persons/{person}/admissions", json=body, headers=provider)
    ).status_code == 403
    officer = auth(issuer, Role.case_officer, districts=["frogner"])
    future = {"admitted_at": (NOW + timedelta(hours=2)).isoformat()}
    assert_problem(
        await client.post(f"/v1/persons/{person}/admissions", json=future, headers=officer),
        422,
        "admission-in-future",
    )
    unknown_kind = {"admitted_at": NOW.isoformat(), "institution_kind": "spa"}
    assert (
        await client.post(f"/v1/persons/{person}/admissions", json=unknown_kind, headers=officer)
    ).status_code == 422
    assert await events(client, PERSON_ADMITTED) == []
