"""Referrals, PLO intake, applications and the overdue worklist (forvaltningsloven § 11 a).

Pure rules first (month arithmetic, tasks, sender rules), then the service on a real
PostgreSQL and NATS with a clock that stands still on the suite's day (HJEMFLYT_TEST_TODAY)
until a test moves it; the scenarios' dates are counted from that day. Every refused
request is checked for its problem+json and that it left nothing behind.
"""

from __future__ import annotations

import asyncio
import calendar
import json
import logging
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select, text

from hjemflyt.assessment.db import platform_tables
from hjemflyt.assessment.main import create_app
from hjemflyt.assessment.referrals import rules, service
from hjemflyt.assessment.referrals.endpoints import router
from hjemflyt.assessment.referrals.rules import CatalogueEntry, Source, Task, add_months
from hjemflyt.shared.contracts.events import APPLICATION_REGISTERED, REFERRAL_RECEIVED
from hjemflyt.shared.identity import synthetic_identity_numbers
from hjemflyt.shared.platform.auth import Role
from hjemflyt.shared.platform.clock import OSLO, FixedClock
from hjemflyt.shared.platform.errors import Conflict, NotFound, RuleViolation
from hjemflyt.shared.testing import auth, eventually, fixed_clock, move_clock_to, running_service

# Where the service's clock stands: the suite's day and hour (HJEMFLYT_TEST_TODAY), and that
# day in Norway (near midnight the UTC date is another).
START = fixed_clock().now()
TODAY = fixed_clock().today()
PLO_MESSAGE = (Path(__file__).parent / "data" / "plo_helseopplysninger_soknad.xml").read_text(
    encoding="utf-8"
)
PLO_NUMBER = "12857940081"  # Tenor synthetic, in the test message
PLO_MSG_ID = "37fc6c80-fd20-11e7-8f1a-0800200c9a66"
NUMBERS = [n for n in synthetic_identity_numbers(6, seed=41) if n != PLO_NUMBER]
XML = {"Content-Type": "application/xml"}


# --- rules (no IO) ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2026, 1, 31), 1, date(2026, 2, 28)),  # no 31 February: the month's last day
        (date(2028, 1, 31), 1, date(2028, 2, 29)),  # leap year
        (date(2026, 1, 30), 1, date(2026, 2, 28)),
        (date(2026, 1, 28), 1, date(2026, 2, 28)),
        (date(2026, 1, 15), 1, date(2026, 2, 15)),
        (date(2026, 3, 31), 1, date(2026, 4, 30)),
        (date(2026, 12, 31), 1, date(2027, 1, 31)),  # over the year end
        (date(2026, 12, 15), 2, date(2027, 2, 15)),
        (date(2026, 8, 31), 6, date(2027, 2, 28)),
        (date(2028, 2, 29), 12, date(2029, 2, 28)),
        (date(2027, 2, 28), 12, date(2028, 2, 28)),  # the 28th stays the 28th
        (date(2100, 1, 31), 1, date(2100, 2, 28)),  # 2100 is not a leap year
        (date(2000, 1, 31), 1, date(2000, 2, 29)),  # 2000 is
        (date(2026, 5, 31), 0, date(2026, 5, 31)),
        (date(2026, 10, 31), 1, date(2026, 11, 30)),
        (date(2027, 1, 1), 1, date(2027, 2, 1)),
        (date(2027, 1, 31), 1, date(2027, 2, 28)),
        (date(2028, 2, 28), 1, date(2028, 3, 28)),
        (date(2028, 2, 29), 1, date(2028, 3, 29)),  # from the leap day
        (date(2028, 3, 1), 1, date(2028, 4, 1)),
        (date(2027, 3, 28), 1, date(2027, 4, 28)),  # the day summer time starts
        (date(2027, 10, 31), 1, date(2027, 11, 30)),  # the day summer time ends
    ],
)
def test_add_months(day, months, expected):
    assert add_months(day, months) == expected


@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2200, 12, 31)), st.integers(0, 36))
def test_add_months_properties(day, months):
    later = add_months(day, months)
    assert (later.year * 12 + later.month) - (day.year * 12 + day.month) == months
    assert later.day == day.day or (later.day < day.day and (later + timedelta(days=1)).day == 1)
    assert later >= day


def test_deadline_defaults_to_one_month_and_refuses_negative_months():
    assert rules.deadline_date(date(2026, 1, 31), None) == date(2026, 2, 28)
    assert rules.deadline_date(date(2026, 1, 31), 3) == date(2026, 4, 30)
    with pytest.raises(ValueError, match="negative"):
        add_months(date(2026, 1, 31), -1)


@pytest.mark.parametrize(
    ("status", "reply", "expected_date", "today", "task"),
    [
        ("received", None, None, date(2026, 2, 28), None),  # the deadline day itself is in time
        ("received", None, None, date(2026, 3, 1), Task.preliminary_reply_due),
        ("assessing", None, None, date(2026, 3, 1), Task.preliminary_reply_due),
        ("received", date(2026, 2, 20), date(2026, 3, 20), date(2026, 3, 1), Task.replied),
        ("received", date(2026, 2, 20), date(2026, 3, 20), date(2026, 3, 20), Task.replied),
        ("received", date(2026, 2, 20), date(2026, 3, 20), date(2026, 3, 21), Task.new_preliminary_reply_due),
        ("decided", None, None, date(2026, 6, 1), None),
        ("withdrawn", None, None, date(2026, 6, 1), None),
    ],
)
def test_preliminary_reply_task(status, reply, expected_date, today, task):
    got = rules.preliminary_reply_task(
        status=status,
        deadline=date(2026, 2, 28),
        reply_date=reply,
        expected_decision_date=expected_date,
        today=today,
    )
    assert got == task


