"""Pathway assignments (Stavanger's pathway 1): an order to a provider before any decision.

Sent as the ordinary `order.issued` with basis "assignment" and the assignment's id as
`decision_id`, plus the pseudonymous `assignment.issued`; 14 days at most; refused
requests leave nothing behind; district-scoped like decisions; ended by hand or by a
decision for the same provider.
"""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from typing import Any

import pytest
from identity_corpus import VALID_NUMBERS
from sqlalchemy import select, text

from hjemflyt.assessment.db import platform_tables
from hjemflyt.assessment.main import create_app
from hjemflyt.shared.demo import decision_body
from hjemflyt.shared.platform.auth import Role
from hjemflyt.shared.platform.crypto import BusSealer
from hjemflyt.shared.testing import auth, eventually, publish_provider, running_service, suite_today

PROVIDER = "320000009"  # approved for services 1 and 15 in frogner and gamle-oslo
HELP_ONLY = "320001005"  # approved for service 1 (practical help) in frogner only
UNKNOWN = "974760673"  # never registered
NUMBERS = [n for n, cls in VALID_NUMBERS if cls.startswith("tenor")]
TODAY = suite_today()
OUTBOX = platform_tables.outbox


@pytest.fixture
async def client(settings, issuer):
    integration = auth(issuer, Role.integration)
    async with running_service(create_app, settings) as client:
        assert (await client.post("/v1/config/presets/oslo", headers=integration)).status_code == 200
        r = await client.put(
            "/v1/districts/frogner",
            json={
                "name": "Bydel Frogner",
                "organisation_model": "professional_freedom",
                "case_office": "Forvaltning Frogner",
            },
            headers=integration,
        )
        assert r.status_code == 200, r.text
        await publish_provider(settings, PROVIDER, ["1", "15"], ["frogner", "gamle-oslo"])
        await publish_provider(settings, HELP_ONLY, ["1"], ["frogner"])

        async def providers_known():
            r = await client.get("/v1/providers", headers=integration)
            assert {p["provider_org"] for p in r.json()} == {PROVIDER, HELP_ONLY}

        await eventually(providers_known)
        yield client
        relay = client.app.state.relay

        async def drained():
            assert await relay.pending_count() == 0

        await eventually(drained)
        await asyncio.sleep(0.05)


def officer(issuer, district: str = "frogner") -> dict[str, str]:
    return auth(issuer, Role.case_officer, districts=[district])


async def register(client, issuer, district: str = "frogner", number: str = NUMBERS[0]) -> str:
    r = await client.post(
        "/v1/persons",
        json={"identity_number": number, "name": "Kari Nordmann", "address": "Gata 2", "district": district},
        headers=auth(issuer, Role.integration),
    )
    assert r.status_code == 201, r.text
    return r.json()["id"]


def practical_help(b: dict[str, Any]) -> dict[str, Any]:
    b["services"] = [
        {"service_type": "practical-help", "measures": [{"code": "shower", "times": 1, "per": "week"}]}
    ]
    return b


def body(person_id: str, *, days: int = 14, provider: str = PROVIDER, **extra: Any) -> dict[str, Any]:
    return {
        "person_id": person_id,
        "provider_org": provider,
        "services": [
            {
                "service_type": "home-nursing",
                "measures": [
                    {"code": "wound-care", "times": 3, "per": "week", "minutes": 20},
                    {"description": "Oppfølging av medisiner", "times": 1, "per": "day"},
                ],
            }
        ],
        "purpose": "Trygg hjemkomst etter sykehusopphold",
        "user_goal": "Jeg vil klare sårstellet selv.",
        "start_date": str(TODAY),
        "end_date": str(TODAY + timedelta(days=days - 1)),
        **extra,
    }


def assert_problem(r, status: int, slug: str) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json"), r.headers
    problem = r.json()
    assert problem["type"].endswith("/" + slug), problem
    return problem


