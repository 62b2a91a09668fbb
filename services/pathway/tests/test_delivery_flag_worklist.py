"""A delivery budget flagged (`budget.delivery.flagged`, over the real bus from budget's
stream) is on the case office's worklist until a decision of the person is made, changed or
ended after it: once however often the flag arrives, in its district only."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from nats.js.errors import NotFoundError
from pydantic import BaseModel
from sqlalchemy import select

from hjemflyt.pathway.db import platform_tables
from hjemflyt.pathway.main import create_app
from hjemflyt.shared.contracts.budget import DELIVERY_FLAGGED, DeliveryFlagged
from hjemflyt.shared.contracts.envelope import CloudEvent
from hjemflyt.shared.contracts.events import DECISION_MADE, DecidedService, DecisionMade
from hjemflyt.shared.contracts.registry import EventType
from hjemflyt.shared.platform.auth import Role
from hjemflyt.shared.platform.bus import Bus
from hjemflyt.shared.testing import auth, eventually, running_service, suite_now, suite_today

PROVIDER = "812345672"
T = platform_tables
Event = tuple[EventType[Any], dict[str, Any]]


@pytest.fixture
async def client(settings):
    async with running_service(create_app, settings) as client:
        yield client


@pytest.fixture
async def bus(settings):
    bus = Bus(settings, name="test-producers")
    await bus.connect()
    await bus.ensure_stream("assessment")
    await bus.ensure_stream("budget")
    yield bus
    await bus.close()


def event(event_type: EventType[Any], data: BaseModel, subject: object) -> Event:
    return event_type, CloudEvent(
        id=uuid.uuid4(),
        source=f"/hjemflyt/{event_type.service}",
        type=event_type.name,
        subject=str(subject),
        time=suite_now(),
        dataschema=event_type.dataschema,
        tenant="0301",
        data=data.model_dump(mode="json"),
    ).model_dump(mode="json")


async def publish_all(client, bus: Bus, settings, *events: Event, copies: int = 1) -> None:
    last: dict[str, int] = {}
    for event_type, body in events:
        for copy in range(copies):
            ack = await bus.js.publish(
                event_type.subject(settings.bus_namespace, settings.tenant),
                json.dumps(body).encode(),
                headers={"Nats-Msg-Id": f"{body['id']}-{copy}"},
            )
            last[event_type.service] = ack.seq
    ctx = client.app.state.ctx

    async def acknowledged():
        for producer, seq in last.items():
            try:
                info = await ctx.bus.js.consumer_info(ctx.bus.stream_for(producer), "pathway")
            except NotFoundError as exc:
                raise AssertionError(f"pathway's consumer on {producer} not declared yet") from exc
            assert info.ack_floor.stream_seq >= seq
            assert info.num_ack_pending == 0

    await eventually(acknowledged)
    async with ctx.sessionmaker() as s:
        assert (await s.execute(select(T.dead_letter.c.error))).all() == []


def made(person_id: uuid.UUID, *, at, district: str = "frogner") -> Event:
    decision_id = uuid.uuid4()
    return event(
        DECISION_MADE,
        DecisionMade(
            decision_id=decision_id,
            version=1,
            person_id=person_id,
            district=district,
            decision_date=at.date(),
            start_date=at.date(),
            services=[
                DecidedService(
                    service_code="15", service_name="Helsetjenester i hjemmet", hours_per_month="10"
                )
            ],
            made_at=at,
        ),
        decision_id,
    )


def flag(person_id: uuid.UUID, kind: str, *, district: str = "frogner", month: str = "2024-01") -> Event:
    data = DeliveryFlagged(
        flag_id=uuid.uuid5(uuid.NAMESPACE_URL, f"{person_id}{kind}{month}"),
        person_id=person_id,
        district=district,
        provider_org=PROVIDER,
        month=month,
        kind=kind,
        decided_hours=Decimal("10.00"),
        delivered_hours=Decimal("12.00"),
        flagged_at=suite_now(),
    )
    return event(DELIVERY_FLAGGED, data, person_id)


async def items(client, headers, kind: str = "delivery_flagged") -> list[dict]:
    r = await client.get("/v1/worklists/districts/frogner", headers=headers, params={"kind": kind})
    assert r.status_code == 200, r.text
    return r.json()["items"]


async def test_a_flagged_delivery_is_on_the_worklist_until_a_decision_answers_it(
    client, issuer, settings, bus
):
    above, below, elsewhere = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    long_ago = suite_now() - timedelta(days=90)
    above_flag = flag(above, "above_hours")
    await publish_all(
        client,
        bus,
        settings,
        made(above, at=long_ago),
        made(below, at=long_ago),
        above_flag,
        # The same flag published anew (a new event id): still one item.
        (above_flag[0], {**above_flag[1], "id": str(uuid.uuid4())}),
        flag(below, "below_half_hours", month="2024-02"),
        flag(elsewhere, "above_frame_max", district="sagene"),
        copies=2,
    )
    officer = auth(issuer, Role.case_officer, districts=["frogner"], subject="officer-frogner")
    got = await items(client, officer)
    assert sorted((i["person_id"], i["details"]["flag"]) for i in got) == sorted(
        [(str(above), "above_hours"), (str(below), "below_half_hours")]
    )
    today = suite_today()
    item = next(i for i in got if i["person_id"] == str(above))
    assert (item["since"], item["due"], item["overdue_days"], item["district"]) == (
        today.isoformat(),
        (today + timedelta(days=14)).isoformat(),
        0,
        "frogner",
    )
    assert item["reference_id"] == above_flag[1]["data"]["flag_id"]
    assert item["details"] == {
        "flag": "above_hours",
        "provider_org": PROVIDER,
        "month": "2024-01",
        "decided_hours": 10.0,
        "frame_min_hours": None,
        "frame_max_hours": None,
        "delivered_hours": 12.0,
    }
    # The whole list holds them too, beside the other kinds.
    r = await client.get("/v1/worklists/districts/frogner", headers=officer)
    assert {i["kind"] for i in r.json()["items"]} >= {"delivery_flagged"}

    # The person's timeline holds the flag once (the copies and the re-publication too).
    r = await client.get(f"/v1/persons/{above}/timeline", headers=officer)
    assert r.status_code == 200, r.text
    flagged = [e for e in r.json()["entries"] if e["kind"] == "delivery-flagged"]
    assert [(e["source"], e["details"]["flag"], e["details"]["delivered_hours"]) for e in flagged] == [
        ("budget", "above_hours", "12.00")
    ]

    # The case office answers with a new decision for the person: the flag leaves the list.
    await publish_all(client, bus, settings, made(above, at=suite_now() + timedelta(minutes=1)))
    assert [i["person_id"] for i in await items(client, officer)] == [str(below)]
