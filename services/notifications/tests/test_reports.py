"""Provider reports and the case office's answers: start confirmations, deviations,
change-of-need reports, "masters this", clarifications both ways and urgent requests.
Each endpoint: the right effects (task, message, event), bad input refused with nothing
stored, and isolation (another provider's ids and other districts answer 404)."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import date, timedelta

import pytest
from identity_corpus import VALID_NUMBERS, make_org_number
from sqlalchemy import select, text

from hjemflyt.notifications.db import platform_tables
from hjemflyt.notifications.main import create_app
from hjemflyt.notifications.reports import deadlines
from hjemflyt.shared.contracts.events import ORDER_ISSUED, DecidedService, OrderIssued, OrderRecipient
from hjemflyt.shared.contracts.registry import EventType
from hjemflyt.shared.contracts.reports import (
    CHANGE_OF_NEED_ANSWERED,
    CHANGE_OF_NEED_REPORTED,
    CLARIFICATION_ANSWERED,
    CLARIFICATION_OVERDUE,
    CLARIFICATION_REQUESTED,
    DEVIATION_REPORTED,
    MASTERS_DAILY_LIFE_REPORTED,
    START_CONFIRMED,
    URGENT_REQUEST_ANSWERED,
    URGENT_REQUEST_ESCALATED,
    URGENT_REQUEST_SENT,
)
from hjemflyt.shared.platform.auth import Role
from hjemflyt.shared.testing import auth, eventually, publish_event, running_service, suite_now, suite_today

PROVIDER = make_org_number("81234567")
OTHER = make_org_number("90000000")
RECIPIENT_NUMBER = next(n for n, cls in VALID_NUMBERS if cls == "tenor_birth_number")
T = platform_tables
TODAY = suite_today()  # the suite's pinned day, Norway's legal date (the services' too)


@pytest.fixture
async def client(settings):
    async with running_service(create_app, settings) as client:
        yield client
        relay = client.app.state.relay

        async def drained():
            assert await relay.pending_count() == 0

        await eventually(drained)
        await asyncio.sleep(0.05)


async def register(client, issuer, org: str) -> None:
    r = await client.put(
        f"/v1/providers/{org}",
        json={
            "name": f"Leverandør {org}",
            "kind": "private",
            "service_codes": ["15"],
            "districts": ["frogner"],
        },
        headers=auth(issuer, Role.integration),
    )
    assert r.status_code in (200, 201), r.text


async def issue(
    client,
    settings,
    org: str = PROVIDER,
    *,
    decision_id: uuid.UUID | None = None,
    version: int = 1,
    kind: str = "new",
    end: date | None = None,
    person_id: uuid.UUID | None = None,
) -> uuid.UUID:
    decision_id = decision_id or uuid.uuid4()
    data = OrderIssued(
        kind=kind,
        decision_id=decision_id,
        decision_version=version,
        person_id=person_id or uuid.uuid4(),
        district="frogner",
        provider_org=org,
        recipient=OrderRecipient(
            identity_number=RECIPIENT_NUMBER, name="Kari Nordmann", address="Eksempelveien 1"
        ),
        services=[
            DecidedService(
                service_code="15",
                service_name="Helsetjenester i hjemmet",
                hours_per_month="12",
                provider_org=org,
            )
        ],
        start_date=TODAY - timedelta(days=30),
        end_date=end,
        issued_at=suite_now(),
    )
    await publish_event(settings, ORDER_ISSUED, data, subject=f"{decision_id}/{org}")

    async def stored():
        async with client.app.state.ctx.sessionmaker() as s:
            row = (
                await s.execute(
                    text(
                        "select id, decision_version from notifications.provider_order "
                        "where decision_id = :d and provider_org = :o"
                    ),
                    {"d": decision_id, "o": org},
                )
            ).first()
        assert row is not None
        assert row[1] == version
        return row[0]

    return await eventually(stored)


def provider(issuer, org: str = PROVIDER) -> dict[str, str]:
    return auth(issuer, Role.provider, provider_org=org, subject=f"system-{org}")


def officer(issuer, district: str = "frogner") -> dict[str, str]:
    return auth(issuer, Role.case_officer, districts=[district], subject=f"officer-{district}")


def assert_problem(r, status: int, slug: str) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json"), r.headers
    body = r.json()
    assert body["type"].endswith("/" + slug), body
    return body


async def events(client, event_type: EventType) -> list[dict]:
    async with client.app.state.ctx.sessionmaker() as s:
        rows = await s.scalars(
            select(T.outbox.c.envelope).where(T.outbox.c.type == event_type.name).order_by(T.outbox.c.seq)
        )
        return [json.loads(e)["data"] for e in rows]


async def rows(client, sql: str, **params: object) -> list[dict]:
    async with client.app.state.ctx.sessionmaker() as s:
        return [dict(r._mapping) for r in await s.execute(text(sql), params)]


async def tasks(client, kind: str) -> list[dict]:
    return await rows(client, "select * from notifications.task where kind = :k order by created_at", k=kind)


async def messages(client, kind: str) -> list[dict]:
    return await rows(client, "select * from notifications.message where kind = :k order by position", k=kind)


def assert_pseudonymous(data: object) -> None:
    dumped = json.dumps(data)
    for secret in (RECIPIENT_NUMBER, "Kari", "Nordmann", "Ola"):
        assert secret not in dumped, secret


@pytest.fixture
async def orders(client, issuer, settings):
    await register(client, issuer, PROVIDER)
    await register(client, issuer, OTHER)
    return await issue(client, settings), await issue(client, settings, OTHER)


# --- start confirmation --------------------------------------------------------------------


async def test_start_is_confirmed_once_per_order_version(client, issuer, orders):
    mine, theirs = orders
    body = {
        "started_on": (TODAY - timedelta(days=1)).isoformat(),
        "primary_contact": {"staff_id": "staff-17", "name": "Ola Hansen", "phone": "+47 900 00 000"},
    }
    r = await client.post(f"/v1/orders/{mine}/start", json=body, headers=provider(issuer))
    assert r.status_code == 201, r.text
    assert r.json()["primary_contact"]["name"] == "Ola Hansen"
    assert r.json()["order_version"] == 1
    r = await client.post(f"/v1/orders/{mine}/start", json=body, headers=provider(issuer))
    assert r.status_code == 200, r.text
    changed = {**body, "primary_contact": {**body["primary_contact"], "staff_id": "staff-18"}}
    r = await client.post(f"/v1/orders/{mine}/start", json=changed, headers=provider(issuer))
    assert_problem(r, 409, "start-already-confirmed")

    (event,) = await events(client, START_CONFIRMED)
    assert event["primary_contact_staff_id"] == "staff-17"
    assert_pseudonymous(event)

    # The case office of the district reads the primary contact; elsewhere and others: 404.
    r = await client.get(f"/v1/orders/{mine}/start", headers=officer(issuer))
    assert r.status_code == 200
    assert r.json()["primary_contact"]["phone"] == "+47 900 00 000"
    r = await client.get("/v1/start-confirmations", headers=officer(issuer))
    assert [s["order_id"] for s in r.json()["items"]] == [str(mine)]
    assert_problem(
        await client.get(f"/v1/orders/{mine}/start", headers=officer(issuer, "grorud")), 404, "not-found"
    )
    assert_problem(
        await client.get(f"/v1/orders/{mine}/start", headers=provider(issuer, OTHER)), 404, "not-found"
    )
    assert (await client.get("/v1/start-confirmations", headers=provider(issuer, OTHER))).json()[
        "items"
    ] == []
    r = await client.post(f"/v1/orders/{theirs}/start", json=body, headers=provider(issuer))
    assert_problem(r, 404, "not-found")


@pytest.mark.calendar
async def test_start_confirmation_bad_input(client, issuer, orders):
    mine, _ = orders
    contact = {"staff_id": "staff-1", "name": "Ola Hansen", "phone": "+4790000000"}
    cases = [
        (
            {"started_on": (TODAY + timedelta(days=2)).isoformat(), "primary_contact": contact},
            422,
            "start-in-future",
        ),
        (
            {"started_on": (TODAY - timedelta(days=90)).isoformat(), "primary_contact": contact},
            422,
            "start-before-order",
        ),
        ({"started_on": "yesterday", "primary_contact": contact}, 422, "validation-error"),
        ({"started_on": TODAY.isoformat()}, 422, "validation-error"),
        (
            {"started_on": TODAY.isoformat(), "primary_contact": {**contact, "phone": "call me"}},
            422,
            "validation-error",
        ),
        (
            {"started_on": TODAY.isoformat(), "primary_contact": {**contact, "staff_id": "Ola Hansen"}},
            422,
            "validation-error",
        ),
    ]
    for body, status, slug in cases:
        assert_problem(
            await client.post(f"/v1/orders/{mine}/start", json=body, headers=provider(issuer)), status, slug
        )
    r = await client.post(
        f"/v1/orders/{mine}/start",
        json={"started_on": TODAY.isoformat(), "primary_contact": contact},
        headers=officer(issuer),
    )
    assert_problem(r, 403, "forbidden")
    assert await events(client, START_CONFIRMED) == []
    # Today is Norway's date: not in the future, also just after midnight (when UTC's is yesterday).
    r = await client.post(
        f"/v1/orders/{mine}/start",
        json={"started_on": TODAY.isoformat(), "primary_contact": contact},
        headers=provider(issuer),
    )
    assert r.status_code == 201, r.text


# --- deviations ------------------------------------------------------------------------------


async def test_deviations_and_serious_ones_become_tasks(client, issuer, orders):
    mine, theirs = orders
    occurred = suite_now() - timedelta(hours=2)
    at = occurred.isoformat()
    low = {
        "severity": "low",
        "category": "late_visit",
        "description": "Kom 40 min for sent",
        "occurred_at": at,
    }
    high = {**low, "severity": "critical", "category": "medication", "description": "Feil dose"}
    r = await client.post(f"/v1/orders/{mine}/deviations", json=low, headers=provider(issuer))
    assert r.status_code == 201, r.text
    assert r.json()["task_opened"] is False
    headers = {**provider(issuer), "Idempotency-Key": "dev-2"}
    r = await client.post(f"/v1/orders/{mine}/deviations", json=high, headers=headers)
    assert r.status_code == 201
    assert r.json()["task_opened"] is True
    again = await client.post(f"/v1/orders/{mine}/deviations", json=high, headers=headers)
    assert again.status_code == 201
    assert again.json()["id"] == r.json()["id"]
    assert again.headers["idempotency-replayed"] == "true"

    reported = await events(client, DEVIATION_REPORTED)
    assert [e["severity"] for e in reported] == ["low", "critical"]
    assert_pseudonymous(reported)
    assert "Feil dose" not in json.dumps(reported)
    (task,) = await tasks(client, "deviation")
    assert task["reference_id"] == uuid.UUID(r.json()["id"])
    assert task["district"] == "frogner"

    r = await client.get("/v1/deviations", params={"severity": "critical"}, headers=officer(issuer))
    assert [d["category"] for d in r.json()["items"]] == ["medication"]
    dev_id = r.json()["items"][0]["id"]
    assert (await client.get(f"/v1/deviations/{dev_id}", headers=provider(issuer))).status_code == 200
    for headers in (provider(issuer, OTHER), officer(issuer, "grorud")):
        assert_problem(await client.get(f"/v1/deviations/{dev_id}", headers=headers), 404, "not-found")
        assert (await client.get("/v1/deviations", headers=headers)).json()["items"] == []

    future = {**low, "occurred_at": (suite_now() + timedelta(days=1)).isoformat()}
    assert_problem(
        await client.post(f"/v1/orders/{mine}/deviations", json=future, headers=provider(issuer)),
        422,
        "occurred-in-future",
    )
    for bad in (
        {**low, "severity": "catastrophic"},
        {**low, "occurred_at": occurred.replace(tzinfo=None).isoformat()},  # no offset
        {**low, "x": 1},
    ):
        r = await client.post(f"/v1/orders/{mine}/deviations", json=bad, headers=provider(issuer))
        assert_problem(r, 422, "validation-error")
    r = await client.post(f"/v1/orders/{theirs}/deviations", json=low, headers=provider(issuer))
    assert_problem(r, 404, "not-found")
    assert len(await events(client, DEVIATION_REPORTED)) == 2


# --- change of need ----------------------------------------------------------------------------


async def test_a_change_of_need_is_a_task_answered_back_to_the_provider(client, issuer, orders):
    mine, theirs = orders
    body = {
        "observation": "Trenger hjelp også om kvelden",
        "proposed_change": "Kveldsbesøk daglig",
        "evidence": "Falt to ganger siste uke",
        "proposed_hours_per_month": "20.5",
    }
    r = await client.post(f"/v1/orders/{mine}/change-of-need", json=body, headers=provider(issuer))
    assert r.status_code == 201, r.text
    report = r.json()
    assert report["status"] == "awaiting"
    (task,) = await tasks(client, "change_of_need")
    assert task["status"] == "open"
    assert task["reference_id"] == uuid.UUID(report["id"])
    (reported,) = await events(client, CHANGE_OF_NEED_REPORTED)
    assert reported["proposed_hours_per_month"] == "20.5"
    assert_pseudonymous(reported)
    assert "kvelden" not in json.dumps(reported)

    r = await client.get("/v1/change-of-need", params={"status": "awaiting"}, headers=officer(issuer))
    assert [c["id"] for c in r.json()["items"]] == [report["id"]]
    assert (await client.get("/v1/change-of-need", headers=officer(issuer, "grorud"))).json()["items"] == []
    assert (await client.get("/v1/change-of-need", headers=provider(issuer, OTHER))).json()["items"] == []
    assert (await client.get("/v1/change-of-need", headers=provider(issuer))).json()["items"][0][
        "id"
    ] == report["id"]

    answer = {"outcome": "partly_accepted", "answer": "Kveldsbesøk tre dager i uken fra mandag."}
    url = f"/v1/change-of-need/{report['id']}/answer"
    assert_problem(await client.post(url, json=answer, headers=officer(issuer, "grorud")), 404, "not-found")
    assert_problem(await client.post(url, json=answer, headers=provider(issuer)), 403, "forbidden")
    r = await client.post(url, json={**answer, "outcome": "maybe"}, headers=officer(issuer))
    assert_problem(r, 422, "validation-error")
    r = await client.post(url, json=answer, headers=officer(issuer))
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "answered"
    assert r.json()["outcome"] == "partly_accepted"
    assert_problem(await client.post(url, json=answer, headers=officer(issuer)), 409, "already-answered")

    (message,) = await messages(client, "change_of_need.answered")
    assert message["provider_org"] == PROVIDER
    assert message["order_id"] == mine
    assert message["body"]["outcome"] == "partly_accepted"
    assert message["body"]["answer"] == answer["answer"]
    (task,) = await tasks(client, "change_of_need")
    assert task["status"] == "done"
    assert task["closed_by"] == "officer-frogner"
    (answered,) = await events(client, CHANGE_OF_NEED_ANSWERED)
    assert answered["outcome"] == "partly_accepted"
    assert_pseudonymous(answered)

    r = await client.get(f"/v1/change-of-need/{report['id']}", headers=provider(issuer, OTHER))
    assert_problem(r, 404, "not-found")
    r = await client.post(f"/v1/orders/{theirs}/change-of-need", json=body, headers=provider(issuer))
    assert_problem(r, 404, "not-found")
    for bad in (
        {**body, "observation": ""},
        {**body, "proposed_hours_per_month": "-1"},
        {"observation": "x"},
    ):
        r = await client.post(f"/v1/orders/{mine}/change-of-need", json=bad, headers=provider(issuer))
        assert_problem(r, 422, "validation-error")


async def ended_order(client, settings, end: date) -> uuid.UUID:
    """An order issued, then ended on `end` (version 2)."""
    decision_id, person_id = uuid.uuid4(), uuid.uuid4()
    order_id = await issue(client, settings, decision_id=decision_id, person_id=person_id)
    await issue(
        client, settings, decision_id=decision_id, person_id=person_id, version=2, kind="ended", end=end
    )
    return order_id


@pytest.mark.calendar
async def test_no_change_of_need_or_mastery_for_an_ended_order(client, issuer, settings, orders):
    # Ended yesterday (Norway's date; just after midnight UTC's date is still that day).
    order_id = await ended_order(client, settings, TODAY - timedelta(days=1))
    body = {"observation": "x", "proposed_change": "y"}
    r = await client.post(f"/v1/orders/{order_id}/change-of-need", json=body, headers=provider(issuer))
    assert_problem(r, 409, "order-ended")
    r = await client.post(
        f"/v1/orders/{order_id}/masters-daily-life",
        json={"observed_on": TODAY.isoformat(), "note": "x"},
        headers=provider(issuer),
    )
    assert_problem(r, 409, "order-ended")
    # An order ending today still runs today: its last day is open to reports.
    last_day = await ended_order(client, settings, TODAY)
    r = await client.post(
        f"/v1/orders/{last_day}/masters-daily-life",
        json={"observed_on": TODAY.isoformat(), "note": "x"},
        headers=provider(issuer),
    )
    assert r.status_code == 201, r.text


# --- masters daily life ----------------------------------------------------------------------------


async def test_masters_daily_life_is_a_task_to_consider_ending(client, issuer, orders):
    mine, theirs = orders
    body = {"observed_on": (TODAY - timedelta(days=1)).isoformat(), "note": "Dusjer og lager frokost selv"}
    r = await client.post(f"/v1/orders/{mine}/masters-daily-life", json=body, headers=provider(issuer))
    assert r.status_code == 201, r.text
    (task,) = await tasks(client, "masters_daily_life")
    assert task["order_id"] == mine
    assert task["status"] == "open"
    (event,) = await events(client, MASTERS_DAILY_LIFE_REPORTED)
    assert "frokost" not in json.dumps(event)
    report_id = r.json()["id"]
    assert (
        await client.get(f"/v1/masters-daily-life/{report_id}", headers=officer(issuer))
    ).status_code == 200
    for headers in (provider(issuer, OTHER), officer(issuer, "grorud")):
        r = await client.get(f"/v1/masters-daily-life/{report_id}", headers=headers)
        assert_problem(r, 404, "not-found")
    future = {**body, "observed_on": (TODAY + timedelta(days=3)).isoformat()}
    r = await client.post(f"/v1/orders/{mine}/masters-daily-life", json=future, headers=provider(issuer))
    assert_problem(r, 422, "observed-in-future")
    r = await client.post(f"/v1/orders/{theirs}/masters-daily-life", json=body, headers=provider(issuer))
    assert_problem(r, 404, "not-found")


# --- clarifications ------------------------------------------------------------------------------


@pytest.mark.calendar
async def test_clarifications_both_ways_with_deadlines(client, issuer, orders):
    mine, theirs = orders
    ctx = client.app.state.ctx
    # Provider -> case office: a task with a due date; the answer comes back as a message.
    due = (TODAY + timedelta(days=2)).isoformat()
    r = await client.post(
        f"/v1/orders/{mine}/clarifications",
        json={"question": "Gjelder vedtaket også helg?", "due_date": due},
        headers=provider(issuer),
    )
    assert r.status_code == 201, r.text
    asked = r.json()
    (task,) = await tasks(client, "clarification_request")
    assert task["due_date"].isoformat() == due
    url = f"/v1/clarifications/{asked['id']}/answer"
    assert_problem(
        await client.post(url, json={"answer": "x"}, headers=provider(issuer)), 403, "answered-by-other-side"
    )
    assert_problem(
        await client.post(url, json={"answer": "x"}, headers=officer(issuer, "grorud")), 404, "not-found"
    )
    r = await client.post(url, json={"answer": "Ja, også helg."}, headers=officer(issuer))
    assert r.status_code == 200
    assert r.json()["status"] == "answered"
    assert_problem(
        await client.post(url, json={"answer": "igjen"}, headers=officer(issuer)), 409, "already-answered"
    )
    (message,) = await messages(client, "clarification.answered")
    assert message["body"]["answer"] == "Ja, også helg."
    assert message["provider_org"] == PROVIDER
    assert (await tasks(client, "clarification_request"))[0]["status"] == "done"

    # Case office -> provider: a message; unanswered past the due date -> a task and an event.
    r = await client.post(
        "/v1/clarifications",
        json={"order_id": str(mine), "question": "Hvem er primærkontakt?"},
        headers=officer(issuer),
    )
    assert r.status_code == 201, r.text
    to_provider = r.json()
    assert to_provider["due_date"] == (TODAY + timedelta(days=3)).isoformat()
    (message,) = await messages(client, "clarification.requested")
    assert message["body"]["question"] == "Hvem er primærkontakt?"
    # Another provider sees none of it; asking about another district's order is 404.
    r = await client.get(f"/v1/clarifications/{to_provider['id']}", headers=provider(issuer, OTHER))
    assert_problem(r, 404, "not-found")
    r = await client.post(
        "/v1/clarifications", json={"order_id": str(mine), "question": "?"}, headers=officer(issuer, "grorud")
    )
    assert_problem(r, 404, "not-found")

    assert await deadlines.sweep_once(ctx) == {"clarifications": 0, "urgent_requests": 0}
    ctx.clock.advance(timedelta(days=5))
    assert (await deadlines.sweep_once(ctx))["clarifications"] == 1
    assert (await deadlines.sweep_once(ctx))["clarifications"] == 0  # once
    (overdue,) = await tasks(client, "clarification_overdue")
    assert overdue["reference_id"] == uuid.UUID(to_provider["id"])
    (event,) = await events(client, CLARIFICATION_OVERDUE)
    assert event["direction"] == "case_office_to_provider"

    # A late answer from the provider still counts and closes the overdue task.
    url = f"/v1/clarifications/{to_provider['id']}/answer"
    assert_problem(
        await client.post(url, json={"answer": "x"}, headers=provider(issuer, OTHER)), 404, "not-found"
    )
    r = await client.post(url, json={"answer": "staff-17"}, headers=provider(issuer))
    assert r.status_code == 200
    assert r.json()["overdue"] is True
    assert (await tasks(client, "clarification_overdue"))[0]["status"] == "done"
    answered = await events(client, CLARIFICATION_ANSWERED)
    assert [e["late"] for e in answered] == [False, True]
    assert len(await events(client, CLARIFICATION_REQUESTED)) == 2
    assert_pseudonymous(await events(client, CLARIFICATION_REQUESTED))

    bad = [
        {"question": "x", "due_date": (TODAY - timedelta(days=10)).isoformat()},
        {"question": "x", "due_date": (TODAY + timedelta(days=400)).isoformat()},
    ]
    for body in bad:
        r = await client.post(f"/v1/orders/{mine}/clarifications", json=body, headers=provider(issuer))
        assert r.status_code == 422, r.text
    r = await client.post(
        f"/v1/orders/{theirs}/clarifications", json={"question": "x"}, headers=provider(issuer)
    )
    assert_problem(r, 404, "not-found")


async def test_closing_the_clarification_task_answers_the_provider(client, issuer, orders):
    mine, _ = orders
    r = await client.post(
        f"/v1/orders/{mine}/clarifications", json={"question": "?"}, headers=provider(issuer)
    )
    assert r.status_code == 201
    (task,) = await tasks(client, "clarification_request")
    r = await client.post(
        f"/v1/tasks/{task['id']}/close", json={"resolution": "Avklart på telefon"}, headers=officer(issuer)
    )
    assert r.status_code == 200, r.text
    await deadlines.sweep_once(client.app.state.ctx)
    (message,) = await messages(client, "clarification.answered")
    assert message["body"]["answer"] == "Avklart på telefon"


# --- urgent requests --------------------------------------------------------------------------------


async def test_urgent_request_accepted_and_its_audit_trail(client, issuer, orders):
    mine, theirs = orders
    body = {
        "order_id": str(mine),
        "reason": "Legevakt: behov for tilsyn etter fall",
        "urgency": "within_hours",
        "requested_action": "Tilsyn i kveld",
        "respond_within_minutes": 30,
    }
    r = await client.post("/v1/urgent-requests", json=body, headers=auth(issuer, Role.integration))
    assert r.status_code == 201, r.text
    request = r.json()
    (message,) = await messages(client, "urgent_request.sent")
    assert message["ack_status"] == "awaiting"
    assert message["ack_deadline"] is not None
    assert message["body"]["requested_action"] == "Tilsyn i kveld"

    url = f"/v1/urgent-requests/{request['id']}/answer"
    assert_problem(
        await client.post(url, json={"accepted": True}, headers=provider(issuer, OTHER)), 404, "not-found"
    )
    r = await client.post(url, json={"accepted": False}, headers=provider(issuer))
    assert_problem(r, 422, "validation-error")  # declining needs a note
    r = await client.post(url, json={"accepted": True, "note": "Kommer kl 19"}, headers=provider(issuer))
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "accepted"
    assert [t["action"] for t in r.json()["trail"]] == ["sent", "accepted"]
    assert r.json()["trail"][1]["organisation"] == PROVIDER
    assert_problem(
        await client.post(url, json={"accepted": True}, headers=provider(issuer)), 409, "already-answered"
    )
    (message,) = await messages(client, "urgent_request.sent")
    assert message["ack_status"] == "accepted"

    r = await client.get(f"/v1/urgent-requests/{request['id']}", headers=officer(issuer))
    assert [t["action"] for t in r.json()["trail"]] == ["sent", "accepted"]
    assert_problem(
        await client.get(f"/v1/urgent-requests/{request['id']}", headers=officer(issuer, "grorud")),
        404,
        "not-found",
    )
    assert (await client.get("/v1/urgent-requests", headers=provider(issuer, OTHER))).json()["items"] == []
    ctx = client.app.state.ctx
    ctx.clock.advance(timedelta(hours=1))
    assert (await deadlines.sweep_once(ctx))["urgent_requests"] == 0
    assert await tasks(client, "urgent_request_escalated") == []
    (answered,) = await events(client, URGENT_REQUEST_ANSWERED)
    assert answered["accepted"] is True
    assert answered["late"] is False
    assert_pseudonymous(await events(client, URGENT_REQUEST_SENT))

    # Only for an active order the case office can see; never by a provider.
    r = await client.post(
        "/v1/urgent-requests", json={**body, "order_id": str(theirs)}, headers=officer(issuer, "grorud")
    )
    assert_problem(r, 404, "not-found")
    assert_problem(
        await client.post("/v1/urgent-requests", json=body, headers=provider(issuer)), 403, "forbidden"
    )
    for bad in (
        {**body, "urgency": "whenever"},
        {**body, "respond_within_minutes": 0},
        {**body, "reason": ""},
    ):
        assert_problem(
            await client.post("/v1/urgent-requests", json=bad, headers=officer(issuer)),
            422,
            "validation-error",
        )


async def test_urgent_request_declined_or_unanswered_escalates(client, issuer, settings, orders):
    mine, _ = orders
    ctx = client.app.state.ctx
    body = {
        "order_id": str(mine),
        "reason": "Legevakt",
        "urgency": "immediate",
        "requested_action": "Tilsyn nå",
        "respond_within_minutes": 15,
    }
    declined = (await client.post("/v1/urgent-requests", json=body, headers=officer(issuer))).json()
    silent = (await client.post("/v1/urgent-requests", json=body, headers=officer(issuer))).json()
    r = await client.post(
        f"/v1/urgent-requests/{declined['id']}/answer",
        json={"accepted": False, "note": "Ingen ledig kapasitet"},
        headers=provider(issuer),
    )
    assert r.status_code == 200
    assert r.json()["status"] == "declined"
    ctx.clock.advance(timedelta(minutes=16))
    assert (await deadlines.sweep_once(ctx))["urgent_requests"] == 1
    escalated = await tasks(client, "urgent_request_escalated")
    assert {t["reference_id"] for t in escalated} == {uuid.UUID(declined["id"]), uuid.UUID(silent["id"])}
    assert sorted(e["reason"] for e in await events(client, URGENT_REQUEST_ESCALATED)) == [
        "declined",
        "no_answer",
    ]
    r = await client.get(f"/v1/urgent-requests/{silent['id']}", headers=officer(issuer))
    assert r.json()["status"] == "escalated"
    assert [(t["action"], t["role"]) for t in r.json()["trail"]] == [
        ("sent", "case_officer"),
        ("escalated", "system"),
    ]
    # A late acceptance is still recorded, without a second escalation.
    r = await client.post(
        f"/v1/urgent-requests/{silent['id']}/answer", json={"accepted": True}, headers=provider(issuer)
    )
    assert r.status_code == 200
    assert r.json()["status"] == "accepted"
    assert len(await tasks(client, "urgent_request_escalated")) == 2
    late = [
        e for e in await events(client, URGENT_REQUEST_ANSWERED) if e["urgent_request_id"] == silent["id"]
    ]
    assert late[0]["late"] is True

    # The generic acknowledgement of the message is the same answer.
    third = (await client.post("/v1/urgent-requests", json=body, headers=officer(issuer))).json()
    r = await client.post(
        f"/v1/messages/{third['message_id']}/acknowledgement",
        json={"accepted": False, "reason": "Ikke vår bruker lenger"},
        headers=provider(issuer),
    )
    assert r.status_code in (200, 201), r.text
    r = await client.get(f"/v1/urgent-requests/{third['id']}", headers=officer(issuer))
    assert r.json()["status"] == "declined"
    assert r.json()["note"] == "Ikke vår bruker lenger"
    assert len(await tasks(client, "urgent_request_escalated")) == 3

    # An order that ended yesterday takes no urgent requests.
    ended = await ended_order(client, settings, TODAY - timedelta(days=1))
    r = await client.post(
        "/v1/urgent-requests", json={**body, "order_id": str(ended)}, headers=officer(issuer)
    )
    assert_problem(r, 409, "order-not-active")


async def test_the_sweep_worker_runs_by_itself(client, issuer, orders):
    mine, _ = orders
    body = {
        "order_id": str(mine),
        "reason": "Legevakt",
        "urgency": "immediate",
        "requested_action": "Tilsyn nå",
        "respond_within_minutes": 1,
    }
    assert (await client.post("/v1/urgent-requests", json=body, headers=officer(issuer))).status_code == 201
    client.app.state.ctx.clock.advance(timedelta(minutes=2))

    async def escalated():
        assert len(await tasks(client, "urgent_request_escalated")) == 1

    await eventually(escalated, seconds=3 * deadlines.SWEEP_SECONDS)
