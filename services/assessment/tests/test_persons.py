"""Persons: registration rules, authentication, district scoping, the access log, pagination.

Every refused request is checked for its status, its problem+json body, and that it left
nothing behind: no person, no outbox row, no access-log row, no idempotency row.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import jwt
import pytest
from identity_corpus import CLASS_ATTRIBUTES, INVALID_NUMBERS, VALID_NUMBERS
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from hjemflyt.assessment.db import platform_tables
from hjemflyt.assessment.main import create_app
from hjemflyt.shared.identity import parse_identity_number
from hjemflyt.shared.platform.auth import Role
from hjemflyt.shared.platform.devissuer import DevIssuer
from hjemflyt.shared.testing import ISSUER, auth, eventually, running_service, suite_today

DISTRICTS = {"frogner": "Bydel Frogner", "gamle-oslo": "Bydel Gamle Oslo"}
# A Tenor synthetic fødselsnummer (month + 80) from the corpus.
NUMBER = next(n for n, cls in VALID_NUMBERS if cls == "tenor_birth_number")
OTHER_NUMBER = [n for n, cls in VALID_NUMBERS if cls == "tenor_birth_number"][1]


def person(number: str = NUMBER, district: str = "frogner", **extra: object) -> dict[str, object]:
    return {
        "identity_number": number,
        "name": "Kari Nordmann",
        "address": "Eksempelveien 1, 0250 Oslo",
        "district": district,
        **extra,
    }


@pytest.fixture
async def client(settings, issuer):
    async with running_service(create_app, settings) as client:
        integration = auth(issuer, Role.integration)
        for code, name in DISTRICTS.items():
            r = await client.put(
                f"/v1/districts/{code}",
                json={"name": name, "organisation_model": "purchaser_provider", "case_office": "Forvaltning"},
                headers=integration,
            )
            assert r.status_code == 200, r.text
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


def assert_problem(r, status: int, slug: str) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json"), r.headers
    body = r.json()
    assert body["type"].endswith("/" + slug), body
    assert body["status"] == status
    assert body["title"]
    assert body["detail"]
    return body


async def stored(client) -> dict[str, int]:
    """Rows that any request could have left behind."""
    ctx = client.app.state.ctx
    t = platform_tables
    async with ctx.sessionmaker() as s:
        return {
            "person": await s.scalar(text("select count(*) from assessment.person")),
            "outbox": await s.scalar(select(func.count()).select_from(t.outbox)),
            "access_log": await s.scalar(select(func.count()).select_from(t.access_log)),
            "idempotency": await s.scalar(select(func.count()).select_from(t.idempotency)),
        }


async def access_rows(client, person_id: str) -> list[dict]:
    ctx = client.app.state.ctx
    log = platform_tables.access_log
    async with ctx.sessionmaker() as s:
        rows = await s.execute(select(log).where(log.c.person_id == uuid.UUID(person_id)).order_by(log.c.id))
        return [dict(r._mapping) for r in rows]


# --- registration ----------------------------------------------------------------------


async def test_valid_numbers_of_every_class_are_registered(client, issuer):
    integration = auth(issuer, Role.integration)
    classes = {cls for _, cls in VALID_NUMBERS}
    assert len(classes) >= 8  # birth, D, H, FH, Tenor and 2032-rule variants
    ids, unborn = set(), 0
    for number, cls in VALID_NUMBERS:
        r = await client.post("/v1/persons", json=person(number), headers=integration)
        born = parse_identity_number(number).birth_date
        if born is not None and born > suite_today():  # valid, but no one is registered unborn
            assert r.status_code == 422, (cls, r.text)
            assert r.json()["reason"] == "future_date"
            unborn += 1
            continue
        assert r.status_code == 201, (cls, r.text)
        body = r.json()
        kind, synthetic, _ = CLASS_ATTRIBUTES[cls]
        assert body["identity_number"] == number
        assert body["identity_kind"] == kind, cls
        assert body["synthetic"] is (synthetic != "none"), cls
        assert body["district"] == "frogner"
        assert r.headers["location"] == f"/v1/persons/{body['id']}"
        ids.add(body["id"])
    assert len(ids) == len(VALID_NUMBERS) - unborn
    assert unborn < 3  # the corpus is of numbers of living people, but for these

    # Stored encrypted with a blind index: the number is nowhere in clear.
    ctx = client.app.state.ctx
    async with ctx.sessionmaker() as s:
        rows = (await s.execute(text("select identity_index, identity_cipher from assessment.person"))).all()
    assert len(rows) == len(ids)
    for number, _ in VALID_NUMBERS:
        for index, cipher in rows:
            assert number not in index
            assert number.encode() not in bytes(cipher)
    # One access-log row (create) per registration; persons have no events.
    counts = await stored(client)
    assert counts["access_log"] == len(ids)
    assert counts["outbox"] == 0


async def test_invalid_identity_numbers_are_refused_with_a_reason(client, issuer):
    integration = auth(issuer, Role.integration)
    before = await stored(client)
    reasons = {reason for _, reason in INVALID_NUMBERS}
    assert {"checksum", "date", "length", "not_digits"} <= reasons
    for number, reason in INVALID_NUMBERS:
        r = await client.post("/v1/persons", json=person(number), headers=integration)
        body = assert_problem(r, 422, "invalid-identity-number")
        assert body["reason"] == reason, (number, body)
        if len(number) >= 6:
            # The refusal names the rule, never echoes the number.
            assert number not in r.text
    assert await stored(client) == before


async def test_unknown_district_is_refused(client, issuer):
    before = await stored(client)
    r = await client.post(
        "/v1/persons", json=person(district="nordstrand"), headers=auth(issuer, Role.integration)
    )
    assert_problem(r, 422, "unknown-district")
    assert await stored(client) == before


async def test_duplicate_identity_number_is_a_conflict(client, issuer):
    integration = auth(issuer, Role.integration)
    r = await client.post("/v1/persons", json=person(), headers=integration)
    assert r.status_code == 201, r.text
    before = await stored(client)
    # Also when the number is sent with surrounding whitespace or registered in another district.
    for body in (person(), person(f" {NUMBER} "), person(district="gamle-oslo")):
        r = await client.post("/v1/persons", json=body, headers=integration)
        assert_problem(r, 409, "person-exists")
        assert NUMBER not in r.text
    assert await stored(client) == before


async def test_malformed_requests_are_validation_errors(client, issuer):
    integration = auth(issuer, Role.integration)
    before = await stored(client)
    cases = [
        ("{not json", {"Content-Type": "application/json"}),
        (json.dumps(person(shoe_size=42)), {"Content-Type": "application/json"}),  # unknown field
        (
            json.dumps({"identity_number": NUMBER, "district": "frogner"}),
            {"Content-Type": "application/json"},
        ),
        (json.dumps(person(int(NUMBER))), {"Content-Type": "application/json"}),  # a number, not a string
        (json.dumps(person(name="")), {"Content-Type": "application/json"}),
        (json.dumps([person()]), {"Content-Type": "application/json"}),
    ]
    for content, headers in cases:
        r = await client.post("/v1/persons", content=content, headers={**integration, **headers})
        body = assert_problem(r, 422, "validation-error")
        assert body["errors"], body
        assert all({"location", "message", "code"} <= e.keys() for e in body["errors"])
        assert NUMBER not in r.text  # the input is not echoed
    r = await client.post("/v1/persons", json=person(shoe_size=1), headers=integration)
    body = assert_problem(r, 422, "validation-error")
    assert any(e["location"][-1] == "shoe_size" for e in body["errors"])
    assert await stored(client) == before


# --- authentication and authorisation --------------------------------------------------


async def test_bad_tokens_are_401_with_a_challenge(client, issuer, tmp_path):
    known_kid = (issuer.directory / "kid").read_text().strip()
    other = DevIssuer(tmp_path / "other-issuer", issuer=ISSUER)
    other.ensure_keys()
    # Same kid as the trusted key, but signed by another key: the signature must be checked.
    impostor = DevIssuer(tmp_path / "impostor", issuer=ISSUER)
    impostor.ensure_keys()
    (impostor.directory / "kid").write_text(known_kid)
    wrong_audience = DevIssuer(issuer.directory, issuer=ISSUER, audience="someone-else")
    wrong_issuer = DevIssuer(issuer.directory, issuer="https://evil.example")
    now_claims = jwt.decode(issuer.token(role=Role.integration), options={"verify_signature": False})
    unsigned = jwt.encode(now_claims, key=None, algorithm="none", headers={"kid": known_kid})

    cases = {
        "no token": {},
        "basic scheme": {"Authorization": "Basic ZGV2OmRldg=="},
        "garbage": {"Authorization": "Bearer not.a.jwt"},
        "other key": {"Authorization": f"Bearer {other.token(role=Role.integration)}"},
        "same kid, other key": {"Authorization": f"Bearer {impostor.token(role=Role.integration)}"},
        "alg none": {"Authorization": f"Bearer {unsigned}"},
        "expired": auth(issuer, Role.integration, ttl_seconds=-120),
        "other tenant": auth(issuer, Role.integration, tenant="1103"),
        "wrong audience": {"Authorization": f"Bearer {wrong_audience.token(role=Role.integration)}"},
        "wrong issuer": {"Authorization": f"Bearer {wrong_issuer.token(role=Role.integration)}"},
        "unknown role": {
            "Authorization": f"Bearer {issuer.token(role=Role.integration, extra={'role': 'root'})}"
        },
        "provider without org": auth(issuer, Role.provider),
    }
    before = await stored(client)
    for name, headers in cases.items():
        r = await client.post("/v1/persons", json=person(), headers=headers)
        assert_problem(r, 401, "unauthorized")
        assert r.headers.get("www-authenticate", "").lower().startswith("bearer"), name
        r = await client.get("/v1/persons", headers=headers)
        assert r.status_code == 401, (name, r.text)
    assert await stored(client) == before

    # The same request with a good token works, so the 401s above were about the tokens.
    r = await client.post("/v1/persons", json=person(), headers=auth(issuer, Role.integration))
    assert r.status_code == 201, r.text


async def test_roles_without_person_scopes_are_403(client, issuer):
    integration = auth(issuer, Role.integration)
    r = await client.post("/v1/persons", json=person(OTHER_NUMBER), headers=integration)
    assert r.status_code == 201
    person_id = r.json()["id"]
    before = await stored(client)
    provider = auth(issuer, Role.provider, provider_org="320000009")
    for headers in (provider, auth(issuer, Role.manager)):
        r = await client.post("/v1/persons", json=person(), headers=headers)
        body = assert_problem(r, 403, "forbidden")
        assert "persons:write" in body["missing_scopes"]
        assert_problem(await client.get("/v1/persons", headers=headers), 403, "forbidden")
        assert_problem(await client.get(f"/v1/persons/{person_id}", headers=headers), 403, "forbidden")
        r = await client.post("/v1/persons/lookup", json={"identity_number": OTHER_NUMBER}, headers=headers)
        assert_problem(r, 403, "forbidden")
    # A token asking for scopes its role may never hold does not get them.
    greedy = auth(issuer, Role.provider, provider_org="320000009", scopes=["persons:read", "persons:write"])
    assert_problem(await client.post("/v1/persons", json=person(), headers=greedy), 403, "forbidden")
    assert_problem(await client.get(f"/v1/persons/{person_id}", headers=greedy), 403, "forbidden")
    # The auditor reads the access log, not persons.
    auditor = auth(issuer, Role.auditor)
    assert_problem(await client.get(f"/v1/persons/{person_id}", headers=auditor), 403, "forbidden")
    assert await stored(client) == before


async def test_case_officers_see_only_their_districts(client, issuer):
    frogner = auth(issuer, Role.case_officer, districts=["frogner"], subject="officer-frogner")
    gamle = auth(issuer, Role.case_officer, districts=["gamle-oslo"], subject="officer-gamle")

    before = await stored(client)
    r = await client.post("/v1/persons", json=person(district="gamle-oslo"), headers=frogner)
    assert_problem(r, 403, "district-not-allowed")
    assert await stored(client) == before

    r = await client.post("/v1/persons", json=person(), headers=frogner)
    assert r.status_code == 201, r.text
    person_id = r.json()["id"]
    assert (await client.get(f"/v1/persons/{person_id}", headers=frogner)).status_code == 200

    before = await stored(client)
    assert_problem(await client.get(f"/v1/persons/{person_id}", headers=gamle), 404, "not-found")
    r = await client.post("/v1/persons/lookup", json={"identity_number": NUMBER}, headers=gamle)
    assert_problem(r, 404, "not-found")
    r = await client.get("/v1/persons", headers=gamle)
    assert r.status_code == 200
    assert r.json() == {"items": [], "next_cursor": None}
    r = await client.get(f"/v1/persons/{person_id}/decisions", headers=gamle)
    assert r.status_code == 200
    assert r.json() == []
    # A case officer with no districts sees nobody.
    nowhere = auth(issuer, Role.case_officer, subject="officer-nowhere")
    assert_problem(await client.get(f"/v1/persons/{person_id}", headers=nowhere), 404, "not-found")
    # Refused reads are not logged as reads.
    assert await stored(client) == before


async def test_identity_numbers_never_reach_the_logs(client, issuer, caplog):
    integration = auth(issuer, Role.integration)
    invalid = next(n for n, reason in INVALID_NUMBERS if reason == "checksum")
    with raw_log_capture(caplog):
        r = await client.post("/v1/persons", json=person(invalid), headers=integration)
        assert r.status_code == 422
        r = await client.post("/v1/persons", json=person(), headers=integration)
        assert r.status_code == 201
        r = await client.post("/v1/persons", json=person(), headers=integration)
        assert r.status_code == 409
        r = await client.post("/v1/persons", json=person(extra=1), headers=integration)
        assert r.status_code == 422
        r = await client.post("/v1/persons/lookup", json={"identity_number": NUMBER}, headers=integration)
        assert r.status_code == 200
    # The capture worked (httpx logs each request) ...
    assert "/v1/persons" in caplog.text
    # ... and no log line, traceback included, carries either number.
    assert NUMBER not in caplog.text
    assert invalid not in caplog.text


@contextmanager
def raw_log_capture(caplog) -> Iterator[None]:
    """Capture every record before the redacting handler rewrites it.

    `configure_logging` replaces the root handlers when the first app of the session starts,
    which can drop pytest's capture handler; put it back, first in line.
    """
    root = logging.getLogger()
    if caplog.handler in root.handlers:
        root.removeHandler(caplog.handler)
    root.handlers.insert(0, caplog.handler)
    caplog.set_level(logging.DEBUG)
    try:
        yield
    finally:
        root.removeHandler(caplog.handler)


# --- reads and the access log ----------------------------------------------------------


async def test_lookup_and_reads_are_access_logged(client, issuer):
    integration = auth(issuer, Role.integration, subject="fagsystem")
    officer = auth(issuer, Role.case_officer, districts=["frogner"], subject="officer-kari")
    r = await client.post("/v1/persons", json=person(), headers=integration)
    assert r.status_code == 201
    person_id = r.json()["id"]

    r = await client.post(
        "/v1/persons/lookup",
        json={"identity_number": NUMBER},
        headers={**officer, "Hjemflyt-Purpose": "phone call from the person"},
    )
    assert r.status_code == 200, r.text
    assert r.json()["id"] == person_id
    assert r.json()["identity_number"] == NUMBER

    r = await client.get(f"/v1/persons/{person_id}", headers={**officer, "Hjemflyt-Purpose": "evaluation"})
    assert r.status_code == 200, r.text
    r = await client.get(f"/v1/persons/{person_id}", headers=officer)  # default purpose
    assert r.status_code == 200

    rows = await access_rows(client, person_id)
    assert [(row["actor"], row["role"], row["action"], row["resource"], row["purpose"]) for row in rows] == [
        ("fagsystem", "integration", "create", "person", "case handling"),
        ("officer-kari", "case_officer", "lookup", "person", "phone call from the person"),
        ("officer-kari", "case_officer", "read", "person", "evaluation"),
        ("officer-kari", "case_officer", "read", "person", "case handling"),
    ]
    assert all(row["resource_id"] == person_id for row in rows)

    # Refused or empty lookups log nothing.
    before = await stored(client)
    r = await client.post("/v1/persons/lookup", json={"identity_number": OTHER_NUMBER}, headers=officer)
    assert_problem(r, 404, "not-found")
    r = await client.post("/v1/persons/lookup", json={"identity_number": "12345678901"}, headers=officer)
    assert_problem(r, 422, "invalid-identity-number")
    assert await stored(client) == before

    # The auditor sees who read the data and why (newest first); others may not. The other
    # services do not run here: they are named as unavailable, not silently left out.
    auditor = auth(issuer, Role.auditor, subject="revisor-1")
    r = await client.get(f"/v1/persons/{person_id}/access-log", headers=auditor)
    assert r.status_code == 200, r.text
    body = r.json()
    entries = body["items"]
    assert body["unavailable"] == ["budget", "notifications", "pathway"]
    assert body["next_cursor"] is None
    assert [e["purpose"] for e in entries] == [
        "case handling",
        "evaluation",
        "phone call from the person",
        "case handling",
    ]
    assert [e["action"] for e in entries] == ["read", "read", "lookup", "create"]
    assert {e["service"] for e in entries} == {"assessment"}
    assert entries[-1]["actor"] == "fagsystem"
    assert NUMBER not in r.text
    # The auditor's own read is logged (after the page was read: the page never shows itself).
    rows = await access_rows(client, person_id)
    assert (rows[-1]["actor"], rows[-1]["action"], rows[-1]["resource"]) == (
        "revisor-1",
        "read",
        "access-log",
    )
    r = await client.get(f"/v1/persons/{person_id}/access-log", headers=auditor)
    assert r.json()["items"][0]["resource"] == "access-log"

    # Paged and filterable.
    r = await client.get(
        f"/v1/persons/{person_id}/access-log", params={"limit": 2, "service": "assessment"}, headers=auditor
    )
    first = r.json()
    assert len(first["items"]) == 2
    assert first["unavailable"] == []
    r = await client.get(
        f"/v1/persons/{person_id}/access-log",
        params={"limit": 2, "service": "assessment", "cursor": first["next_cursor"]},
        headers=auditor,
    )
    second = r.json()
    seen = [e["id"] for e in first["items"] + second["items"]]
    assert len(set(seen)) == 4
    assert seen == sorted(seen, reverse=True)
    r = await client.get(
        f"/v1/persons/{person_id}/access-log",
        params={"action": "lookup", "service": "assessment"},
        headers=auditor,
    )
    assert [e["purpose"] for e in r.json()["items"]] == ["phone call from the person"]
    # Each service's own log answers for itself too.
    r = await client.get(
        "/v1/access-log", params={"person_id": person_id, "action": "create"}, headers=auditor
    )
    assert r.status_code == 200, r.text
    assert [(e["service"], e["actor"]) for e in r.json()["items"]] == [("assessment", "fagsystem")]

    # Exported as FHIR AuditEvents (HL7 Norway's profile), the person by pseudonymous id only.
    r = await client.get(
        f"/v1/persons/{person_id}/access-log",
        params={"service": "assessment", "format": "fhir", "limit": 3},
        headers=auditor,
    )
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/fhir+json")
    bundle = r.json()
    assert (bundle["resourceType"], bundle["type"], len(bundle["entry"])) == ("Bundle", "searchset", 3)
    assert "cursor=" in bundle["link"][0]["url"]
    event = bundle["entry"][0]["resource"]
    assert event["resourceType"] == "AuditEvent"
    assert event["meta"]["profile"] == [
        "http://hl7.no/fhir/StructureDefinition/no-domain-Trustframework-Auditevent"
    ]
    assert event["extension"][0]["valueReference"] == {"reference": f"Patient/{person_id}"}
    assert event["type"]["code"] == "110110"
    assert {a["requestor"] for a in event["agent"]} == {True}
    assert event["source"]["observer"]["display"] == "hjemflyt-assessment"
    r = await client.get(
        f"/v1/persons/{person_id}/access-log",
        params={"action": "lookup", "service": "assessment"},
        headers={**auditor, "Accept": "application/fhir+json"},
    )
    (lookup,) = [e["resource"] for e in r.json()["entry"]]
    assert (lookup["action"], lookup["purposeOfEvent"]) == ("E", [{"text": "phone call from the person"}])
    assert NUMBER not in r.text

    # The person themselves (a citizen token from the national login) sees who looked, when
    # and why, and only their own log; their read is logged as well.
    citizen = auth(issuer, Role.citizen, subject="id-porten-1", person_id=person_id)
    r = await client.get(
        f"/v1/persons/{person_id}/access-log", params={"service": "assessment"}, headers=citizen
    )
    assert r.status_code == 200, r.text
    assert ("officer-kari", "lookup", "phone call from the person") in [
        (e["actor"], e["action"], e["purpose"]) for e in r.json()["items"]
    ]
    rows = await access_rows(client, person_id)
    assert (rows[-1]["actor"], rows[-1]["role"], rows[-1]["resource"]) == (
        "id-porten-1",
        "citizen",
        "access-log",
    )
    r = await client.get("/v1/access-log", params={"person_id": person_id}, headers=citizen)
    assert r.status_code == 200
    other = auth(issuer, Role.citizen, subject="id-porten-2", person_id=str(uuid.uuid4()))
    r = await client.get(
        f"/v1/persons/{person_id}/access-log", params={"service": "assessment"}, headers=other
    )
    assert_problem(r, 404, "not-found")
    assert_problem(
        await client.get("/v1/access-log", params={"person_id": person_id}, headers=other), 404, "not-found"
    )
    assert_problem(await client.get(f"/v1/persons/{person_id}", headers=citizen), 403, "forbidden")
    assert_problem(await client.get(f"/v1/persons/{person_id}/access-log", headers=officer), 403, "forbidden")
    assert_problem(
        await client.get("/v1/access-log", params={"person_id": person_id}, headers=officer), 403, "forbidden"
    )
    r = await client.get(
        f"/v1/persons/{uuid.uuid4()}/access-log", params={"service": "assessment"}, headers=auditor
    )
    assert_problem(r, 404, "not-found")


# --- pagination ------------------------------------------------------------------------


async def walk(client, headers, limit: int) -> list[str]:
    ids: list[str] = []
    cursor = None
    for _ in range(50):
        params = {"limit": limit, **({"cursor": cursor} if cursor else {})}
        r = await client.get("/v1/persons", params=params, headers=headers)
        assert r.status_code == 200, r.text
        page = r.json()
        assert len(page["items"]) <= limit
        ids += [p["id"] for p in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            return ids
    raise AssertionError("pagination did not end")


async def test_cursor_pagination_walks_every_page_once(client, issuer):
    integration = auth(issuer, Role.integration)
    numbers = [n for n, _ in VALID_NUMBERS[:7]]
    registered: dict[str, str] = {}
    for i, number in enumerate(numbers):
        district = "frogner" if i % 3 else "gamle-oslo"
        r = await client.post("/v1/persons", json=person(number, district), headers=integration)
        assert r.status_code == 201, r.text
        registered[r.json()["id"]] = district

    ctx = client.app.state.ctx
    log = platform_tables.access_log
    for limit in (1, 2, 3, 7, 50):
        async with ctx.sessionmaker() as s:
            logged_before = await s.scalar(
                select(func.count()).select_from(log).where(log.c.resource == "person-list")
            )
        ids = await walk(client, integration, limit)
        assert len(ids) == len(set(ids)) == len(registered), limit
        assert set(ids) == set(registered)
        async with ctx.sessionmaker() as s:
            logged = await s.scalar(
                select(func.count()).select_from(log).where(log.c.resource == "person-list")
            )
        assert logged - logged_before == len(registered)  # one row per person listed

    frogner = auth(issuer, Role.case_officer, districts=["frogner"])
    ids = await walk(client, frogner, 2)
    assert len(ids) == len(set(ids))
    assert set(ids) == {pid for pid, d in registered.items() if d == "frogner"}

    for limit in (0, 501, "many"):
        r = await client.get("/v1/persons", params={"limit": limit}, headers=integration)
        assert_problem(r, 422, "validation-error")


def b64(value: object) -> str:
    raw = value if isinstance(value, bytes) else json.dumps(value).encode()
    return base64.urlsafe_b64encode(raw).decode()


async def test_garbage_cursor_is_400(client, issuer):
    integration = auth(issuer, Role.integration)
    before = await stored(client)
    cursors = [
        "garbage!",
        "abc",
        b64([1, 2]),
        b64("a string"),
        b64(b"\xff\xfe\x00"),
        # Decodes to an object, but not to a position this API gave out (was a 500: KeyError
        # or ValueError escaped persons/endpoints.py before decode_position guarded it).
        b64({}),
        b64({"created_at": "yesterday", "id": str(uuid.UUID(int=1))}),
        b64({"created_at": "2026-01-01T00:00:00+00:00", "id": "not-a-uuid"}),
        b64({"created_at": 5, "id": str(uuid.UUID(int=1))}),
        b64({"created_at": "2026-01-01T00:00:00+00:00"}),
    ]
    for cursor in cursors:
        r = await client.get("/v1/persons", params={"cursor": cursor}, headers=integration)
        assert_problem(r, 400, "invalid-cursor")
    assert await stored(client) == before


# --- storage at rest and concurrency ---------------------------------------------------


async def clear_text_rows(client, needle: str) -> list[str]:
    """Every row of every assessment table whose text form contains `needle`."""
    ctx = client.app.state.ctx
    async with ctx.sessionmaker() as s:
        tables = (
            await s.scalars(
                text("select table_name from information_schema.tables where table_schema = 'assessment'")
            )
        ).all()
        found = []
        for table in tables:
            rows = (await s.scalars(text(f'select t::text from assessment."{table}" t'))).all()  # noqa: S608
            found += [f"{table}: {row}" for row in rows if needle in row]
    return found


async def test_registration_with_an_idempotency_key_is_replayed(client, issuer):
    headers = {**auth(issuer, Role.integration), "Idempotency-Key": "register-kari"}
    first = await client.post("/v1/persons", json=person(), headers=headers)
    assert first.status_code == 201, first.text
    after_first = await stored(client)
    second = await client.post("/v1/persons", json=person(), headers=headers)
    assert second.status_code == 201, second.text
    assert second.headers["idempotency-replayed"] == "true"
    assert second.json()["id"] == first.json()["id"]
    # The replay shows the person again: that read is access-logged, and nothing else is written.
    after_replay = await stored(client)
    assert after_replay == after_first | {"access_log": after_first["access_log"] + 1}
    assert after_first["person"] == 1
    r = await client.post("/v1/persons", json=person(OTHER_NUMBER), headers=headers)
    assert_problem(r, 409, "idempotency-key-reused")
    assert await stored(client) == after_replay


async def test_without_an_idempotency_key_the_number_is_stored_only_encrypted(client, issuer):
    r = await client.post("/v1/persons", json=person(), headers=auth(issuer, Role.integration))
    assert r.status_code == 201
    assert await clear_text_rows(client, "Kari Nordmann"), "the scan finds what is stored in clear"
    assert await clear_text_rows(client, NUMBER) == []


async def test_with_an_idempotency_key_the_number_is_stored_only_encrypted(client, issuer):
    headers = {**auth(issuer, Role.integration), "Idempotency-Key": "register-kari"}
    r = await client.post("/v1/persons", json=person(), headers=headers)
    assert r.status_code == 201
    assert await clear_text_rows(client, NUMBER) == []


async def register_at_once(client, issuer, times: int = 4) -> list[int]:
    """Several registrations of one number at once, so the race is lost for certain."""
    integration = auth(issuer, Role.integration)
    results = await asyncio.gather(
        *(client.post("/v1/persons", json=person(), headers=integration) for _ in range(times)),
        return_exceptions=True,
    )
    # httpx's ASGI transport re-raises what the app answered with a 500.
    return sorted(r.status_code if isinstance(r, httpx.Response) else 500 for r in results)


async def test_concurrent_registrations_of_one_number_are_one_201_and_409s(client, issuer):
    assert await register_at_once(client, issuer) == [201, 409, 409, 409]


async def test_a_database_error_does_not_carry_personal_data(client):
    """SQL parameters are hidden, so an error (and its log line) cannot hold a name or address."""
    ctx = client.app.state.ctx
    async with ctx.sessionmaker() as session:
        with pytest.raises(DBAPIError) as failure:
            # identity_index is NOT NULL: the insert fails with the name and address as parameters.
            await session.execute(
                text(
                    "INSERT INTO assessment.person (id, identity_cipher, identity_kind, synthetic,"
                    " name, address, district, created_at, created_by) VALUES (gen_random_uuid(), '',"
                    " 'birth_number', true, :name, :address, 'frogner', now(), 'test')"
                ),
                {"name": "Kari Nordmann", "address": "Eksempelveien 1"},
            )
    assert "parameters hidden" in str(failure.value)
    assert "Kari Nordmann" not in str(failure.value)
    assert "Eksempelveien 1" not in str(failure.value)