@pytest.mark.parametrize(
    ("deadline", "in_time", "overdue"),
    [
        (date(2026, 12, 31), date(2026, 12, 31), date(2027, 1, 1)),  # over the year end
        (date(2028, 2, 28), date(2028, 2, 28), date(2028, 2, 29)),  # onto the leap day
        (date(2028, 2, 29), date(2028, 2, 29), date(2028, 3, 1)),
        (date(2027, 2, 28), date(2027, 2, 28), date(2027, 3, 1)),
    ],
)
def test_the_deadline_day_is_in_time_and_the_next_is_overdue(deadline, in_time, overdue):
    def task(today: date) -> Task | None:
        return rules.preliminary_reply_task(
            status="received", deadline=deadline, reply_date=None, expected_decision_date=None, today=today
        )

    assert task(in_time) is None
    assert task(overdue) == Task.preliminary_reply_due


def test_sender_rules():
    def rules_of(source: Source, **sender: str | None) -> tuple[list[str], str | None]:
        values = {"sender_name": None, "sender_her_id": None, "sender_organisation": None} | sender
        problems, org = rules.check_sender(source, **values)
        return sorted(p.rule for p in problems), org

    assert rules_of(Source.person) == ([], None)
    assert rules_of(Source.person, sender_name="Kari") == (["sender-not-applicable"], None)
    assert rules_of(Source.next_of_kin) == (["sender-required"], None)
    assert rules_of(Source.next_of_kin, sender_name="Ola", sender_her_id="1") == (
        ["sender-not-applicable"],
        None,
    )
    assert rules_of(Source.gp) == (["sender-required"], None)
    assert rules_of(Source.gp, sender_name="Legesenteret", sender_organisation="998 877 660") == (
        [],
        "998877660",
    )
    assert rules_of(Source.hospital, sender_name="HF", sender_organisation="998877661") == (
        ["invalid-organisation-number"],
        None,
    )
    assert rules_of(Source.emergency_gp, sender_name="Legevakten", sender_her_id="12345") == ([], None)


def test_services_are_mapped_from_iplos_codes_where_unambiguous():
    catalogue = [
        CatalogueEntry("home-nursing", "Helsetjenester i hjemmet (hjemmesykepleie)", "15", True),
        CatalogueEntry("reablement", "Hverdagsrehabilitering", "15", True),
        CatalogueEntry("safety-alarm", "Trygghetsalarm", "6", True),
        CatalogueEntry("old-alarm", "Gammel alarm", "6", False),
        CatalogueEntry("practical-help", "Praktisk bistand - daglige gjøremål", "1", True),
        CatalogueEntry("personal-care", "Personlig stell og egenomsorg", "1", True),
    ]
    requested = [
        ("6", "Trygghetsalarm"),
        ("15", "Helsetjenester i hjemmet"),
        ("1", "Hjemmehjelp"),  # two candidates, neither named so: the case officer decides
        ("6", None),  # asked twice: once
        ("99", "Ukjent"),
        (None, "Noe"),
    ]
    assert rules.map_requested_services(requested, catalogue) == ["safety-alarm", "home-nursing"]


def test_services_check():
    catalogue = {"home-nursing": True, "old": False}
    check = rules.check_services
    assert check([], catalogue, field="services", required=False) == []
    assert [v.rule for v in check([], catalogue, field="services", required=True)] == ["no-services"]
    got = check(["home-nursing", "home-nursing", "old", "nope"], catalogue, field="services", required=True)
    assert [(v.rule, v.field) for v in got] == [
        ("duplicate-service-type", "services[1]"),
        ("inactive-service-type", "services[2]"),
        ("unknown-service-type", "services[3]"),
    ]


# --- fixtures and helpers --------------------------------------------------------------


def app_with_referrals(settings, **kwargs):
    """The assessment app, with the referrals router until main.py registers it."""
    app = create_app(settings, **kwargs)
    if not any(getattr(route, "path", None) == "/v1/referrals" for route in app.routes):
        app.include_router(router)
    return app


@pytest.fixture
def clock() -> FixedClock:
    """The service's clock: standing still at START until a test moves it."""
    return fixed_clock()


@pytest.fixture
async def client(settings, issuer, clock):
    async with running_service(app_with_referrals, settings, clock=clock) as client:
        r = await client.post("/v1/config/presets/oslo", headers=auth(issuer, Role.integration))
        assert r.status_code == 200, r.text
        yield client
        await drain_outbox(client)


async def drain_outbox(client) -> None:
    relay = client.app.state.relay

    async def drained():
        assert await relay.pending_count() == 0

    await eventually(drained)
    await asyncio.sleep(0.05)


def officer(issuer, district: str = "frogner"):
    return auth(issuer, Role.case_officer, districts=[district], subject=f"officer-{district}")


