"""The provider registry and the provider inbox.

Orders arrive as `order.issued` events from assessment, published here on the real bus the
way assessment's outbox relay does. Redelivery, unknown providers and unreadable messages
are exercised against the real durable consumer: the inbox, retries with back-off and the
dead-letter table.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import httpx
import pytest
from identity_corpus import INVALID_ORGANISATION_NUMBERS, VALID_NUMBERS, make_org_number
from nats.js.errors import NotFoundError
from prometheus_client import REGISTRY
from sqlalchemy import func, select, text

from hjemflyt.notifications.db import platform_tables
from hjemflyt.notifications.main import create_app
from hjemflyt.shared.contracts.envelope import CloudEvent
from hjemflyt.shared.contracts.events import (
    ORDER_CREATED,
    ORDER_ISSUED,
    PROVIDER_REGISTERED,
    DecidedService,
    OrderIssued,
    OrderRecipient,
)
from hjemflyt.shared.platform.auth import Role
from hjemflyt.shared.platform.bus import Bus
from hjemflyt.shared.testing import auth, eventually, running_service, suite_now, suite_today

PROVIDER = make_org_number("81234567")
OTHER_PROVIDER = make_org_number("90000000")
UNKNOWN_PROVIDER = "974760673"
RECIPIENT_NUMBER = next(n for n, cls in VALID_NUMBERS if cls == "tenor_birth_number")
T = platform_tables
# Orders start a week after the suite's day (Norway's date), as assessment issues them ahead.
START = suite_today() + timedelta(days=7)


async def consumer_info(ctx, producer: str, durable: str):
    """The durable consumer's state; an AssertionError (so `eventually` waits) until it exists."""
    try:
        return await ctx.bus.js.consumer_info(ctx.bus.stream_for(producer), durable)
    except NotFoundError as exc:
        raise AssertionError(f"consumer {durable} on {producer} not declared yet") from exc


@pytest.fixture
async def client(settings):
    async with running_service(create_app, settings) as client:
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


@pytest.fixture
async def assessment_bus(settings):
    """A connection of its own, publishing on assessment's stream as its outbox relay would."""
    bus = Bus(settings, name="test-assessment")
    await bus.connect()
    await bus.ensure_stream("assessment")
    yield bus
    await bus.close()


def provider_body(**changes: object) -> dict:
    return {
        "name": "Omsorgspartner Demo AS",
        "kind": "private",
        "service_codes": ["1", "15"],
        "districts": ["frogner", "gamle-oslo"],
        **changes,
    }


def order_event(
    provider_org: str = PROVIDER,
    *,
    decision_id: uuid.UUID | None = None,
    version: int = 1,
    event_id: uuid.UUID | None = None,
    person_id: uuid.UUID | None = None,
    hours: str = "12.5",
) -> dict:
    decision_id = decision_id or uuid.uuid4()
    issued = suite_now()
    data = OrderIssued(
        decision_id=decision_id,
        decision_version=version,
        person_id=person_id or uuid.uuid4(),
        district="frogner",
        provider_org=provider_org,
        recipient=OrderRecipient(
            identity_number=RECIPIENT_NUMBER,
            name="Kari Nordmann",
            address="Eksempelveien 1",
            phone="+4799999999",
        ),
        services=[
            DecidedService(
                service_code="15",
                service_name="Helsetjenester i hjemmet",
                hours_per_month=hours,
                provider_org=provider_org,
            )
        ],
        start_date=START,
        case_office_contact="Forvaltning Frogner",
        issued_at=issued,
    )
    event = CloudEvent(
        id=event_id or uuid.uuid4(),
        source="/hjemflyt/assessment",
        type=ORDER_ISSUED.name,
        subject=f"{decision_id}/{provider_org}",
        time=issued,
        dataschema=ORDER_ISSUED.dataschema,
        tenant="0301",
        data=data.model_dump(mode="json"),
    )
    return event.model_dump(mode="json")


async def publish(bus: Bus, settings, payload: dict | bytes, *, msg_id: str | None = None):
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    msg_id = msg_id or (str(payload["id"]) if isinstance(payload, dict) else str(uuid.uuid4()))
    ack = await bus.js.publish(
        ORDER_ISSUED.subject(settings.bus_namespace, settings.tenant), body, headers={"Nats-Msg-Id": msg_id}
    )
    assert not ack.duplicate
    return ack


async def put_provider(client, issuer, org: str = PROVIDER, **changes: object):
    return await client.put(
        f"/v1/providers/{org}", json=provider_body(**changes), headers=auth(issuer, Role.integration)
    )