async def events(client, suffix: str | None = None) -> list[dict[str, Any]]:
    async with client.app.state.ctx.sessionmaker() as s:
        rows = (await s.execute(select(OUTBOX.c.type, OUTBOX.c.envelope).order_by(OUTBOX.c.seq))).all()
    found = [json.loads(bytes(envelope)) for _, envelope in rows]
    return [e for e in found if suffix is None or e["type"].endswith(suffix)]


async def count(client, table: str) -> int:
    async with client.app.state.ctx.sessionmaker() as s:
        return int(await s.scalar(text(f"select count(*) from assessment.{table}")))  # noqa: S608


async def test_an_assignment_is_sent_as_an_order_before_any_decision(client, issuer):
    person_id = await register(client, issuer)
    r = await client.post("/v1/assignments", json=body(person_id), headers=officer(issuer))
    assert r.status_code == 201, r.text
    out = r.json()
    assert r.headers["location"] == f"/v1/assignments/{out['id']}"
    assert (out["status"], out["version"], out["provider_org"]) == ("issued", 1, PROVIDER)
    assert out["end_date"] == str(TODAY + timedelta(days=13))
    [service] = out["services"]
    assert (service["service_code"], service["hours_per_month"]) == ("15", "4.35")  # 3 x 20 min a week

    [order] = await events(client, "order.issued.v1")
    data = order["data"]
    assert order["subject"] == f"{out['id']}/{PROVIDER}"
    assert (data["basis"], data["kind"], data["decision_id"], data["decision_version"]) == (
        "assignment",
        "new",
        out["id"],
        1,
    )
    assert NUMBERS[0] not in json.dumps(data)  # sealed with the bus key
    recipient = json.loads(BusSealer(client.app.state.ctx.settings.bus_key()).open(data["recipient"]))
    assert recipient["name"] == "Kari Nordmann"
    assert recipient["identity_number"] == NUMBERS[0]
    assert (data["start_date"], data["end_date"]) == (str(TODAY), str(TODAY + timedelta(days=13)))
    assert (data["purpose"], data["user_goal"]) == ("Trygg hjemkomst etter sykehusopphold", out["user_goal"])
    assert (data["case_office_contact"], data["organisation_model"]) == (
        "Forvaltning Frogner",
        "professional_freedom",
    )
    [ordered] = data["services"]
    assert (ordered["outcome"], ordered["scope_kind"], ordered["hours_per_month"]) == (
        "granted",
        "hours_per_month",
        "4.35",
    )
    assert ordered["provider_org"] == PROVIDER
    assert [
        (m["code"], m["description"], m["times"], m["per"], m["minutes"]) for m in ordered["measures"]
    ] == [
        ("wound-care", "Sårstell", 3, "week", 20),  # a code alone reads as the catalogue's name
        (None, "Oppfølging av medisiner", 1, "day", None),
    ]

    # The pseudonymous event for every other service: no names, no identity numbers.
    [issued] = await events(client, "assignment.issued.v1")
    assert issued["data"]["assignment_id"] == out["id"]
    assert issued["data"]["pathway_id"] is None
    assert "Kari" not in json.dumps(issued)
    assert NUMBERS[0] not in json.dumps(issued)

    # Read back, one and per person, access-logged.
    r = await client.get(f"/v1/assignments/{out['id']}", headers=officer(issuer))
    assert r.status_code == 200
    assert r.json() == out
    r = await client.get(f"/v1/persons/{person_id}/assignments", headers=officer(issuer))
    assert [a["id"] for a in r.json()] == [out["id"]]
    async with client.app.state.ctx.sessionmaker() as s:
        logged = (
            await s.execute(
                select(platform_tables.access_log.c.resource, platform_tables.access_log.c.action).where(
                    platform_tables.access_log.c.resource.in_(["assignment", "assignment-list"])
                )
            )
        ).all()
    assert sorted(logged) == [("assignment", "create"), ("assignment", "read"), ("assignment-list", "read")]

    # A second one for the same provider while the first runs: end it first.
    r = await client.post("/v1/assignments", json=body(person_id), headers=officer(issuer))
    assert_problem(r, 409, "assignment-running")


