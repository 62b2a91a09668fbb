"""Decisions: the rules a decision must satisfy, district scoping and Idempotency-Key.

A refused decision leaves nothing behind: no decision, no outbox row (so no event), no
access-log row and no stored idempotent response.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from decimal import Decimal

import pytest
from identity_corpus import VALID_NUMBERS
from sqlalchemy import func, select, text

from hjemflyt.assessment.db import platform_tables
from hjemflyt.assessment.main import create_app
from hjemflyt.shared.contracts.events import PROVIDER_REGISTERED, ProviderKind, ProviderRegistered
from hjemflyt.shared.platform.auth import Role
from hjemflyt.shared.platform.bus import Bus
from hjemflyt.shared.testing import auth, eventually, running_service

PROVIDER = "320000009"  # approved for services 1 and 15 in frogner
OTHER_PROVIDER = "974760673"  # never registered
NUMBERS = [n for n, cls in VALID_NUMBERS if cls.startswith("tenor")]


async def publish_provider(settings, org: str, service_codes: list[str], districts: list[str]) -> None:
    """Register a provider the way the notifications service announces it."""
    bus = Bus(settings, name="test-notifications")
    await bus.connect()
    try:
        await bus.ensure_stream("notifications")
        event = {
            "specversion": "1.0",
            "id": str(uuid.uuid4()),
            "source": "/hjemflyt/notifications",
            "type": PROVIDER_REGISTERED.name,
            "subject": org,
            "time": "2026-11-22T10:00:00Z",
            "datacontenttype": "application/json",
            "dataschema": PROVIDER_REGISTERED.dataschema,
            "tenant": settings.tenant,
            "data": ProviderRegistered(
                provider_org=org,
                name="Omsorgspartner Demo AS",
                kind=ProviderKind.private,
                service_codes=service_codes,
                districts=districts,
                version=1,
            ).model_dump(mode="json"),
        }
        await bus.js.publish(
            PROVIDER_REGISTERED.subject(settings.bus_namespace, settings.tenant),
            json.dumps(event).encode(),
            headers={"Nats-Msg-Id": event["id"]},
        )
    finally:
        await bus.close()


@pytest.fixture
async def client(settings, issuer):
    integration = auth(issuer, Role.integration)
    async with running_service(create_app, settings) as client:
        for code in ("frogner", "gamle-oslo"):
            r = await client.put(
                f"/v1/districts/{code}",
                json={
                    "name": code.title(),
                    "organisation_model": "trust_model",
                    "case_office": "Forvaltning",
                },
                headers=integration,
            )
            assert r.status_code == 200, r.text
        await publish_provider(settings, PROVIDER, ["1", "15"], ["frogner"])

        async def provider_known():
            r = await client.get("/v1/providers", headers=integration)
            assert [p["provider_org"] for p in r.json()] == [PROVIDER]

        await eventually(provider_known)
        yield client
        await drain_outbox(client)


async def drain_outbox(client) -> None:
    """Let the relay publish everything before shutdown. A NOTIFY that arrives as the app
    shuts down can hang the relay on Python 3.11 (see shared/tests/test_platform_lifecycle.py)."""
    relay = client.app.state.relay

    async def drained():
        assert await relay.pending_count() == 0

    await eventually(drained)
    await asyncio.sleep(0.05)


async def register(client, issuer, district: str = "frogner", number: str = NUMBERS[0]) -> str:
    r = await client.post(
        "/v1/persons",
        json={"identity_number": number, "name": "Ola Nordmann", "address": "Gata 2", "district": district},
        headers=auth(issuer, Role.integration),
    )
    assert r.status_code == 201, r.text
    return r.json()["id"]


def decision(person_id: str, *services: dict, **fields: object) -> dict:
    return {
        "person_id": person_id,
        "start_date": "2026-12-01",
        **fields,
        "services": list(services)
        or [{"service_code": "15", "hours_per_month": "12.5", "provider_org": PROVIDER}],
    }


def service(code: str = "15", hours: str = "10", provider: str = PROVIDER) -> dict:
    return {"service_code": code, "hours_per_month": hours, "provider_org": provider}


def assert_problem(r, status: int, slug: str) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json"), r.headers
    body = r.json()
    assert body["type"].endswith("/" + slug), body
    assert body["status"] == status
    return body


async def stored(client) -> dict[str, int]:
    ctx = client.app.state.ctx
    t = platform_tables
    async with ctx.sessionmaker() as s:
        return {
            "decision": await s.scalar(text("select count(*) from assessment.decision")),
            "decision_service": await s.scalar(text("select count(*) from assessment.decision_service")),
            "outbox": await s.scalar(select(func.count()).select_from(t.outbox)),
            "access_log": await s.scalar(select(func.count()).select_from(t.access_log)),
            "idempotency": await s.scalar(select(func.count()).select_from(t.idempotency)),
        }


async def refused(client, issuer, body: dict, status: int, slug: str, headers=None) -> dict:
    """POST the decision, expect the problem, and check that nothing was stored."""
    before = await stored(client)
    r = await client.post("/v1/decisions", json=body, headers=headers or auth(issuer, Role.integration))
    problem = assert_problem(r, status, slug)
    assert await stored(client) == before
    return problem


def rules_of(problem: dict) -> list[str]:
    assert all({"rule", "message", "field"} <= v.keys() for v in problem["violations"])
    return [v["rule"] for v in problem["violations"]]


async def test_a_valid_decision_is_stored_with_its_events(client, issuer):
    person_id = await register(client, issuer)
    r = await client.post(
        "/v1/decisions",
        json=decision(person_id, service("15", "744"), service("1", "0.25")),
        headers=auth(issuer, Role.case_officer, districts=["frogner"]),
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["version"] == 1
    assert body["district"] == "frogner"
    assert r.headers["etag"] == '"1"'
    assert r.headers["location"] == f"/v1/decisions/{body['id']}"
    hours = {s["service_code"]: Decimal(s["hours_per_month"]) for s in body["services"]}
    assert hours == {"1": Decimal("0.25"), "15": Decimal(744)}
    counts = await stored(client)
    # decision.made and one order.issued for the one chosen provider.
    assert (counts["decision"], counts["decision_service"], counts["outbox"]) == (1, 2, 2)

    # Read back in the district; invisible (404) elsewhere, and only visible reads are logged.
    frogner = auth(issuer, Role.case_officer, districts=["frogner"], subject="officer-frogner")
    gamle = auth(issuer, Role.case_officer, districts=["gamle-oslo"])
    r = await client.get(f"/v1/decisions/{body['id']}", headers=frogner)
    assert r.status_code == 200, r.text
    read = r.json()
    assert {k: v for k, v in read.items() if k != "services"} == {
        k: v for k, v in body.items() if k != "services"
    }
    assert {s["service_code"]: Decimal(s["hours_per_month"]) for s in read["services"]} == hours
    r = await client.get(f"/v1/persons/{person_id}/decisions", headers=frogner)
    assert [d["id"] for d in r.json()] == [body["id"]]
    before = await stored(client)
    assert_problem(await client.get(f"/v1/decisions/{body['id']}", headers=gamle), 404, "not-found")
    r = await client.get(f"/v1/persons/{person_id}/decisions", headers=gamle)
    assert r.status_code == 200
    assert r.json() == []
    provider = auth(issuer, Role.provider, provider_org=PROVIDER)
    assert_problem(await client.get(f"/v1/decisions/{body['id']}", headers=provider), 403, "forbidden")
    assert await stored(client) == before
    log = platform_tables.access_log
    async with client.app.state.ctx.sessionmaker() as s:
        reads = (
            await s.execute(select(log.c.resource, log.c.resource_id).where(log.c.actor == "officer-frogner"))
        ).all()
    assert sorted(reads, key=str) == sorted([("decision", body["id"]), ("decision-list", None)], key=str)


async def test_unknown_provider_is_refused(client, issuer):
    person_id = await register(client, issuer)
    problem = await refused(
        client, issuer, decision(person_id, service(provider=OTHER_PROVIDER)), 422, "unknown-provider"
    )
    assert rules_of(problem) == ["unknown-provider"]
    assert problem["violations"][0]["field"] == "services[0]"


async def test_provider_must_be_approved_for_the_service_and_the_district(client, issuer):
    person_id = await register(client, issuer)
    problem = await refused(
        client, issuer, decision(person_id, service("4")), 422, "provider-not-approved-for-service"
    )
    assert rules_of(problem) == ["provider-not-approved-for-service"]

    elsewhere = await register(client, issuer, "gamle-oslo", NUMBERS[1])
    problem = await refused(
        client, issuer, decision(elsewhere, service("15")), 422, "provider-not-approved-for-district"
    )
    assert rules_of(problem) == ["provider-not-approved-for-district"]


async def test_dates_must_be_in_order(client, issuer):
    person_id = await register(client, issuer)
    problem = await refused(
        client, issuer, decision(person_id, end_date="2026-11-30"), 422, "end-before-start"
    )
    assert problem["violations"][0]["field"] == "end_date"
    problem = await refused(
        client, issuer, decision(person_id, evaluation_date="2026-11-01"), 422, "evaluation-before-start"
    )


async def test_hours_must_be_above_zero_and_at_most_744(client, issuer):
    person_id = await register(client, issuer)
    for hours in ("0", "0.00", "744.01", "745", "-1"):
        body = decision(person_id, service(hours=hours))
        problem = await refused(client, issuer, body, 422, "hours-out-of-range")
        assert rules_of(problem) == ["hours-out-of-range"], hours


async def test_every_violation_is_listed_at_once(client, issuer):
    person_id = await register(client, issuer)
    body = decision(
        person_id,
        service("15", "0"),
        service("15", "10"),
        service("99", "10"),
        service("1", "5", OTHER_PROVIDER),
        end_date="2026-01-01",
    )
    problem = await refused(client, issuer, body, 422, "decision-incomplete")
    assert sorted(rules_of(problem)) == sorted(
        [
            "end-before-start",
            "hours-out-of-range",
            "duplicate-service",
            "unknown-service",
            "provider-not-approved-for-service",
            "unknown-provider",
        ]
    )
    for rule in ("end-before-start", "duplicate-service", "unknown-provider"):
        assert rule in problem["detail"]


async def test_no_services_and_malformed_payloads(client, issuer):
    person_id = await register(client, issuer)
    problem = await refused(client, issuer, {**decision(person_id), "services": []}, 422, "no-services")
    assert rules_of(problem) == ["no-services"]
    for bad in (
        {**decision(person_id), "start_date": "1 December"},
        {**decision(person_id), "surprise": True},
        decision(person_id, service(provider="32000000")),  # 8 digits
        decision(person_id, service(hours="1.234")),  # more than two decimals
        {**decision(person_id), "person_id": "nobody"},
    ):
        await refused(client, issuer, bad, 422, "validation-error")


async def test_unknown_or_invisible_person_is_404(client, issuer):
    await refused(client, issuer, decision(str(uuid.uuid4())), 404, "not-found")
    person_id = await register(client, issuer)
    gamle = auth(issuer, Role.case_officer, districts=["gamle-oslo"])
    await refused(client, issuer, decision(person_id), 404, "not-found", headers=gamle)
    # Without decisions:write (service lead reads only) it is 403 before anything else.
    lead = auth(issuer, Role.service_lead, districts=["frogner"])
    await refused(client, issuer, decision(person_id), 403, "forbidden", headers=lead)


async def test_idempotency_key_replays_the_first_response(client, issuer):
    person_id = await register(client, issuer)
    headers = {**auth(issuer, Role.integration), "Idempotency-Key": "fagsystem-vedtak-0001"}
    body = decision(person_id)
    first = await client.post("/v1/decisions", json=body, headers=headers)
    assert first.status_code == 201, first.text
    assert "idempotency-replayed" not in first.headers
    after_first = await stored(client)

    second = await client.post("/v1/decisions", json=body, headers=headers)
    assert second.status_code == 201, second.text
    assert second.headers["idempotency-replayed"] == "true"
    assert second.json() == first.json()
    assert second.headers["location"] == first.headers["location"]
    assert second.headers["etag"] == first.headers["etag"]
    # One decision and one set of events; the replay changed nothing.
    assert await stored(client) == after_first
    assert (after_first["decision"], after_first["outbox"], after_first["idempotency"]) == (1, 2, 1)

    # The same key with another body is a conflict, and nothing is stored.
    changed = decision(person_id, service(hours="20"))
    problem = await refused(client, issuer, changed, 409, "idempotency-key-reused", headers=headers)
    assert "different request" in problem["detail"]

    # Another key is another request.
    other = {**headers, "Idempotency-Key": "fagsystem-vedtak-0002"}
    r = await client.post("/v1/decisions", json=body, headers=other)
    assert r.status_code == 201
    assert r.json()["id"] != first.json()["id"]
    assert "idempotency-replayed" not in r.headers


async def test_a_refused_request_does_not_use_up_its_idempotency_key(client, issuer):
    person_id = await register(client, issuer)
    headers = {**auth(issuer, Role.integration), "Idempotency-Key": "retry-after-fix"}
    await refused(client, issuer, decision(person_id, service(hours="0")), 422, "hours-out-of-range", headers)
    r = await client.post("/v1/decisions", json=decision(person_id), headers=headers)
    assert r.status_code == 201, r.text
    assert "idempotency-replayed" not in r.headers
    too_long = {**headers, "Idempotency-Key": "k" * 201}
    await refused(client, issuer, decision(person_id), 400, "invalid-idempotency-key", too_long)
