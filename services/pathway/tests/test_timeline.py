"""A person's timeline, built from `decision.made` (assessment) and `order.created`
(notifications) events on the real bus, and scoped to the reader's districts. The decision
is dated two weeks before the suite's today (`HJEMFLYT_TEST_TODAY`)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

import pytest
from nats.js.errors import NotFoundError
from prometheus_client import REGISTRY
from sqlalchemy import func, select, text

from hjemflyt.pathway.db import platform_tables
from hjemflyt.pathway.main import create_app
from hjemflyt.shared.contracts.envelope import CloudEvent
from hjemflyt.shared.contracts.events import (
    DECISION_MADE,
    ORDER_CREATED,
    DecidedService,
    DecisionMade,
    OrderCreated,
)
from hjemflyt.shared.contracts.orders import (
    ADJUSTMENT_OVERRULED,
    ORDER_ADJUSTED,
    AdjustmentOverruled,
    MeasureChange,
    OrderAdjusted,
)
from hjemflyt.shared.contracts.registry import EventType
from hjemflyt.shared.platform.auth import Role
from hjemflyt.shared.platform.bus import Bus
from hjemflyt.shared.platform.clock import OSLO
from hjemflyt.shared.testing import auth, eventually, running_service, suite_today

PROVIDER = "812345672"
T = platform_tables
DECIDED = suite_today() - timedelta(days=14)
MADE_AT = datetime.combine(DECIDED, time(11), OSLO).astimezone(UTC)
EVALUATION = DECIDED + timedelta(days=100)


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


@pytest.fixture
async def bus(settings):
    """A connection of its own, publishing as the producers' outbox relays would."""
    bus = Bus(settings, name="test-producers")
    await bus.connect()
    await bus.ensure_stream("assessment")
    await bus.ensure_stream("notifications")
    yield bus
    await bus.close()


def envelope(event_type: EventType, data, subject: str, event_id: uuid.UUID | None = None) -> dict:
    return CloudEvent(
        id=event_id or uuid.uuid4(),
        source=f"/hjemflyt/{event_type.service}",
        type=event_type.name,
        subject=subject,
        time=MADE_AT,
        dataschema=event_type.dataschema,
        tenant="0301",
        data=data.model_dump(mode="json"),
    ).model_dump(mode="json")


def decision_made(
    person_id: uuid.UUID, district: str = "frogner", *, made_at: datetime | None = None
) -> dict:
    decision_id = uuid.uuid4()
    data = DecisionMade(
        decision_id=decision_id,
        version=1,
        person_id=person_id,
        district=district,
        decision_date=DECIDED,
        start_date=DECIDED + timedelta(days=9),
        evaluation_date=EVALUATION,
        services=[
            DecidedService(
                service_code="15",
                service_name="Helsetjenester i hjemmet",
                hours_per_month="12.5",
                provider_org=PROVIDER,
            )
        ],
        made_at=made_at or MADE_AT,
    )
    return envelope(DECISION_MADE, data, str(decision_id))


async def publish(bus: Bus, settings, event_type: EventType, event: dict, *, msg_id: str | None = None):
    ack = await bus.js.publish(
        event_type.subject(settings.bus_namespace, settings.tenant),
        json.dumps(event).encode(),
        headers={"Nats-Msg-Id": msg_id or event["id"]},
    )
    assert not ack.duplicate
    return ack


async def entries(client, person_id: uuid.UUID, headers: dict) -> list[dict]:
    r = await client.get(f"/v1/persons/{person_id}/timeline", headers=headers)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["person_id"] == str(person_id)
    return body["entries"]


async def access_log_rows(client) -> list[dict]:
    async with client.app.state.ctx.sessionmaker() as s:
        return [dict(r._mapping) for r in await s.execute(select(T.access_log).order_by(T.access_log.c.id))]