async def test_longer_than_14_days_needs_a_decision_and_nothing_is_stored(client, issuer):
    person_id = await register(client, issuer)
    before = await count(client, "outbox")
    r = await client.post("/v1/assignments", json=body(person_id, days=15), headers=officer(issuer))
    problem = assert_problem(r, 422, "assignment-too-long")
    assert [v["rule"] for v in problem["violations"]] == ["assignment-too-long"]
    assert await count(client, "assignment") == 0
    assert await count(client, "outbox") == before
    # Several rules at once are all named.
    bad = body(person_id, days=20, provider=UNKNOWN)
    bad["services"][0]["measures"] = []
    problem = assert_problem(
        await client.post("/v1/assignments", json=bad, headers=officer(issuer)), 422, "assignment-invalid"
    )
    assert sorted(v["rule"] for v in problem["violations"]) == [
        "assignment-too-long",
        "measures-missing",
        "unknown-provider",
    ]
    assert await count(client, "assignment") == 0


async def test_the_provider_must_be_approved_for_the_service_and_the_district(client, issuer):
    person_id = await register(client, issuer)
    r = await client.post("/v1/assignments", json=body(person_id, provider=UNKNOWN), headers=officer(issuer))
    assert_problem(r, 422, "unknown-provider")
    r = await client.post(
        "/v1/assignments", json=body(person_id, provider=HELP_ONLY), headers=officer(issuer)
    )
    assert_problem(r, 422, "provider-not-approved-for-service")
    elsewhere = await register(client, issuer, "gamle-oslo", NUMBERS[1])
    help_there = practical_help(body(elsewhere, provider=HELP_ONLY))
    r = await client.post("/v1/assignments", json=help_there, headers=officer(issuer, "gamle-oslo"))
    assert_problem(r, 422, "provider-not-approved-for-district")
    r = await client.post(
        "/v1/assignments",
        json=body(person_id, start_date=str(TODAY - timedelta(days=10)), end_date=str(TODAY)),
        headers=officer(issuer),
    )
    assert_problem(r, 422, "start-too-far-back")
    coded = body(person_id)
    coded["services"][0]["measures"][0]["code"] = "no-such-code"
    r = await client.post("/v1/assignments", json=coded, headers=officer(issuer))
    assert_problem(r, 422, "unknown-measure-code")
    help_coded = practical_help(body(person_id, provider=HELP_ONLY))
    help_coded["services"][0]["measures"][0]["code"] = "dose-dispensing"  # a home-nursing measure
    r = await client.post("/v1/assignments", json=help_coded, headers=officer(issuer))
    assert_problem(r, 422, "measure-not-for-service")
    assert await count(client, "assignment") == 0


async def test_case_officers_of_another_district_see_nothing(client, issuer):
    person_id = await register(client, issuer)
    other = officer(issuer, "gamle-oslo")
    assert_problem(
        await client.post("/v1/assignments", json=body(person_id), headers=other), 404, "not-found"
    )
    out = (await client.post("/v1/assignments", json=body(person_id), headers=officer(issuer))).json()
    assert_problem(await client.get(f"/v1/assignments/{out['id']}", headers=other), 404, "not-found")
    assert_problem(
        await client.post(f"/v1/assignments/{out['id']}/end", json={}, headers=other), 404, "not-found"
    )
    r = await client.get(f"/v1/persons/{person_id}/assignments", headers=other)
    assert r.status_code == 200
    assert r.json() == []


async def test_a_retried_request_with_the_same_idempotency_key_sends_one_assignment(client, issuer):
    person_id = await register(client, issuer)
    headers = {**officer(issuer), "Idempotency-Key": "oppdrag-0001"}
    first = await client.post("/v1/assignments", json=body(person_id), headers=headers)
    second = await client.post("/v1/assignments", json=body(person_id), headers=headers)
    assert first.status_code == second.status_code == 201
    assert second.headers["idempotency-replayed"] == "true"
    assert second.json() == first.json()
    assert await count(client, "assignment") == 1
    assert [e["type"].removeprefix("no.hjemflyt.assessment.") for e in await events(client)] == [
        "assignment.issued.v1",
        "order.issued.v1",
    ]
    r = await client.post("/v1/assignments", json=body(person_id, user_goal="x"), headers=headers)
    assert_problem(r, 409, "idempotency-key-reused")