def z(moment: datetime) -> str:
    """An instant as the API writes it: UTC, whole seconds, Z."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def assert_problem(r, status: int, slug: str) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json"), r.headers
    body: dict[str, Any] = r.json()
    assert body["type"].endswith("/" + slug), body
    assert body["status"] == status
    assert body["detail"]
    return body


async def stored(client) -> dict[str, int]:
    """Rows any request could have left behind."""
    t = platform_tables
    async with client.app.state.ctx.sessionmaker() as s:
        counts = {
            table: await s.scalar(text(f"select count(*) from assessment.{table}"))  # noqa: S608
            for table in ("person", "referral", "application")
        }
        for name, table in (
            ("outbox", t.outbox),
            ("access_log", t.access_log),
            ("idempotency", t.idempotency),
        ):
            counts[name] = await s.scalar(select(func.count()).select_from(table))
    return counts


async def events(client, event_type) -> list[dict[str, Any]]:
    outbox = platform_tables.outbox
    async with client.app.state.ctx.sessionmaker() as s:
        rows = await s.scalars(
            select(outbox.c.envelope).where(outbox.c.type == event_type.name).order_by(outbox.c.seq)
        )
        return [json.loads(bytes(envelope)) for envelope in rows]


async def access_rows(client, resource: str) -> list[dict[str, Any]]:
    log = platform_tables.access_log
    async with client.app.state.ctx.sessionmaker() as s:
        rows = await s.execute(select(log).where(log.c.resource == resource).order_by(log.c.id))
        return [dict(r._mapping) for r in rows]


async def register_person(client, headers, number: str, district: str = "frogner") -> str:
    r = await client.post(
        "/v1/persons",
        json={
            "identity_number": number,
            "name": "Kari Nordmann",
            "address": "Eksempelveien 1",
            "district": district,
        },
        headers=headers,
    )
    assert r.status_code == 201, r.text
    person_id: str = r.json()["id"]
    return person_id


def gp_referral(person_id: str, **extra) -> dict[str, Any]:
    return {
        "source": "gp",
        "person_id": person_id,
        "summary": "Trenger hjelp med sårstell etter operasjon.",
        "requested_services": ["home-nursing", "safety-alarm"],
        "sender_name": "Frogner legesenter",
        "sender_her_id": "81234",
        "sender_organisation": "998 877 660",
        **extra,
    }


async def new_application(client, headers, person_id: str, **extra) -> dict[str, Any]:
    body = {"person_id": person_id, "services": ["home-nursing"], "description": "Søknad om hjemmesykepleie"}
    r = await client.post("/v1/applications", json=body | extra, headers=headers)
    assert r.status_code == 201, r.text
    application: dict[str, Any] = r.json()
    return application


# --- referrals -------------------------------------------------------------------------


async def test_a_gp_referral_is_stored_with_its_event_and_access_log(client, issuer):
    headers = officer(issuer)
    person_id = await register_person(client, headers, NUMBERS[0])
    r = await client.post("/v1/referrals", json=gp_referral(person_id), headers=headers)
    assert r.status_code == 201, r.text
    referral = r.json()
    assert r.headers["location"] == f"/v1/referrals/{referral['id']}"
    assert referral | {"id": None} == {
        "id": None,
        "person_id": person_id,
        "district": "frogner",
        "source": "gp",
        "status": "received",
        "received_at": z(START),
        "summary": "Trenger hjelp med sårstell etter operasjon.",
        "requested_services": ["home-nursing", "safety-alarm"],
        "sender_name": "Frogner legesenter",
        "sender_her_id": "81234",
        "sender_organisation": "998877660",  # normalised
        "plo_message_id": None,
        "plo_message_type": None,
        "registered_by": "officer-frogner",
    }

    [event] = await events(client, REFERRAL_RECEIVED)
    assert event["subject"] == referral["id"]
    assert event["data"] == {
        "referral_id": referral["id"],
        "person_id": person_id,
        "district": "frogner",
        "source": "gp",
        "requested_services": ["home-nursing", "safety-alarm"],
        "received_at": z(START),
    }
    assert "sårstell" not in json.dumps(event)  # the referral's text stays in assessment

    r = await client.get(f"/v1/referrals/{referral['id']}", headers={**headers, "Hjemflyt-Purpose": "intake"})
    assert r.status_code == 200, r.text
    assert r.json() == referral
    r = await client.get(f"/v1/persons/{person_id}/referrals", headers=headers)
    assert r.status_code == 200
    assert r.json() == [referral]

    rows = await access_rows(client, "referral")
    assert [(row["action"], row["purpose"], row["resource_id"]) for row in rows] == [
        ("create", "case handling", referral["id"]),
        ("read", "intake", referral["id"]),
    ]
    assert all(str(row["person_id"]) == person_id for row in rows)
    assert len(await access_rows(client, "referral-list")) == 1


async def test_referrals_from_the_person_and_next_of_kin(client, issuer):
    headers = officer(issuer)
    person_id = await register_person(client, headers, NUMBERS[0])
    called = (START - timedelta(hours=26)).astimezone(OSLO)  # yesterday, an hour earlier
    body = {
        "source": "person",
        "person_id": person_id,
        "summary": "Ringte selv.",
        "received_at": called.isoformat(),  # with Oslo's offset
    }
    r = await client.post("/v1/referrals", json=body, headers=headers)
    assert r.status_code == 201, r.text
    assert r.json()["requested_services"] == []
    assert r.json()["received_at"] == z(called)
    body = {
        "source": "next_of_kin",
        "person_id": person_id,
        "summary": "Datteren ringte.",
        "sender_name": "Ola",
    }
    r = await client.post("/v1/referrals", json=body, headers=headers)
    assert r.status_code == 201, r.text
    assert len(await events(client, REFERRAL_RECEIVED)) == 2


async def test_a_retried_referral_is_replayed_not_doubled(client, issuer):
    headers = {**officer(issuer), "Idempotency-Key": "referral-1"}
    person_id = await register_person(client, officer(issuer), NUMBERS[0])
    first = await client.post("/v1/referrals", json=gp_referral(person_id), headers=headers)
    assert first.status_code == 201, first.text
    after_first = await stored(client)
    again = await client.post("/v1/referrals", json=gp_referral(person_id), headers=headers)
    assert again.status_code == 201
    assert again.headers["idempotency-replayed"] == "true"
    assert again.json() == first.json()
    # The replay shows the referral again: a logged read, and nothing else.
    assert await stored(client) == after_first | {"access_log": after_first["access_log"] + 1}
    r = await client.post("/v1/referrals", json=gp_referral(person_id, summary="Annet"), headers=headers)
    assert_problem(r, 409, "idempotency-key-reused")
    assert after_first["referral"] == 1
    assert len(await events(client, REFERRAL_RECEIVED)) == 1


async def test_refused_referrals_store_nothing(client, issuer):
    headers = officer(issuer)
    integration = auth(issuer, Role.integration)
    person_id = await register_person(client, headers, NUMBERS[0])
    other_district = await register_person(client, integration, NUMBERS[1], "gamle-oslo")
    r = await client.put(
        "/v1/config/service-types/old-alarm",
        json={
            "name": "Gammel alarm",
            "iplos_code": "6",
            "kostra_function": "234",
            "chargeable": True,
            "legal_basis": ["hol-3-1"],
            "active": False,
        },
        headers=integration,
    )
    assert r.status_code == 200, r.text
    before = await stored(client)
    future = (START + timedelta(hours=1)).isoformat()
    naive = (START - timedelta(hours=2)).replace(tzinfo=None).isoformat(timespec="seconds")
    cases = [
        (
            gp_referral(person_id, requested_services=["home-nursing", "spa-days"]),
            422,
            "unknown-service-type",
        ),
        (gp_referral(person_id, requested_services=["old-alarm"]), 422, "inactive-service-type"),
        (gp_referral(person_id, requested_services=["home-nursing"] * 2), 422, "duplicate-service-type"),
        (gp_referral(person_id, sender_organisation="998877661"), 422, "invalid-organisation-number"),
        (gp_referral(person_id, sender_name=None), 422, "sender-required"),
        (
            {"source": "person", "person_id": person_id, "summary": "x", "sender_her_id": "1"},
            422,
            "sender-not-applicable",
        ),
        (gp_referral(person_id, received_at=future), 422, "received-in-future"),
        (gp_referral(person_id, sender_name=None, requested_services=["spa"]), 422, "referral-incomplete"),
        (gp_referral(str(uuid.uuid4())), 404, "not-found"),
        (gp_referral(other_district), 404, "not-found"),  # exists, in a district this officer does not serve
        (gp_referral(person_id, source="neighbour"), 422, "validation-error"),
        (gp_referral(person_id, summary=""), 422, "validation-error"),
        (gp_referral(person_id, sender_her_id="HER-1"), 422, "validation-error"),
        (gp_referral(person_id, received_at=naive), 422, "validation-error"),  # no offset
        (gp_referral(person_id, shoe_size=42), 422, "validation-error"),
    ]
    for body, status, slug in cases:
        problem = assert_problem(await client.post("/v1/referrals", json=body, headers=headers), status, slug)
        if slug == "referral-incomplete":
            assert {v["rule"] for v in problem["violations"]} == {"sender-required", "unknown-service-type"}
    assert await stored(client) == before


async def test_scopes_and_districts_for_referrals(client, issuer):
    headers = officer(issuer)
    person_id = await register_person(client, headers, NUMBERS[0])
    r = await client.post("/v1/referrals", json=gp_referral(person_id), headers=headers)
    referral_id = r.json()["id"]
    before = await stored(client)
    gamle = officer(issuer, "gamle-oslo")
    assert_problem(await client.get(f"/v1/referrals/{referral_id}", headers=gamle), 404, "not-found")
    assert_problem(await client.get(f"/v1/referrals/{uuid.uuid4()}", headers=headers), 404, "not-found")
    assert_problem(await client.get(f"/v1/persons/{person_id}/referrals", headers=gamle), 404, "not-found")
    lead = auth(issuer, Role.service_lead, districts=["frogner"])
    assert_problem(
        await client.post("/v1/referrals", json=gp_referral(person_id), headers=lead), 403, "forbidden"
    )
    provider = auth(issuer, Role.provider, provider_org="320000009")
    assert_problem(await client.get(f"/v1/referrals/{referral_id}", headers=provider), 403, "forbidden")
    assert_problem(await client.post("/v1/referrals", json=gp_referral(person_id)), 401, "unauthorized")
    assert await stored(client) == before
    # The service lead reads.
    assert (await client.get(f"/v1/referrals/{referral_id}", headers=lead)).status_code == 200


# --- applications ----------------------------------------------------------------------


async def test_an_application_from_a_referral_starts_the_clock(client, issuer):
    headers = officer(issuer)
    person_id = await register_person(client, headers, NUMBERS[0])
    referral = (await client.post("/v1/referrals", json=gp_referral(person_id), headers=headers)).json()
    body = {"person_id": person_id, "referral_id": referral["id"], "description": "Søknad etter henvisning"}
    r = await client.post("/v1/applications", json=body, headers={**headers, "Idempotency-Key": "app-1"})
    assert r.status_code == 201, r.text
    application = r.json()
    assert r.headers["location"] == f"/v1/applications/{application['id']}"
    deadline = add_months(TODAY, 1)
    assert application | {"id": None} == {
        "id": None,
        "person_id": person_id,
        "district": "frogner",
        "referral_id": referral["id"],
        "status": "received",
        "received_date": str(TODAY),  # Norway's date, also just after midnight
        "deadline_date": str(deadline),  # + 1 month
        "services": ["home-nursing", "safety-alarm"],  # the referral's
        "description": "Søknad etter henvisning",
        "preliminary_reply": None,
        "decided_at": None,
        "registered_by": "officer-frogner",
        "created_at": z(START),
    }
    r = await client.get(f"/v1/referrals/{referral['id']}", headers=headers)
    assert r.json()["status"] == "application"

    [event] = await events(client, APPLICATION_REGISTERED)
    assert event["subject"] == application["id"]
    assert event["data"] == {
        "application_id": application["id"],
        "person_id": person_id,
        "district": "frogner",
        "referral_id": referral["id"],
        "services": ["home-nursing", "safety-alarm"],
        "received_date": str(TODAY),
        "deadline_date": str(deadline),
    }

    # A retry replays; a second application from the same referral is a conflict.
    again = await client.post("/v1/applications", json=body, headers={**headers, "Idempotency-Key": "app-1"})
    assert again.status_code == 201
    assert again.json() == application
    before = await stored(client)
    assert_problem(
        await client.post("/v1/applications", json=body, headers=headers), 409, "referral-not-open"
    )
    assert await stored(client) == before

    r = await client.get(f"/v1/applications/{application['id']}", headers=headers)
    assert r.status_code == 200
    assert r.json() == application
    r = await client.get(f"/v1/persons/{person_id}/applications", headers=headers)
    assert r.json() == [application]
    assert [row["action"] for row in await access_rows(client, "application")] == ["create", "read", "read"]


async def test_the_deadline_follows_the_municipality(client, issuer):
    integration = auth(issuer, Role.integration)
    r = await client.put(
        "/v1/config/municipality",
        json={
            "name": "Oslo kommune",
            "appeal_body": "Statsforvalteren i Oslo og Akershus",
            "case_deadline_months": 2,
        },
        headers=integration,
    )
    assert r.status_code == 204, r.text
    person_id = await register_person(client, integration, NUMBERS[0])
    # Received on the last four New Year's Eves (one year of four is a leap year): two months
    # on is the last day of February.
    years = range(TODAY.year, TODAY.year - 4, -1)
    assert any(calendar.isleap(year) for year in years)
    for year in years:
        received = date(year - 1, 12, 31)
        application = await new_application(client, integration, person_id, received_date=str(received))
        assert application["deadline_date"] == str(date(year, 2, 29 if calendar.isleap(year) else 28))


async def test_refused_applications_store_nothing(client, issuer):
    headers = officer(issuer)
    person_id = await register_person(client, headers, NUMBERS[0])
    other_person = await register_person(client, headers, NUMBERS[1])
    gamle_person = await register_person(client, auth(issuer, Role.integration), NUMBERS[2], "gamle-oslo")
    referral = (await client.post("/v1/referrals", json=gp_referral(other_person), headers=headers)).json()
    bare = (
        await client.post(
            "/v1/referrals",
            json={"source": "person", "person_id": person_id, "summary": "x"},
            headers=headers,
        )
    ).json()
    before = await stored(client)
    app = {"person_id": person_id, "services": ["home-nursing"], "description": "Søknad"}
    cases = [
        (app | {"received_date": str(TODAY + timedelta(days=1))}, 422, "received-date-in-future"),
        (app | {"services": []}, 422, "no-services"),
        (app | {"services": ["home-nursing", "spa-days"]}, 422, "unknown-service-type"),
        ({k: v for k, v in app.items() if k != "services"}, 422, "no-services"),
        (app | {"referral_id": bare["id"], "services": None}, 422, "no-services"),  # the referral named none
        (app | {"referral_id": referral["id"]}, 422, "referral-for-another-person"),
        (
            app | {"services": [], "received_date": str(TODAY + timedelta(days=30))},
            422,
            "application-incomplete",
        ),
        (app | {"referral_id": str(uuid.uuid4())}, 404, "not-found"),
        (app | {"person_id": str(uuid.uuid4())}, 404, "not-found"),
        (app | {"person_id": gamle_person}, 404, "not-found"),
        (app | {"received_date": f"{TODAY:%d.%m.%Y}"}, 422, "validation-error"),
        (app | {"description": ""}, 422, "validation-error"),
        (app | {"status": "decided"}, 422, "validation-error"),
    ]
    for body, status, slug in cases:
        assert_problem(await client.post("/v1/applications", json=body, headers=headers), status, slug)
    assert await stored(client) == before


async def test_preliminary_reply_withdrawal_and_decision(client, issuer):
    headers = officer(issuer)
    person_id = await register_person(client, headers, NUMBERS[0])
    first = await new_application(client, headers, person_id)
    second = await new_application(client, headers, person_id)
    url = f"/v1/applications/{first['id']}"

    before = await stored(client)
    for expected in (TODAY, TODAY - timedelta(days=1)):
        r = await client.post(
            f"{url}/preliminary-reply",
            json={"reason": "Venter på kartlegging", "expected_decision_date": str(expected)},
            headers=headers,
        )
        assert_problem(r, 422, "expected-decision-date-not-in-future")
    r = await client.post(f"{url}/preliminary-reply", json={"reason": ""}, headers=headers)
    assert_problem(r, 422, "validation-error")
    assert await stored(client) == before

    expected = str(TODAY + timedelta(days=1))  # tomorrow is the first day allowed
    reply = {"reason": "Venter på kartlegging", "expected_decision_date": expected}
    r = await client.post(f"{url}/preliminary-reply", json=reply, headers=headers)
    assert r.status_code == 200, r.text
    assert r.json()["preliminary_reply"] == {
        "sent_date": str(TODAY),
        "reason": "Venter på kartlegging",
        "expected_decision_date": expected,
    }
    r = await client.post(f"{url}/withdraw", headers={**headers, "Idempotency-Key": "withdraw-1"})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "withdrawn"
    again = await client.post(f"{url}/withdraw", headers={**headers, "Idempotency-Key": "withdraw-1"})
    assert again.status_code == 200
    assert again.headers["idempotency-replayed"] == "true"

    before = await stored(client)
    assert_problem(await client.post(f"{url}/withdraw", headers=headers), 409, "application-closed")
    r = await client.post(f"{url}/preliminary-reply", json=reply, headers=headers)
    assert_problem(r, 409, "application-closed")
    gamle = officer(issuer, "gamle-oslo")
    other = f"/v1/applications/{second['id']}"
    assert_problem(await client.post(f"{other}/withdraw", headers=gamle), 404, "not-found")
    assert_problem(
        await client.post(f"{other}/preliminary-reply", json=reply, headers=gamle), 404, "not-found"
    )
    assert_problem(await client.get(other, headers=gamle), 404, "not-found")
    assert_problem(await client.get(f"/v1/persons/{person_id}/applications", headers=gamle), 404, "not-found")
    assert_problem(
        await client.post("/v1/applications/not-a-uuid/withdraw", headers=headers), 422, "validation-error"
    )
    assert await stored(client) == before

    # What the decisions module calls, in its own unit of work.
    ctx = client.app.state.ctx
    decided_at = ctx.clock.now()
    async with ctx.sessionmaker() as session, session.begin():
        with pytest.raises(Conflict) as conflict:
            await service.mark_decided(session, uuid.UUID(first["id"]), decided_at)
        assert conflict.value.slug == "application-withdrawn"
        with pytest.raises(NotFound):
            await service.mark_decided(session, uuid.uuid4(), decided_at)
        with pytest.raises(RuleViolation) as violation:
            await service.mark_decided(session, uuid.UUID(second["id"]), decided_at, person_id=uuid.uuid4())
        assert violation.value.slug == "application-not-for-person"
        await service.mark_decided(
            session, uuid.UUID(second["id"]), decided_at, person_id=uuid.UUID(person_id)
        )
        # A later decision on the same application (a new version) changes nothing.
        await service.mark_decided(session, uuid.UUID(second["id"]), decided_at + timedelta(days=3))
    r = await client.get(other, headers=headers)
    assert r.json()["status"] == "decided"
    assert r.json()["decided_at"] == z(START)
    assert_problem(await client.post(f"{other}/withdraw", headers=headers), 409, "application-closed")
    r = await client.post(f"{other}/preliminary-reply", json=reply, headers=headers)
    assert_problem(r, 409, "application-closed")


# --- the overdue worklist --------------------------------------------------------------


async def worklist(client, headers, **params) -> list[dict[str, Any]]:
    r = await client.get("/v1/worklists/applications-overdue", params=params, headers=headers)
    assert r.status_code == 200, r.text
    items: list[dict[str, Any]] = r.json()["items"]
    return items


@pytest.mark.calendar
async def test_the_overdue_worklist_follows_the_clock(client, issuer, clock):
    integration = auth(issuer, Role.integration)
    frogner, gamle = officer(issuer), officer(issuer, "gamle-oslo")
    kari = await register_person(client, frogner, NUMBERS[0])
    ola = await register_person(client, integration, NUMBERS[1], "gamle-oslo")
    # Received today, the deadline is a month on; received 16 days ago, an earlier one.
    deadline = add_months(TODAY, 1)
    early_deadline = add_months(TODAY - timedelta(days=16), 1)
    assert early_deadline < deadline
    early = await new_application(client, frogner, kari, received_date=str(TODAY - timedelta(days=16)))
    assert early["deadline_date"] == str(early_deadline)
    a = await new_application(client, frogner, kari)
    assert a["deadline_date"] == str(deadline)
    b = await new_application(client, frogner, kari)
    c = await new_application(client, frogner, kari)
    d = await new_application(client, integration, ola)

    assert await worklist(client, frogner) == []
    move_clock_to(clock, deadline)  # the deadline day itself is in time
    assert [x["id"] for x in await worklist(client, frogner)] == [early["id"]]

    move_clock_to(clock, deadline + timedelta(days=1))
    items = await worklist(client, frogner)
    same_day = sorted([a["id"], b["id"], c["id"]])
    assert [x["id"] for x in items] == [early["id"], *same_day]  # oldest deadline first
    assert [(x["days_overdue"], x["task"]) for x in items] == [
        ((deadline - early_deadline).days + 1, "preliminary_reply_due")
    ] + [(1, "preliminary_reply_due")] * 3
    assert [x["id"] for x in await worklist(client, gamle)] == [d["id"]]
    assert len(await worklist(client, integration)) == 5
    assert [x["id"] for x in await worklist(client, integration, district="gamle-oslo")] == [d["id"]]
    assert await worklist(client, frogner, district="gamle-oslo") == []  # a filter cannot widen the scope

    # A preliminary reply settles the task until the date it promised; withdrawn and decided
    # applications leave the list.
    promised = deadline + timedelta(days=20)
    reply = {"reason": "Venter på hjemmebesøk", "expected_decision_date": str(promised)}
    r = await client.post(f"/v1/applications/{a['id']}/preliminary-reply", json=reply, headers=frogner)
    assert r.status_code == 200, r.text
    assert (await client.post(f"/v1/applications/{b['id']}/withdraw", headers=frogner)).status_code == 200
    ctx = client.app.state.ctx
    async with ctx.sessionmaker() as session, session.begin():
        await service.mark_decided(session, uuid.UUID(c["id"]), ctx.clock.now())
    assert [x["id"] for x in await worklist(client, frogner)] == [early["id"]]
    replied = await worklist(client, frogner, include_replied="true")
    assert [(x["id"], x["task"]) for x in replied] == [
        (early["id"], "preliminary_reply_due"),
        (a["id"], "replied"),
    ]
    assert replied[1]["preliminary_reply"]["expected_decision_date"] == str(promised)

    # The promised day itself still holds; once it passes without a decision, a new reply is due.
    move_clock_to(clock, promised)
    assert [x["id"] for x in await worklist(client, frogner)] == [early["id"]]
    move_clock_to(clock, promised + timedelta(days=1))
    items = await worklist(client, frogner)
    assert [(x["id"], x["task"]) for x in items] == [
        (early["id"], "preliminary_reply_due"),
        (a["id"], "new_preliminary_reply_due"),
    ]

    # Reading the worklist is logged, one row per application shown; an empty list logs nothing.
    rows = await access_rows(client, "application-worklist")
    by_actor: dict[str, set[str]] = {}
    for row in rows:
        by_actor.setdefault(row["actor"], set()).add(str(row["person_id"]))
    assert by_actor["officer-frogner"] == {kari}
    assert by_actor["officer-gamle-oslo"] == {ola}
    assert all(row["action"] == "read" and row["purpose"] == "worklist" for row in rows)


async def test_the_worklist_pages_with_a_cursor(client, issuer, clock):
    integration = auth(issuer, Role.integration)
    person_id = await register_person(client, integration, NUMBERS[0])
    created = [
        await new_application(client, integration, person_id, received_date=str(TODAY - timedelta(days=ago)))
        for ago in (26, 26, 25, 11, 0)
    ]
    move_clock_to(clock, TODAY + timedelta(days=62))  # every deadline (a month on) has passed
    for limit in (1, 2, 3, 5, 50):
        ids, cursor = [], None
        for _ in range(10):
            params = {"limit": limit, **({"cursor": cursor} if cursor else {})}
            r = await client.get("/v1/worklists/applications-overdue", params=params, headers=integration)
            assert r.status_code == 200, r.text
            page = r.json()
            assert len(page["items"]) <= limit
            ids += [x["id"] for x in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert sorted(ids) == sorted(a["id"] for a in created), limit
        assert len(ids) == len(set(ids))
    before = await stored(client)
    for cursor in ("garbage!", "e30=", "eyJkZWFkbGluZV9kYXRlIjogIjIwMjYifQ=="):
        r = await client.get(
            "/v1/worklists/applications-overdue", params={"cursor": cursor}, headers=integration
        )
        assert_problem(r, 400, "invalid-cursor")
    for limit in (0, 501):
        r = await client.get(
            "/v1/worklists/applications-overdue", params={"limit": limit}, headers=integration
        )
        assert_problem(r, 422, "validation-error")
    assert await stored(client) == before


# --- PLO intake ------------------------------------------------------------------------


def plo(*replacements: tuple[str, str]) -> bytes:
    message = PLO_MESSAGE
    for old, new in replacements:
        assert old in message, old
        message = message.replace(old, new)
    return message.encode()


async def test_a_plo_message_for_a_known_person_becomes_a_referral_once(client, issuer):
    integration = auth(issuer, Role.integration, subject="meldingsmottak")
    person_id = await register_person(client, integration, PLO_NUMBER)
    r = await client.post("/v1/referrals/plo", content=plo(), headers={**integration, **XML})
    assert r.status_code == 201, r.text
    referral = r.json()
    assert r.headers["location"] == f"/v1/referrals/{referral['id']}"
    assert referral["person_id"] == person_id
    assert referral["district"] == "frogner"
    assert referral["source"] == "hospital"
    assert referral["status"] == "received"
    assert referral["sender_name"] == "ST OLAVS HOSPITAL HF, Ortopedisk kirurgi"
    assert referral["sender_her_id"] == "90998"
    assert referral["sender_organisation"] == "998877660"
    assert referral["plo_message_id"] == PLO_MSG_ID
    assert referral["plo_message_type"] == "HELSEOPPL_SOKNAD"
    assert referral["requested_services"] == ["safety-alarm", "home-nursing"]
    assert "Innlagt etter fall i trapp" in referral["summary"]
    assert referral["person_registered"] is False
    assert referral["duplicate"] is False
    assert referral["received_at"] == z(START)  # when it reached us, not GenDate
    [event] = await events(client, REFERRAL_RECEIVED)
    assert event["data"]["source"] == "hospital"
    assert event["data"]["requested_services"] == ["safety-alarm", "home-nursing"]
    assert PLO_NUMBER not in json.dumps(event)

    # The same message again (a retry by the message broker): the same referral, 200.
    after_first = await stored(client)
    r = await client.post("/v1/referrals/plo", content=plo(), headers={**integration, **XML})
    assert r.status_code == 200, r.text
    assert r.json() == referral | {"duplicate": True}
    assert await stored(client) == after_first | {"access_log": after_first["access_log"] + 1}

    # The same MsgId for another patient is not the same message.
    r = await client.post(
        "/v1/referrals/plo",
        content=plo((PLO_NUMBER, NUMBERS[0])),
        params={"district": "frogner"},
        headers={**integration, **XML},
    )
    assert_problem(r, 409, "plo-message-id-reused")
    assert NUMBERS[0] not in r.text
    assert await stored(client) == after_first | {"access_log": after_first["access_log"] + 1}

    # Another message from a GP, with its own MsgId, is another referral.
    r = await client.post(
        "/v1/referrals/plo",
        content=plo((PLO_MSG_ID, "msg-2")),
        params={"source": "gp"},
        headers={**integration, "Content-Type": "text/xml; charset=utf-8"},
    )
    assert r.status_code == 201, r.text
    assert r.json()["source"] == "gp"


async def test_an_unknown_patient_is_registered_only_in_a_named_district(client, issuer):
    headers = {**officer(issuer), **XML}
    before = await stored(client)
    r = await client.post("/v1/referrals/plo", content=plo(), headers=headers)
    assert_problem(r, 422, "plo-person-unknown")
    assert PLO_NUMBER not in r.text
    assert await stored(client) == before
    integration = {**auth(issuer, Role.integration), **XML}
    for district, who, status, slug in (
        ("gamle-oslo", headers, 403, "district-not-allowed"),  # not this officer's district
        ("nordstrand-x", integration, 422, "unknown-district"),
        ("Not A Code", headers, 422, "validation-error"),
    ):
        r = await client.post("/v1/referrals/plo", content=plo(), params={"district": district}, headers=who)
        assert_problem(r, status, slug)
    assert await stored(client) == before

    r = await client.post("/v1/referrals/plo", content=plo(), params={"district": "frogner"}, headers=headers)
    assert r.status_code == 201, r.text
    referral = r.json()
    assert referral["person_registered"] is True
    r = await client.get(f"/v1/persons/{referral['person_id']}", headers=headers)
    person = r.json()
    assert (
        person["identity_number"],
        person["name"],
        person["address"],
        person["phone"],
        person["district"],
    ) == (
        PLO_NUMBER,
        "Gry Telokk",
        "Lungegaardsbakken 13, 5020 Bergen",
        "40000000",
        "frogner",
    )
    assert person["synthetic"] is True
    counts = await stored(client)
    assert (counts["person"], counts["referral"], counts["outbox"]) == (
        before["person"] + 1,
        1,
        before["outbox"] + 1,
    )
    created = [row for row in await access_rows(client, "person") if row["action"] == "create"]
    assert [str(row["person_id"]) for row in created] == [referral["person_id"]]

    # A patient without an address cannot be registered from the message.
    start, end = PLO_MESSAGE.index("<Address>"), PLO_MESSAGE.index("</Address>") + len("</Address>")
    no_address = (
        (PLO_MESSAGE[:start] + PLO_MESSAGE[end:]).replace(PLO_NUMBER, NUMBERS[0]).replace(PLO_MSG_ID, "m3")
    )
    r = await client.post(
        "/v1/referrals/plo", content=no_address.encode(), params={"district": "frogner"}, headers=headers
    )
    body = assert_problem(r, 422, "plo-patient-incomplete")
    assert body["fields"] == ["address"]


async def test_refused_plo_messages_store_nothing(client, issuer):
    integration = auth(issuer, Role.integration)
    await register_person(client, integration, PLO_NUMBER)
    headers = {**integration, **XML}
    before = await stored(client)
    cases = [
        (b"", "plo-not-well-formed"),
        (plo()[:-30], "plo-not-well-formed"),
        (
            b'<?xml version="1.0"?><!DOCTYPE m [<!ENTITY x SYSTEM "file:///etc/passwd">]><m>&x;</m>',
            "plo-forbidden-xml",
        ),
        (plo(('V="HELSEOPPL_SOKNAD"', 'V="INNLEGGELSESRAPPORT"')), "plo-unsupported-type"),
        (plo(("<MsgId>", "<Unknown/><MsgId>")), "plo-schema-invalid"),
        (
            plo(("<GenDate>2018-01-10T10:32:43</GenDate>", "<GenDate>Gry Telokk</GenDate>")),
            "plo-schema-invalid",
        ),
        (plo((PLO_NUMBER, PLO_NUMBER[:-1] + "0")), "invalid-identity-number"),
        (plo(('<Forsendelsesstatus V="N"', '<Forsendelsesstatus V="K"')), "plo-unsupported-shipment-status"),
    ]
    for body, slug in cases:
        r = await client.post(
            "/v1/referrals/plo", content=body, params={"district": "frogner"}, headers=headers
        )
        problem = assert_problem(r, 422, slug)
        for value in (PLO_NUMBER, "Telokk", "Lungegaardsbakken"):
            assert value not in r.text, (slug, value)
        if slug == "plo-schema-invalid":
            assert problem["errors"]
            assert all(set(e) == {"path", "kind"} for e in problem["errors"])
    r = await client.post(
        "/v1/referrals/plo", content=plo(), headers={**integration, "Content-Type": "application/json"}
    )
    assert_problem(r, 415, "unsupported-media-type")
    r = await client.post("/v1/referrals/plo", content=plo(), headers=integration)
    assert_problem(r, 415, "unsupported-media-type")
    r = await client.post("/v1/referrals/plo", content=plo(), params={"source": "person"}, headers=headers)
    assert_problem(r, 422, "validation-error")

    # Over the limit, also when streamed without a Content-Length.
    big = plo(("<MIGversion>", "<!--" + "x" * (1024 * 1024) + "--><MIGversion>"))
    assert_problem(
        await client.post("/v1/referrals/plo", content=big, headers=headers), 413, "payload-too-large"
    )

    async def stream() -> AsyncIterator[bytes]:
        for i in range(0, len(big), 64 * 1024):
            yield big[i : i + 64 * 1024]

    r = await client.post("/v1/referrals/plo", content=stream(), headers=headers)
    assert "content-length" not in r.request.headers
    assert_problem(r, 413, "payload-too-large")

    # Who may send: case officers and integrations, not a service lead; a person in another
    # district is not found.
    lead = auth(issuer, Role.service_lead, districts=["frogner"])
    assert_problem(
        await client.post("/v1/referrals/plo", content=plo(), headers={**lead, **XML}), 403, "forbidden"
    )
    gamle = {**officer(issuer, "gamle-oslo"), **XML}
    r = await client.post(
        "/v1/referrals/plo", content=plo(), params={"district": "gamle-oslo"}, headers=gamle
    )
    assert_problem(r, 404, "not-found")
    assert await stored(client) == before


async def test_concurrent_deliveries_of_one_message_make_one_referral(client, issuer):
    headers = {**auth(issuer, Role.integration), **XML}
    results = await asyncio.gather(
        *(
            client.post("/v1/referrals/plo", content=plo(), params={"district": "frogner"}, headers=headers)
            for _ in range(4)
        ),
        return_exceptions=True,
    )
    statuses = sorted(r.status_code if isinstance(r, httpx.Response) else 500 for r in results)
    assert statuses == [200, 200, 200, 201], [r.text if isinstance(r, httpx.Response) else r for r in results]
    ids = {r.json()["id"] for r in results if isinstance(r, httpx.Response)}
    assert len(ids) == 1
    counts = await stored(client)
    assert (counts["person"], counts["referral"]) == (1, 1)
    assert len(await events(client, REFERRAL_RECEIVED)) == 1


async def test_plo_intake_never_logs_the_message_or_identity_numbers(client, issuer, caplog):
    headers = {**auth(issuer, Role.integration), **XML}
    with raw_log_capture(caplog):
        for body, params in (
            (plo(), {}),
            (plo(), {"district": "frogner"}),
            (plo(), {"district": "frogner"}),
            (plo(("<GenDate>2018-01-10T10:32:43</GenDate>", f"<GenDate>{PLO_NUMBER}</GenDate>")), {}),
            (plo((PLO_NUMBER, PLO_NUMBER[:-1] + "0")), {}),
            (plo()[:-10], {}),
        ):
            await client.post("/v1/referrals/plo", content=body, params=params, headers=headers)
    assert "/v1/referrals/plo" in caplog.text  # the capture works
    for value in (PLO_NUMBER, PLO_NUMBER[:-1] + "0", "Telokk", "Lungegaardsbakken", "Innlagt etter fall"):
        assert value not in caplog.text, value


@contextmanager
def raw_log_capture(caplog) -> Iterator[None]:
    """Capture records before the redacting handler rewrites them (see test_persons.py)."""
    root = logging.getLogger()
    if caplog.handler in root.handlers:
        root.removeHandler(caplog.handler)
    root.handlers.insert(0, caplog.handler)
    caplog.set_level(logging.DEBUG)
    try:
        yield
    finally:
        root.removeHandler(caplog.handler)