def assert_problem(r, status: int, slug: str) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json"), r.headers
    body = r.json()
    assert body["type"].endswith("/" + slug), body
    assert body["status"] == status
    return body


async def scalar(client, stmt):
    async with client.app.state.ctx.sessionmaker() as s:
        return await s.scalar(stmt)


async def count(client, table) -> int:
    return await scalar(client, select(func.count()).select_from(table))


async def orders_count(client) -> int:
    return await scalar(client, text("select count(*) from notifications.provider_order"))


async def outbox_of(client, event_type) -> list[dict]:
    async with client.app.state.ctx.sessionmaker() as s:
        rows = await s.execute(
            select(T.outbox.c.envelope, T.outbox.c.published_at)
            .where(T.outbox.c.type == event_type.name)
            .order_by(T.outbox.c.seq)
        )
        return [{**json.loads(envelope), "published": published is not None} for envelope, published in rows]


def metric(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


@contextmanager
def log_capture(caplog) -> Iterator[None]:
    """`configure_logging` may have replaced the root handlers (pytest's included): re-attach."""
    root = logging.getLogger()
    if caplog.handler not in root.handlers:
        root.addHandler(caplog.handler)
    caplog.set_level(logging.INFO)
    try:
        yield
    finally:
        root.removeHandler(caplog.handler)


# --- provider registry -----------------------------------------------------------------


async def test_invalid_organisation_numbers_are_refused(client, issuer):
    tested = 0
    for number, reason in INVALID_ORGANISATION_NUMBERS:
        if not number.strip() or "/" in number or "." in number:
            continue  # not expressible as one path segment
        r = await put_provider(client, issuer, number)
        body = assert_problem(r, 422, "invalid-organisation-number")
        assert body["reason"] == reason, number
        tested += 1
    assert tested >= 8
    r = await put_provider(client, issuer, service_codes=["99"])
    assert_problem(r, 422, "validation-error")
    r = await put_provider(client, issuer, districts=[])
    assert_problem(r, 422, "validation-error")
    assert await scalar(client, text("select count(*) from notifications.provider")) == 0
    assert await count(client, T.outbox) == 0


async def test_registry_versions_each_change_and_announces_it(client, issuer):
    r = await put_provider(client, issuer)
    assert r.status_code == 201, r.text
    assert r.json()["version"] == 1
    assert r.json()["provider_org"] == PROVIDER

    # Unchanged (also with codes and districts in another order): same version, no event.
    for body in ({}, {"service_codes": ["15", "1", "15"], "districts": ["gamle-oslo", "frogner"]}):
        r = await put_provider(client, issuer, **body)
        assert r.status_code == 200, r.text
        assert r.json()["version"] == 1
    assert len(await outbox_of(client, PROVIDER_REGISTERED)) == 1

    r = await put_provider(client, issuer, name="Omsorgspartner Øst AS")
    assert r.status_code == 200, r.text
    assert r.json()["version"] == 2
    r = await put_provider(client, issuer, name="Omsorgspartner Øst AS", districts=["frogner"])
    assert r.json()["version"] == 3
    # The same organisation number written with spaces is the same provider.
    r = await client.put(
        "/v1/providers/812%20345%20672",
        json=provider_body(name="Omsorgspartner Øst AS", districts=["frogner"]),
        headers=auth(issuer, Role.integration),
    )
    assert PROVIDER == "812345672"
    assert r.status_code == 200, r.text
    assert r.json()["version"] == 3

    async def announced():
        events = await outbox_of(client, PROVIDER_REGISTERED)
        assert [(e["data"]["version"], e["data"]["name"], e["subject"]) for e in events] == [
            (1, "Omsorgspartner Demo AS", PROVIDER),
            (2, "Omsorgspartner Øst AS", PROVIDER),
            (3, "Omsorgspartner Øst AS", PROVIDER),
        ]
        assert events[2]["data"]["districts"] == ["frogner"]
        assert all(e["published"] for e in events)
        return events

    events = await eventually(announced)
    ctx = client.app.state.ctx
    info = await ctx.bus.js.stream_info(ctx.bus.stream_for("notifications"))
    assert info.state.messages == len(events)

    r = await client.get("/v1/providers", headers=auth(issuer, Role.case_officer, districts=["frogner"]))
    assert [(p["provider_org"], p["version"]) for p in r.json()] == [(PROVIDER, 3)]


async def test_only_integration_may_change_the_registry(client, issuer):
    for headers in (
        auth(issuer, Role.case_officer, districts=["frogner"]),
        auth(issuer, Role.provider, provider_org=PROVIDER),
        auth(issuer, Role.manager),
    ):
        r = await client.put(f"/v1/providers/{PROVIDER}", json=provider_body(), headers=headers)
        assert_problem(r, 403, "forbidden")
    r = await client.put(f"/v1/providers/{PROVIDER}", json=provider_body())
    assert_problem(r, 401, "unauthorized")
    assert await count(client, T.outbox) == 0


async def test_concurrent_first_registrations_of_a_provider(client, issuer):
    # Several at once, so the race is lost for certain, not only when the requests interleave just so.
    results = await asyncio.gather(*(put_provider(client, issuer) for _ in range(4)), return_exceptions=True)
    # httpx's ASGI transport re-raises what the app answered with a 500.
    statuses = sorted(r.status_code if isinstance(r, httpx.Response) else 500 for r in results)
    assert statuses == [200, 200, 200, 201]
    assert len(await outbox_of(client, PROVIDER_REGISTERED)) == 1


# --- orders ----------------------------------------------------------------------------


async def test_an_issued_order_reaches_only_that_providers_inbox(client, issuer, settings, assessment_bus):
    assert (await put_provider(client, issuer)).status_code == 201
    assert (await put_provider(client, issuer, OTHER_PROVIDER)).status_code == 201
    provider = auth(issuer, Role.provider, provider_org=PROVIDER, subject="provider-user")
    other = auth(issuer, Role.provider, provider_org=OTHER_PROVIDER)
    event = order_event()
    await publish(assessment_bus, settings, event)

    async def delivered():
        r = await client.get("/v1/inbox", headers=provider)
        assert r.status_code == 200, r.text
        assert len(r.json()["items"]) == 1
        return r.json()["items"][0]

    message = await eventually(delivered)
    assert message["kind"] == "order.new"
    assert message["provider_org"] == PROVIDER
    assert message["ack"]["required"] is True
    order = message["data"]
    assert message["order_id"] == order["id"]
    data = event["data"]
    assert message["person_id"] == data["person_id"]
    assert order["provider_org"] == PROVIDER
    assert order["decision_id"] == data["decision_id"]
    assert order["decision_version"] == 1
    assert order["kind"] == "new"
    assert order["recipient"]["identity_number"] == RECIPIENT_NUMBER
    assert order["services"][0]["service_code"] == "15"
    assert order["start_date"] == START.isoformat()
    assert order["case_office_contact"] == "Forvaltning Frogner"

    # Another provider, a case officer and the fagsystem see nothing of it.
    r = await client.get("/v1/inbox", headers=other)
    assert r.status_code == 200
    assert r.json() == {"items": [], "next_cursor": 0}
    assert_problem(await client.get(f"/v1/orders/{order['id']}", headers=other), 404, "not-found")
    for headers in (auth(issuer, Role.case_officer, districts=["frogner"]), auth(issuer, Role.integration)):
        assert_problem(await client.get("/v1/inbox", headers=headers), 403, "forbidden")
    # A case officer of another district does not see it either.
    elsewhere = auth(issuer, Role.case_officer, districts=["grorud"])
    assert_problem(await client.get(f"/v1/orders/{order['id']}", headers=elsewhere), 404, "not-found")

    # Reading the order is access-logged with the provider's organisation.
    log = T.access_log
    r = await client.get(f"/v1/orders/{order['id']}", headers=provider)
    assert r.status_code == 200
    got = r.json()
    assert {k: got[k] for k in ("id", "decision_id", "recipient", "services", "start_date")} == {
        k: order[k] for k in ("id", "decision_id", "recipient", "services", "start_date")
    }
    assert got["status"] == "sent"
    assert got["ack"]["status"] == "awaiting"
    assert got["delivery"]["state"] == "inbox"
    assert got["delivery"]["fetched_at"] is not None
    async with client.app.state.ctx.sessionmaker() as s:
        rows = [dict(x._mapping) for x in await s.execute(select(log).order_by(log.c.id))]
    # Empty inbox polls (before delivery, and the other provider's) log nothing.
    assert {(x["actor"], x["organisation"], x["resource"]) for x in rows} == {
        ("provider-user", PROVIDER, "message-list"),
        ("provider-user", PROVIDER, "order"),
    }
    read = [x for x in rows if x["resource"] == "order"]
    assert len(read) == 1
    assert read[0]["resource_id"] == order["id"]
    assert str(read[0]["person_id"]) == data["person_id"]
    assert read[0]["role"] == "provider"
    assert read[0]["action"] == "read"

    # The order is announced (pseudonymously) through the outbox.
    async def announced():
        created = await outbox_of(client, ORDER_CREATED)
        assert len(created) == 1
        assert created[0]["published"]
        return created[0]

    created = await eventually(announced)
    assert created["data"]["order_id"] == order["id"]
    assert created["data"]["person_id"] == data["person_id"]
    assert RECIPIENT_NUMBER not in json.dumps(created)


async def test_a_redelivered_order_has_no_second_effect(client, issuer, settings, assessment_bus):
    assert (await put_provider(client, issuer)).status_code == 201
    event = order_event()
    labels = {"consumer": "notifications", "type": ORDER_ISSUED.name}
    duplicates_before = metric("hjemflyt_events_duplicate_total", **labels)
    handled_before = metric("hjemflyt_events_handled_total", **labels)

    # The same CloudEvent twice under different Nats-Msg-Ids: JetStream keeps both, so the
    # consumer really receives it twice and only its inbox can stop the second effect.
    first = await publish(assessment_bus, settings, event, msg_id=f"{event['id']}-a")
    second = await publish(assessment_bus, settings, event, msg_id=f"{event['id']}-b")
    assert second.seq == first.seq + 1

    ctx = client.app.state.ctx

    async def both_settled():
        info = await consumer_info(ctx, "assessment", "notifications")
        assert info.delivered.stream_seq == second.seq
        assert info.ack_floor.stream_seq == second.seq
        assert info.num_ack_pending == 0
        assert info.num_pending == 0
        assert info.num_redelivered == 0  # neither copy failed

    await eventually(both_settled)
    assert metric("hjemflyt_events_handled_total", **labels) - handled_before == 1
    assert metric("hjemflyt_events_duplicate_total", **labels) - duplicates_before == 1
    assert await orders_count(client) == 1
    assert len(await outbox_of(client, ORDER_CREATED)) == 1
    inbox = T.inbox
    async with ctx.sessionmaker() as s:
        rows = (await s.execute(select(inbox.c.event_id, inbox.c.consumer, inbox.c.type))).all()
    assert rows == [(uuid.UUID(event["id"]), "notifications", ORDER_ISSUED.name)]
    assert await count(client, T.dead_letter) == 0


async def test_one_order_per_decision_version_even_under_new_event_ids(
    client, issuer, settings, assessment_bus
):
    assert (await put_provider(client, issuer)).status_code == 201
    decision_id, person_id = uuid.uuid4(), uuid.uuid4()
    # v1, v1 again (re-issued under a new event id), v2 (more hours), v1 late (stale).
    for version, hours in ((1, "12.5"), (1, "12.5"), (2, "20"), (1, "12.5")):
        event = order_event(decision_id=decision_id, version=version, person_id=person_id, hours=hours)
        await publish(assessment_bus, settings, event)

    async def processed():
        assert await count(client, T.inbox) == 4

    await eventually(processed)
    async with client.app.state.ctx.sessionmaker() as s:
        versions = (
            await s.scalars(text("select decision_version from notifications.provider_order order by 1"))
        ).all()
        kinds = (await s.scalars(text("select kind from notifications.message order by sequence"))).all()
    # One order per decision and provider; each version the provider got is a message.
    assert versions == [2]
    assert kinds == ["order.new", "order.changed"]
    assert len(await outbox_of(client, ORDER_CREATED)) == 1


async def test_an_order_for_an_unknown_provider_is_retried_then_dead_lettered(
    client, issuer, settings, assessment_bus, caplog
):
    event = order_event(UNKNOWN_PROVIDER)
    failures_before = metric("hjemflyt_events_failed_total", consumer="notifications", type=ORDER_ISSUED.name)
    with log_capture(caplog):
        await publish(assessment_bus, settings, event)

        async def dead_lettered():
            async with client.app.state.ctx.sessionmaker() as s:
                rows = [dict(x._mapping) for x in await s.execute(select(T.dead_letter))]
            assert len(rows) == 1
            return rows[0]

        dead = await eventually(dead_lettered)
    assert dead["event_id"] == uuid.UUID(event["id"])
    assert dead["type"] == ORDER_ISSUED.name
    assert dead["consumer"] == "notifications"
    assert dead["deliveries"] == settings.consumer_max_deliver == 4
    assert "UnknownProvider" in dead["error"]
    assert json.loads(dead["payload"])["id"] == event["id"]
    assert dead["subject"] == ORDER_ISSUED.subject(settings.bus_namespace, settings.tenant)
    assert metric("hjemflyt_events_failed_total", consumer="notifications", type=ORDER_ISSUED.name) == (
        failures_before + 4
    )

    alerts = [r for r in caplog.records if "ALERT dead letter" in r.getMessage()]
    assert len(alerts) == 1
    assert alerts[0].levelno == logging.ERROR
    assert event["id"] in alerts[0].getMessage()
    assert RECIPIENT_NUMBER not in caplog.text

    # Nothing was stored for it, and the consumer goes on with the next message.
    assert await orders_count(client) == 0
    assert await count(client, T.inbox) == 0
    assert await outbox_of(client, ORDER_CREATED) == []
    assert (await put_provider(client, issuer)).status_code == 201
    await publish(assessment_bus, settings, order_event(PROVIDER))

    async def next_one_handled():
        assert await orders_count(client) == 1

    await eventually(next_one_handled)
    info = await consumer_info(client.app.state.ctx, "assessment", "notifications")
    assert info.num_ack_pending == 0
    # Terminated, not left for JetStream's max-deliveries advisory: still exactly one dead letter.
    assert await count(client, T.dead_letter) == 1


async def test_an_unreadable_message_is_dead_lettered_at_once(client, issuer, settings, assessment_bus):
    assert (await put_provider(client, issuer)).status_code == 201
    garbage = b"\xff\xfe this is not a cloud event"
    await publish(assessment_bus, settings, garbage)
    good = order_event()
    await publish(assessment_bus, settings, good)

    async def good_one_handled():
        assert await orders_count(client) == 1

    await eventually(good_one_handled)
    async with client.app.state.ctx.sessionmaker() as s:
        rows = [dict(x._mapping) for x in await s.execute(select(T.dead_letter))]
    assert len(rows) == 1
    assert rows[0]["payload"] == garbage
    assert rows[0]["deliveries"] == 1  # not retried: retrying cannot help
    assert rows[0]["event_id"] is None
    assert "unreadable" in rows[0]["error"]
    assert await count(client, T.inbox) == 1


async def test_an_event_whose_data_does_not_fit_is_dead_lettered_at_once(
    client, issuer, settings, assessment_bus
):
    event = order_event()
    del event["data"]["recipient"]
    await publish(assessment_bus, settings, event)

    async def dead_lettered():
        async with client.app.state.ctx.sessionmaker() as s:
            rows = [dict(x._mapping) for x in await s.execute(select(T.dead_letter))]
        assert len(rows) == 1
        return rows[0]

    dead = await eventually(dead_lettered)
    assert dead["deliveries"] == 1
    assert json.loads(dead["payload"])["id"] == event["id"]
    assert await orders_count(client) == 0


async def test_dead_letter_of_a_misfit_payload_keeps_the_event_id(client, issuer, settings, assessment_bus):
    event = order_event()
    event["data"]["decision_version"] = "not a number"
    await publish(assessment_bus, settings, event)

    async def dead_lettered():
        async with client.app.state.ctx.sessionmaker() as s:
            rows = [dict(x._mapping) for x in await s.execute(select(T.dead_letter))]
        assert len(rows) == 1
        return rows[0]

    dead = await eventually(dead_lettered)
    assert dead["event_id"] == uuid.UUID(event["id"])
    assert dead["type"] == ORDER_ISSUED.name


async def test_inbox_pages_and_refuses_garbage_cursors(client, issuer, settings, assessment_bus):
    assert (await put_provider(client, issuer)).status_code == 201
    for _ in range(5):
        await publish(assessment_bus, settings, order_event())
    provider = auth(issuer, Role.provider, provider_org=PROVIDER)

    async def all_there():
        assert await orders_count(client) == 5

    await eventually(all_there)
    ids: list[str] = []
    positions: list[int] = []
    cursor = 0
    for _ in range(10):
        r = await client.get("/v1/inbox", params={"limit": 2, "after": cursor}, headers=provider)
        assert r.status_code == 200, r.text
        ids += [m["data"]["id"] for m in r.json()["items"]]
        positions += [m["position"] for m in r.json()["items"]]
        if not r.json()["items"]:
            assert r.json()["next_cursor"] == cursor
            break
        cursor = r.json()["next_cursor"]
    assert len(ids) == len(set(ids)) == 5
    assert positions == [1, 2, 3, 4, 5]

    for bad in (
        {"after": "garbage!"},
        {"after": -1},
        {"limit": 0},
        {"limit": 501},
        {"wait": 31},
        {"wait": "x"},
    ):
        r = await client.get("/v1/inbox", params=bad, headers=provider)
        assert_problem(r, 422, "validation-error")
