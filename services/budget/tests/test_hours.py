"""Decided hours per provider unit, built from `decision.made` and `provider.registered`
events on the real bus; stale decision versions never overwrite newer ones. The decisions
are made on the suite's day and start on the first of next month."""

from __future__ import annotations

import json
import uuid
from datetime import date
from decimal import Decimal

import pytest
from nats.js.errors import NotFoundError
from sqlalchemy import select

from hjemflyt.budget.db import platform_tables
from hjemflyt.budget.main import create_app
from hjemflyt.shared.contracts.envelope import CloudEvent
from hjemflyt.shared.contracts.events import (
    DECISION_MADE,
    PROVIDER_REGISTERED,
    DecidedService,
    DecisionMade,
    ProviderKind,
    ProviderRegistered,
)
from hjemflyt.shared.contracts.registry import EventType
from hjemflyt.shared.platform.auth import Role
from hjemflyt.shared.platform.bus import Bus
from hjemflyt.shared.testing import auth, eventually, running_service, suite_now, suite_today

P1 = "812345672"
P2 = "900000006"
T = platform_tables
TODAY = suite_today()
START = date(TODAY.year + TODAY.month // 12, TODAY.month % 12 + 1, 1)  # the first of next month


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
    bus = Bus(settings, name="test-producers")
    await bus.connect()
    await bus.ensure_stream("assessment")
    await bus.ensure_stream("notifications")
    yield bus
    await bus.close()


def envelope(event_type: EventType, data, subject: str) -> dict:
    return CloudEvent(
        id=uuid.uuid4(),
        source=f"/hjemflyt/{event_type.service}",
        type=event_type.name,
        subject=subject,
        time=suite_now(),
        dataschema=event_type.dataschema,
        tenant="0301",
        data=data.model_dump(mode="json"),
    ).model_dump(mode="json")


def decision(
    person_id: uuid.UUID,
    *services: tuple[str, str, str],
    decision_id: uuid.UUID | None = None,
    version: int = 1,
) -> tuple[EventType, dict]:
    """A decision.made event; services are (service_code, hours_per_month, provider_org)."""
    decision_id = decision_id or uuid.uuid4()
    data = DecisionMade(
        decision_id=decision_id,
        version=version,
        person_id=person_id,
        district="frogner",
        decision_date=TODAY,
        start_date=START,
        services=[
            DecidedService(
                service_code=code, service_name=f"service {code}", hours_per_month=hours, provider_org=org
            )
            for code, hours, org in services
        ],
        made_at=suite_now(),
    )
    return DECISION_MADE, envelope(DECISION_MADE, data, str(decision_id))


def provider(
    org: str, name: str, version: int, kind: ProviderKind = ProviderKind.municipal
) -> tuple[EventType, dict]:
    data = ProviderRegistered(
        provider_org=org,
        name=name,
        kind=kind,
        service_codes=["1", "15"],
        districts=["frogner"],
        version=version,
    )
    return PROVIDER_REGISTERED, envelope(PROVIDER_REGISTERED, data, org)


async def publish_all(client, bus: Bus, settings, *events: tuple[EventType, dict]) -> None:
    """Publish in order and wait until budget's consumers have acknowledged every one."""
    last: dict[str, int] = {}
    for event_type, event in events:
        ack = await bus.js.publish(
            event_type.subject(settings.bus_namespace, settings.tenant),
            json.dumps(event).encode(),
            headers={"Nats-Msg-Id": event["id"]},
        )
        last[event_type.service] = ack.seq
    ctx = client.app.state.ctx

    async def acknowledged():
        for producer, seq in last.items():
            info = await consumer_info(ctx, producer, "budget")
            assert info.ack_floor.stream_seq >= seq
            assert info.num_ack_pending == 0

    await eventually(acknowledged)
    async with ctx.sessionmaker() as s:
        assert (await s.execute(select(T.dead_letter.c.error))).all() == []


async def per_provider(client, issuer) -> dict[str, tuple]:
    r = await client.get("/v1/providers/hours", headers=auth(issuer, Role.manager))
    assert r.status_code == 200, r.text
    return {p["provider_org"]: (p["name"], p["persons"], Decimal(p["hours_per_month"])) for p in r.json()}


async def person_hours(client, issuer, person_id: uuid.UUID) -> list[tuple]:
    r = await client.get(f"/v1/persons/{person_id}/hours", headers=auth(issuer, Role.manager))
    assert r.status_code == 200, r.text
    return [
        (h["service_code"], h["decision_version"], Decimal(h["hours_per_month"]), h["provider_org"])
        for h in r.json()
    ]


async def test_hours_are_summed_per_provider_with_persons_counted(client, issuer, settings, bus):
    kari, ola = uuid.uuid4(), uuid.uuid4()
    await publish_all(
        client,
        bus,
        settings,
        decision(kari, ("15", "10", P1), ("1", "5", P2)),
        decision(ola, ("15", "20.5", P1)),
        decision(kari, ("1", "2.25", P1)),  # a second decision for the same person
    )
    assert await per_provider(client, issuer) == {
        P1: (None, 2, Decimal("32.75")),
        P2: (None, 1, Decimal(5)),
    }
    assert await person_hours(client, issuer, ola) == [("15", 1, Decimal("20.5"), P1)]

    # The provider registry names the unit.
    await publish_all(client, bus, settings, provider(P1, "Hjemmetjenesten Frogner", 1))
    hours = await per_provider(client, issuer)
    assert hours[P1] == ("Hjemmetjenesten Frogner", 2, Decimal("32.75"))
    assert hours[P2] == (None, 1, Decimal(5))
    r = await client.get("/v1/providers/hours", headers=auth(issuer, Role.integration))
    assert r.status_code == 200
    assert {p["provider_org"]: p["kind"] for p in r.json()} == {P1: "municipal", P2: None}


async def test_a_stale_decision_version_does_not_overwrite_a_newer_one(client, issuer, settings, bus):
    person_id, decision_id = uuid.uuid4(), uuid.uuid4()
    await publish_all(
        client,
        bus,
        settings,
        decision(person_id, ("15", "30", P1), decision_id=decision_id, version=2),
        decision(person_id, ("15", "10", P2), decision_id=decision_id, version=1),  # arrives late
    )
    assert await person_hours(client, issuer, person_id) == [("15", 2, Decimal(30), P1)]
    assert await per_provider(client, issuer) == {P1: (None, 1, Decimal(30))}

    # A newer version does apply, provider change included.
    await publish_all(
        client, bus, settings, decision(person_id, ("15", "12", P2), decision_id=decision_id, version=3)
    )
    assert await person_hours(client, issuer, person_id) == [("15", 3, Decimal(12), P2)]
    assert await per_provider(client, issuer) == {P2: (None, 1, Decimal(12))}


async def test_a_stale_provider_version_does_not_rename_the_unit(client, issuer, settings, bus):
    await publish_all(
        client,
        bus,
        settings,
        decision(uuid.uuid4(), ("15", "8", P1)),
        provider(P1, "Hjemmetjenesten Frogner nord", 2),
        provider(P1, "Hjemmetjenesten Frogner", 1),
    )
    assert (await per_provider(client, issuer))[P1][0] == "Hjemmetjenesten Frogner nord"
    await publish_all(client, bus, settings, provider(P1, "Frogner hjemmetjeneste", 3, ProviderKind.private))
    r = await client.get("/v1/providers/hours", headers=auth(issuer, Role.manager))
    assert [(p["name"], p["kind"]) for p in r.json()] == [("Frogner hjemmetjeneste", "private")]


async def test_hours_need_budget_read(client, issuer):
    person_id = uuid.uuid4()
    for headers in (
        auth(issuer, Role.provider, provider_org=P1),
        auth(issuer, Role.case_officer, districts=["frogner"]),
        auth(issuer, Role.auditor),
    ):
        for path in ("/v1/providers/hours", f"/v1/persons/{person_id}/hours"):
            r = await client.get(path, headers=headers)
            assert r.status_code == 403, r.text
            assert r.headers["content-type"].startswith("application/problem+json")
            assert r.json()["type"].endswith("/forbidden")
            assert "budget:read" in r.json()["missing_scopes"]
    r = await client.get("/v1/providers/hours")
    assert r.status_code == 401
    assert r.headers["www-authenticate"].lower().startswith("bearer")


async def test_a_service_dropped_by_a_newer_version_no_longer_counts(client, issuer, settings, bus):
    person_id, decision_id = uuid.uuid4(), uuid.uuid4()
    await publish_all(
        client,
        bus,
        settings,
        decision(person_id, ("15", "10", P1), ("1", "5", P1), decision_id=decision_id, version=1),
        decision(person_id, ("15", "10", P1), decision_id=decision_id, version=2),
    )
    assert await person_hours(client, issuer, person_id) == [("15", 2, Decimal(10), P1)]
    assert await per_provider(client, issuer) == {P1: (None, 1, Decimal(10))}


async def test_a_persons_hours_are_a_logged_read_shown_to_the_auditor(client, issuer, settings, bus):
    """A person's decided hours are personal data: the read is logged (reader, purpose from the
    header) and budget's own access log answers the auditor; an empty answer logs nothing."""
    person_id = uuid.uuid4()
    await publish_all(client, bus, settings, decision(person_id, ("15", "10", P1)))
    manager = auth(issuer, Role.manager, subject="leder-1")
    r = await client.get(
        f"/v1/persons/{person_id}/hours", headers={**manager, "Hjemflyt-Purpose": "budsjettkontroll"}
    )
    assert r.status_code == 200
    assert r.json()
    assert (await client.get(f"/v1/persons/{uuid.uuid4()}/hours", headers=manager)).json() == []

    auditor = auth(issuer, Role.auditor, subject="revisor-1")
    r = await client.get("/v1/access-log", params={"person_id": str(person_id)}, headers=auditor)
    assert r.status_code == 200, r.text
    assert [
        (e["service"], e["actor"], e["action"], e["resource"], e["purpose"]) for e in r.json()["items"]
    ] == [("budget", "leder-1", "read", "person-hours", "budsjettkontroll")]
    # The auditor's read is logged too; only auditors read the log.
    r = await client.get("/v1/access-log", params={"person_id": str(person_id), "limit": 1}, headers=auditor)
    assert [(e["actor"], e["resource"]) for e in r.json()["items"]] == [("revisor-1", "access-log")]
    assert r.json()["next_before_id"] is not None
    r = await client.get("/v1/access-log", params={"person_id": str(person_id)}, headers=manager)
    assert r.status_code == 403