async def test_a_decision_appears_on_the_timeline_of_its_district(client, issuer, settings, bus):
    person_id = uuid.uuid4()
    event = decision_made(person_id)
    # Consumers ignore what they do not know: a later producer may add fields and attributes.
    event["data"]["added_in_a_later_release"] = {"any": "thing"}
    event["newextension"] = "value"
    await publish(bus, settings, DECISION_MADE, event)
    frogner = auth(issuer, Role.case_officer, districts=["frogner"], subject="officer-frogner")
    gamle = auth(issuer, Role.case_officer, districts=["gamle-oslo"], subject="officer-gamle")

    async def arrived():
        found = await entries(client, person_id, frogner)
        assert len(found) == 1
        return found[0]

    entry = await eventually(arrived)
    assert entry["kind"] == "decision-made"
    assert entry["source"] == "assessment"
    assert entry["reference"] == event["data"]["decision_id"]
    assert entry["details"]["decision_version"] == 1
    assert entry["details"]["evaluation_date"] == EVALUATION.isoformat()
    assert entry["details"]["services"][0]["provider_org"] == PROVIDER

    assert await entries(client, person_id, auth(issuer, Role.integration)) == [entry]
    lead = auth(issuer, Role.service_lead, districts=["frogner", "gamle-oslo"])
    assert await entries(client, person_id, lead) == [entry]
    # Another district's case officer, and one with no districts, see an empty timeline.
    assert await entries(client, person_id, gamle) == []
    assert await entries(client, person_id, auth(issuer, Role.case_officer)) == []
    # Roles without timeline:read are refused; so is an anonymous caller.
    for headers in (auth(issuer, Role.provider, provider_org=PROVIDER), auth(issuer, Role.manager)):
        r = await client.get(f"/v1/persons/{person_id}/timeline", headers=headers)
        assert r.status_code == 403, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
    r = await client.get(f"/v1/persons/{person_id}/timeline")
    assert r.status_code == 401
    # An unknown person has an empty timeline.
    assert await entries(client, uuid.uuid4(), auth(issuer, Role.integration)) == []

    # Reads that showed something are access-logged; empty ones are not.
    rows = await access_log_rows(client)
    assert {(r["actor"], r["resource"], r["person_id"]) for r in rows} == {
        ("officer-frogner", "timeline", person_id),
        ("dev-integration", "timeline", person_id),
        ("dev-service_lead", "timeline", person_id),
    }
    assert "officer-gamle" not in {r["actor"] for r in rows}


async def test_orders_join_the_timeline_in_time_order(client, issuer, settings, bus):
    person_id = uuid.uuid4()
    made = decision_made(person_id, made_at=MADE_AT)
    order_id = uuid.uuid4()
    created = envelope(
        ORDER_CREATED,
        OrderCreated(
            order_id=order_id,
            decision_id=uuid.UUID(made["data"]["decision_id"]),
            decision_version=1,
            person_id=person_id,
            provider_org=PROVIDER,
            created_at=MADE_AT + timedelta(minutes=5),
        ),
        str(order_id),
    )
    # The order's event may arrive first: it comes on another stream.
    await publish(bus, settings, ORDER_CREATED, created)
    await publish(bus, settings, DECISION_MADE, made)
    frogner = auth(issuer, Role.case_officer, districts=["frogner"])

    async def both():
        found = await entries(client, person_id, frogner)
        assert [e["kind"] for e in found] == ["decision-made", "order-created"]
        return found

    found = await eventually(both)
    assert found[1]["reference"] == str(order_id)
    assert found[1]["source"] == "notifications"
    assert await entries(client, person_id, auth(issuer, Role.case_officer, districts=["gamle-oslo"])) == []


