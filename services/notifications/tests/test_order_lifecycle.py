"""The decision's clock reaches the provider: when assessment's sweep activates a decision on
its start date (`decision.activated`), the provider holding its order gets `order.started`,
an informational message without acknowledgement. A provider that rejected the order, or
one that holds no order of that decision, is not told; a redelivered event changes nothing."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import datetime, timedelta

import pytest
from identity_corpus import VALID_NUMBERS, make_org_number
from sqlalchemy import text

from hjemflyt.notifications.main import create_app
from hjemflyt.shared.contracts.envelope import CloudEvent
from hjemflyt.shared.contracts.events import (
    DECISION_ACTIVATED,
    ORDER_ISSUED,
    DecidedService,
    DecisionActivated,
    OrderIssued,
    OrderRecipient,
)
from hjemflyt.shared.contracts.registry import EventType
from hjemflyt.shared.platform.auth import Role
from hjemflyt.shared.platform.bus import Bus
from hjemflyt.shared.testing import auth, eventually, running_service, suite_now, suite_today

PROVIDER = make_org_number("81234567")
OTHER_PROVIDER = make_org_number("90000000")
RECIPIENT_NUMBER = next(n for n, cls in VALID_NUMBERS if cls == "tenor_birth_number")
START = suite_today() + timedelta(days=7)


@pytest.fixture
async def client(settings):
    async with running_service(create_app, settings) as client:
        yield client
        relay = client.app.state.relay

        async def drained():
            assert await relay.pending_count() == 0

        await eventually(drained)
        await asyncio.sleep(0.05)


@pytest.fixture
async def assessment_bus(settings):
    bus = Bus(settings, name="test-assessment")
    await bus.connect()
    await bus.ensure_stream("assessment")
    yield bus
    await bus.close()


async def publish(bus: Bus, settings, event_type: EventType, data, subject: str) -> str:
    event = CloudEvent(
        id=uuid.uuid4(),
        source="/hjemflyt/assessment",
        type=event_type.name,
        subject=subject,
        time=suite_now(),
        dataschema=event_type.dataschema,
        tenant="0301",
        data=data.model_dump(mode="json"),
    )
    payload = event.model_dump(mode="json")
    await bus.js.publish(
        event_type.subject(settings.bus_namespace, settings.tenant),
        json.dumps(payload).encode(),
        headers={"Nats-Msg-Id": str(payload["id"])},
    )
    return str(payload["id"])


def issued(decision_id: uuid.UUID, person_id: uuid.UUID, provider_org: str) -> OrderIssued:
    return OrderIssued(
        decision_id=decision_id,
        decision_version=2,
        person_id=person_id,
        district="frogner",
        provider_org=provider_org,
        recipient=OrderRecipient(identity_number=RECIPIENT_NUMBER, name="Kari Nordmann", address="Vei 1"),
        services=[
            DecidedService(
                service_code="15",
                service_name="Helsetjenester i hjemmet",
                hours_per_month="12.5",
                provider_org=provider_org,
            )
        ],
        start_date=START,
        case_office_contact="Forvaltning Frogner",
        issued_at=suite_now(),
    )


async def inbox(client, headers) -> list[dict]:
    r = await client.get("/v1/inbox", headers=headers)
    assert r.status_code == 200, r.text
    return r.json()["items"]


async def test_a_provider_is_told_when_its_order_starts(client, issuer, settings, assessment_bus):
    integration = auth(issuer, Role.integration)
    for org in (PROVIDER, OTHER_PROVIDER):
        body = {
            "name": f"Leverandør {org}",
            "kind": "private",
            "service_codes": ["1", "15"],
            "districts": ["frogner"],
        }
        assert (await client.put(f"/v1/providers/{org}", json=body, headers=integration)).status_code == 201
    provider = auth(issuer, Role.provider, provider_org=PROVIDER)
    other = auth(issuer, Role.provider, provider_org=OTHER_PROVIDER)
    decision_id, person_id = uuid.uuid4(), uuid.uuid4()
    await publish(assessment_bus, settings, ORDER_ISSUED, issued(decision_id, person_id, PROVIDER), "a")
    await publish(assessment_bus, settings, ORDER_ISSUED, issued(decision_id, person_id, OTHER_PROVIDER), "b")

    async def both_ordered():
        assert [m["kind"] for m in await inbox(client, provider)] == ["order.new"]
        assert [m["kind"] for m in await inbox(client, other)] == ["order.new"]

    await eventually(both_ordered)
    # The provider accepts; the other rejects: it holds no order to start.
    new = (await inbox(client, provider))[0]
    r = await client.post(
        f"/v1/messages/{new['id']}/acknowledgement", json={"accepted": True}, headers=provider
    )
    assert r.status_code == 201, r.text
    rejected = (await inbox(client, other))[0]
    r = await client.post(
        f"/v1/messages/{rejected['id']}/acknowledgement",
        json={"accepted": False, "reason": "Ingen kapasitet"},
        headers=other,
    )
    assert r.status_code == 201, r.text

    activated = DecisionActivated(
        decision_id=decision_id,
        version=3,
        person_id=person_id,
        district="frogner",
        start_date=START,
        activated_at=suite_now(),
    )
    await publish(assessment_bus, settings, DECISION_ACTIVATED, activated, str(decision_id))
    # A decision no provider here holds an order of: nothing to tell.
    stranger = activated.model_copy(update={"decision_id": uuid.uuid4()})
    await publish(assessment_bus, settings, DECISION_ACTIVATED, stranger, "c")

    async def started():
        messages = await inbox(client, provider)
        assert [m["kind"] for m in messages] == ["order.new", "order.started"]
        return messages[-1]

    message = await eventually(started)
    assert message["ack"]["required"] is False
    assert message["order_id"] == new["order_id"]
    data = message["data"]
    assert (data["kind"], data["decision_id"], data["id"]) == ("started", str(decision_id), new["order_id"])
    assert (data["started"]["decision_version"], data["started"]["start_date"]) == (3, START.isoformat())
    assert datetime.fromisoformat(data["started"]["activated_at"]) == activated.activated_at
    assert data["services"][0]["service_code"] == "15"

    async def all_processed():
        async with client.app.state.ctx.sessionmaker() as s:
            assert await s.scalar(text("select count(*) from notifications.inbox")) == 4

    await eventually(all_processed)
    assert [m["kind"] for m in await inbox(client, other)] == ["order.new"]
    async with client.app.state.ctx.sessionmaker() as s:
        started_count = await s.scalar(
            text("select count(*) from notifications.message where kind = 'order.started'")
        )
    assert started_count == 1