async def test_ending_an_assignment_ends_the_providers_order(client, issuer):
    person_id = await register(client, issuer)
    out = (await client.post("/v1/assignments", json=body(person_id), headers=officer(issuer))).json()
    r = await client.post(
        f"/v1/assignments/{out['id']}/end",
        json={"end_date": str(TODAY + timedelta(days=20))},
        headers=officer(issuer),
    )
    assert_problem(r, 422, "end-after-assignment")
    r = await client.post(
        f"/v1/assignments/{out['id']}/end",
        json={"end_date": str(TODAY + timedelta(days=4)), "reason": "masters_daily_life"},
        headers=officer(issuer),
    )
    assert r.status_code == 200, r.text
    ended = r.json()
    assert (ended["status"], ended["version"], ended["end_date"], ended["end_reason"]) == (
        "ended",
        2,
        str(TODAY + timedelta(days=4)),
        "masters_daily_life",
    )
    assert ended["planned_end_date"] == str(TODAY + timedelta(days=13))
    new, end = await events(client, "order.issued.v1")
    assert (end["data"]["kind"], end["data"]["decision_version"], end["data"]["basis"]) == (
        "ended",
        2,
        "assignment",
    )
    assert (end["data"]["end_date"], end["data"]["end_reason"]) == (
        str(TODAY + timedelta(days=4)),
        "masters_daily_life",
    )
    assert end["data"]["decision_id"] == new["data"]["decision_id"] == out["id"]
    [gone] = await events(client, "assignment.ended.v1")
    assert (gone["data"]["reason"], gone["data"]["superseded_by"]) == ("masters_daily_life", None)
    r = await client.post(f"/v1/assignments/{out['id']}/end", json={}, headers=officer(issuer))
    assert_problem(r, 409, "assignment-ended")
    # Ended, a new one for the same provider may go out.
    r = await client.post("/v1/assignments", json=body(person_id), headers=officer(issuer))
    assert r.status_code == 201, r.text


async def test_a_decision_for_the_same_provider_supersedes_the_assignment(client, issuer):
    person_id = await register(client, issuer)
    out = (await client.post("/v1/assignments", json=body(person_id), headers=officer(issuer))).json()
    # Another provider's assignment is left alone by a decision that does not name it.
    help_body = practical_help(body(person_id, provider=HELP_ONLY))
    other = (await client.post("/v1/assignments", json=help_body, headers=officer(issuer))).json()
    start = TODAY + timedelta(days=7)
    decision = decision_body(person_id, [("home-nursing", "20", PROVIDER)], start=start)
    decision["purpose"] = "Trygghet hjemme"
    r = await client.post("/v1/decisions", json=decision, headers=officer(issuer))
    assert r.status_code == 201, r.text
    decision_id = r.json()["id"]

    r = await client.get(f"/v1/persons/{person_id}/assignments", headers=officer(issuer))
    by_id = {a["id"]: a for a in r.json()}
    superseded = by_id[out["id"]]
    assert (superseded["status"], superseded["end_reason"], superseded["superseded_by"]) == (
        "ended",
        "superseded",
        decision_id,
    )
    assert superseded["end_date"] == str(start - timedelta(days=1))
    assert by_id[other["id"]]["status"] == "issued"
    orders = [e["data"] for e in await events(client, "order.issued.v1")]
    assert [(o["basis"], o["kind"], o["provider_org"]) for o in orders] == [
        ("assignment", "new", PROVIDER),
        ("assignment", "new", HELP_ONLY),
        ("decision", "new", PROVIDER),
        ("assignment", "ended", PROVIDER),
    ]
    assert (orders[-1]["decision_id"], orders[-1]["end_reason"]) == (out["id"], "superseded")
    [gone] = await events(client, "assignment.ended.v1")
    assert (gone["data"]["assignment_id"], gone["data"]["superseded_by"]) == (out["id"], decision_id)
