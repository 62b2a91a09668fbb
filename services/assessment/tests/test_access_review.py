"""The auditor's snooping review (issue 14): reads outside the reader's districts or caseload,
of a person with no open case, or by a provider that does not serve the person, are flagged
in the person's access log and in the review of every person's reads.

Only assessment runs here; rows as the other services write them (a provider's read in
notifications, a service lead's in pathway) are written with the platform's own access log,
the way those services write them. The whole-system walk (tests/test_access_log.py) shows the
other services' rows arriving in the same list.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from hjemflyt.assessment.main import create_app
from hjemflyt.shared.identity import synthetic_identity_numbers
from hjemflyt.shared.platform.audit import Action
from hjemflyt.shared.platform.auth import Role, principal_from_claims
from hjemflyt.shared.testing import auth, fixed_clock, running_service

DISTRICTS = ("frogner", "sagene")


@pytest.fixture
async def client(settings, issuer):
    async with running_service(create_app, settings, clock=fixed_clock()) as client:
        integration = auth(issuer, Role.integration)
        r = await client.post("/v1/config/presets/oslo", headers=integration)
        assert r.status_code in (200, 201), r.text
        for code in DISTRICTS:
            r = await client.put(
                f"/v1/districts/{code}",
                json={"name": code.title(), "organisation_model": "purchaser_provider", "case_office": "HVK"},
                headers=integration,
            )
            assert r.status_code == 200, r.text
        yield client


async def other_service_read(client, claims: dict, person_id: str) -> None:
    """A read as another service logs it (same platform code, this service's table)."""
    ctx = client.app.state.ctx
    principal = principal_from_claims({"sub": claims.pop("sub"), **claims}, "oslo")
    async with ctx.sessionmaker() as session, session.begin():
        await ctx.access_log.record(
            session,
            principal,
            action=Action.read,
            resource="order",
            person_ids=[uuid.UUID(person_id)],
            purpose="case handling",
        )


async def flags_by_actor(client, auditor, person_id: str, **params) -> dict[str, list]:
    r = await client.get(
        f"/v1/persons/{person_id}/access-log", params={"service": "assessment", **params}, headers=auditor
    )
    assert r.status_code == 200, r.text
    found: dict[str, list] = {}
    for e in r.json()["items"]:
        found.setdefault(e["actor"], []).append(e["flags"])
    return found


async def test_reads_outside_the_remit_are_flagged_for_review(client, issuer):
    clock = client.app.state.clock
    integration = auth(issuer, Role.integration, subject="fagsystem")
    kari = auth(issuer, Role.case_officer, subject="kari", districts=["frogner"])
    auditor = auth(issuer, Role.auditor, subject="revisor")
    ids = []
    for number in synthetic_identity_numbers(2, seed=1409):
        r = await client.post(
            "/v1/persons",
            json={
                "identity_number": number,
                "name": "Test Person",
                "address": "Gata 1",
                "district": "frogner",
            },
            headers=integration,
        )
        assert r.status_code == 201, r.text
        ids.append(r.json()["id"])
    person = ids[0]  # the other is read by nobody and never shows in the review
    # Registering opens the case: reading the person that day is part of it.
    r = await client.get(f"/v1/persons/{person}", headers=kari)
    assert r.status_code == 200

    # Forty days on, nothing was ever opened for her: reads are up for review.
    clock.advance(timedelta(days=40))
    r = await client.get(f"/v1/persons/{person}", headers={**kari, "Hjemflyt-Purpose": "curious"})
    assert r.status_code == 200
    await other_service_read(
        client, {"sub": "lise", "role": "service_lead", "districts": ["sagene"], "scope": ""}, person
    )
    await other_service_read(
        client, {"sub": "pleie-as", "role": "provider", "provider_org": "888888888", "scope": ""}, person
    )
    r = await client.get(f"/v1/persons/{person}", headers=integration)
    assert r.status_code == 200

    found = await flags_by_actor(client, auditor, person)
    assert found["kari"] == [["no-open-case"], []]  # newest first: today's read, then day 0's
    assert found["lise"] == [["outside-districts", "no-open-case"]]
    assert found["pleie-as"] == [["not-their-recipient", "no-open-case"]]
    assert found["fagsystem"] == [[], []]  # the case system's account is not reviewed (read, create)
    r = await client.get(
        f"/v1/persons/{person}/access-log",
        params={"service": "assessment", "flagged": "true"},
        headers=auditor,
    )
    assert sorted(e["actor"] for e in r.json()["items"]) == ["kari", "lise", "pleie-as"]
    assert [e["purpose"] for e in r.json()["items"] if e["actor"] == "kari"] == ["curious"]
    # The reader's scope at the time is kept on the row.
    assert {e["actor"]: e["reader_districts"] for e in r.json()["items"]}["lise"] == ["sagene"]

    # The person sees who looked, but not the unreviewed flags.
    citizen = auth(issuer, Role.citizen, subject="id-porten-9", person_id=person)
    r = await client.get(
        f"/v1/persons/{person}/access-log", params={"service": "assessment"}, headers=citizen
    )
    assert r.status_code == 200, r.text
    assert {e["flags"] for e in r.json()["items"]} == {None}

    # The review of every person's reads: only the flagged ones, the quiet person not at all;
    # paged by scanning, the other services named as unavailable (they do not run here).
    r = await client.get("/v1/access-log/review", params={"service": "assessment"}, headers=auditor)
    assert r.status_code == 200, r.text
    review = r.json()
    assert sorted(e["actor"] for e in review["items"]) == ["kari", "lise", "pleie-as"]
    assert {e["person_id"] for e in review["items"]} == {person}
    assert review["next_cursor"] is None
    assert review["scanned"] > len(review["items"])
    seen, cursor, pages = [], None, 0
    while True:
        params = {"service": "assessment", "limit": 2} | ({"cursor": cursor} if cursor else {})
        page = (await client.get("/v1/access-log/review", params=params, headers=auditor)).json()
        pages += 1
        seen += [(e["actor"], e["id"]) for e in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages > 2
    assert sorted(a for a, _ in seen) == ["kari", "lise", "pleie-as"]
    r = await client.get("/v1/access-log/review", headers=auditor)
    assert r.json()["unavailable"] == ["budget", "notifications", "pathway"]

    # Judged when reviewed, not when read: a referral registered today opens a case, and the
    # read that came just before it is no longer up for review.
    r = await client.post(
        "/v1/referrals",
        json={
            "source": "gp",
            "person_id": person,
            "summary": "Trenger hjelp.",
            "requested_services": ["home-nursing"],
            "sender_name": "Fastlege",
        },
        headers=kari,
    )
    assert r.status_code == 201, r.text
    found = await flags_by_actor(client, auditor, person, action="read")
    assert found["kari"] == [[], []]

    # Only an auditor runs the review.
    for who in (kari, citizen, integration):
        r = await client.get("/v1/access-log/review", headers=who)
        assert r.status_code == 403, r.text
        assert r.headers["content-type"] == "application/problem+json"