async def test_a_redelivered_decision_is_one_entry(client, issuer, settings, bus):
    person_id = uuid.uuid4()
    event = decision_made(person_id)
    labels = {"consumer": "pathway", "type": DECISION_MADE.name}
    duplicates_before = REGISTRY.get_sample_value("hjemflyt_events_duplicate_total", labels) or 0.0
    # Same CloudEvent id, different Nats-Msg-Id: JetStream keeps both copies.
    first = await publish(bus, settings, DECISION_MADE, event, msg_id=f"{event['id']}-1")
    second = await publish(bus, settings, DECISION_MADE, event, msg_id=f"{event['id']}-2")
    ctx = client.app.state.ctx

    async def both_acked():
        info = await consumer_info(ctx, "assessment", "pathway")
        assert info.ack_floor.stream_seq == second.seq > first.seq
        assert info.num_ack_pending == 0

    await eventually(both_acked)
    assert (
        REGISTRY.get_sample_value("hjemflyt_events_duplicate_total", labels) or 0.0
    ) == duplicates_before + 1
    assert len(await entries(client, person_id, auth(issuer, Role.integration))) == 1
    async with ctx.sessionmaker() as s:
        assert await s.scalar(text("select count(*) from pathway.timeline_entry")) == 1
        assert await s.scalar(select(func.count()).select_from(T.inbox)) == 1
        assert await s.scalar(select(func.count()).select_from(T.dead_letter)) == 0


async def test_adjustments_and_overrules_join_the_timeline(client, issuer, settings, bus):
    person_id, order_id, adjustment_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    made = decision_made(person_id)
    decision_id = uuid.UUID(made["data"]["decision_id"])
    adjusted = envelope(
        ORDER_ADJUSTED,
        OrderAdjusted(
            order_id=order_id,
            decision_id=decision_id,
            decision_version=1,
            person_id=person_id,
            provider_org=PROVIDER,
            district="frogner",
            adjustment_id=adjustment_id,
            service_type="hjemmesykepleie",
            measure_code="SAR",
            measure_description="Sårstell",
            change=MeasureChange(
                times_from=4, times_to=2, per_from="week", per_to="week", minutes_from=30, minutes_to=30
            ),
            planned_hours_before=Decimal("8.70"),
            planned_hours_after=Decimal("4.35"),
            reason="Såret gror; to besøk i uken holder.",
            adjusted_at=MADE_AT + timedelta(days=3),
        ),
        str(adjustment_id),
    )
    overruled = envelope(
        ADJUSTMENT_OVERRULED,
        AdjustmentOverruled(
            adjustment_id=adjustment_id,
            order_id=order_id,
            decision_id=decision_id,
            person_id=person_id,
            provider_org=PROVIDER,
            district="frogner",
            service_type="hjemmesykepleie",
            measure_code="SAR",
            measure_description="Sårstell",
            decided_by="unit_head",
            escalation_path=["case_office", "unit_head"],
            message_id=uuid.uuid4(),
            overruled_at=MADE_AT + timedelta(days=4),
        ),
        str(adjustment_id),
    )
    await publish(bus, settings, DECISION_MADE, made)
    await publish(bus, settings, ORDER_ADJUSTED, adjusted)
    await publish(bus, settings, ADJUSTMENT_OVERRULED, overruled)
    frogner = auth(issuer, Role.case_officer, districts=["frogner"])

    async def all_three():
        found = await entries(client, person_id, frogner)
        assert [e["kind"] for e in found] == ["decision-made", "order-adjusted", "adjustment-overruled"]
        return found

    _, adjustment, overrule = await eventually(all_three)
    assert adjustment["reference"] == overrule["reference"] == str(adjustment_id)
    assert adjustment["source"] == "notifications"
    assert adjustment["details"]["change"]["times_from"] == 4
    assert adjustment["details"]["change"]["times_to"] == 2
    assert adjustment["details"]["reason"] == "Såret gror; to besøk i uken holder."
    assert adjustment["details"]["planned_hours_after"] == "4.35"
    assert overrule["details"]["decided_by"] == "unit_head"
    assert overrule["details"]["escalation_path"] == ["case_office", "unit_head"]
    assert await entries(client, person_id, auth(issuer, Role.case_officer, districts=["gamle-oslo"])) == []
