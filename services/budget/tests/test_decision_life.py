"""Decided hours follow a decision through its life: made (only granted and partly granted
services with hours count; a provider may not be chosen yet), amended (versions replace each
other, stale ones are ignored), ended (stops counting for good) and the person's provider
choice (moves the hours). Events go over the real bus; results are read over HTTP.

The decisions are made on the suite's day and start on the first of next month."""

from __future__ import annotations

import json
import uuid
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from nats.js.errors import NotFoundError
from pydantic import BaseModel
from sqlalchemy import func, select

from hjemflyt.budget.db import platform_tables
from hjemflyt.budget.hours.rules import counted_services
from hjemflyt.budget.main import create_app
from hjemflyt.shared.contracts.envelope import CloudEvent
from hjemflyt.shared.contracts.events import (
    DECISION_AMENDED,
    DECISION_ENDED,
    DECISION_MADE,
    PROVIDER_CHOSEN,
    DecidedService,
    DecisionAmended,
    DecisionEnded,
    DecisionMade,
    ProviderChosen,
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
    yield bus
    await bus.close()


def envelope(event_type: EventType[Any], data: BaseModel, subject: uuid.UUID) -> Event:
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


def svc(
    service_type: str,
    hours: str,
    provider: str | None = None,
    *,
    code: str = "15",
    outcome: str = "granted",
    scope_kind: str = "hours_per_month",
) -> DecidedService:
    return DecidedService(
        service_code=code,
        service_name=service_type,
        service_type=service_type,
        hours_per_month=hours,
        provider_org=provider,
        outcome=outcome,
        scope_kind=scope_kind,
    )


def made(
    person_id: uuid.UUID,
    decision_id: uuid.UUID,
    *services: DecidedService,
    version: int = 1,
    district="frogner",
) -> Event:
    data = DecisionMade(
        decision_id=decision_id,
        version=version,
        person_id=person_id,
        district=district,
        decision_date=TODAY,
        start_date=START,
        evaluation_date=START + timedelta(days=90),
        services=list(services),
        made_at=suite_now(),
    )
    return envelope(DECISION_MADE, data, decision_id)


def amended(
    person_id: uuid.UUID, decision_id: uuid.UUID, version: int, *services: DecidedService, district="frogner"
) -> Event:
    data = DecisionAmended(
        decision_id=decision_id,
        version=version,
        person_id=person_id,
        district=district,
        start_date=START,
        services=list(services),
        changes=["services"],
        amended_at=suite_now(),
    )
    return envelope(DECISION_AMENDED, data, decision_id)


def ended(person_id: uuid.UUID, decision_id: uuid.UUID, version: int, district="frogner") -> Event:
    data = DecisionEnded(
        decision_id=decision_id,
        version=version,
        person_id=person_id,
        district=district,
        end_date=START + timedelta(days=30),
        reason="ended",
        ended_at=suite_now(),
    )
    return envelope(DECISION_ENDED, data, decision_id)


def chosen(
    person_id: uuid.UUID,
    decision_id: uuid.UUID,
    service_type: str,
    provider: str | None,
    chosen_on: date | None = TODAY,
    *,
    code: str = "15",
) -> Event:
    data = ProviderChosen(
        decision_id=decision_id,
        person_id=person_id,
        district="frogner",
        service_type=service_type,
        service_code=code,
        provider_org=provider,
        informed_date=TODAY,
        chosen_date=chosen_on if provider else None,
    )
    return envelope(PROVIDER_CHOSEN, data, decision_id)


async def publish_all(client, bus: Bus, settings, *events: Event, copies: int = 1) -> None:
    """Publish in order (each `copies` times, as redeliveries: same event id, new message id)
    and wait until budget has acknowledged every message."""
    seq = 0
    for event_type, body in events:
        for copy in range(copies):
            ack = await bus.js.publish(
                event_type.subject(settings.bus_namespace, settings.tenant),
                json.dumps(body).encode(),
                headers={"Nats-Msg-Id": f"{body['id']}-{copy}"},
            )
            seq = ack.seq
    ctx = client.app.state.ctx

    async def acknowledged():
        try:
            info = await ctx.bus.js.consumer_info(ctx.bus.stream_for("assessment"), "budget")
        except NotFoundError as exc:
            raise AssertionError("budget's consumer not declared yet") from exc
        assert info.ack_floor.stream_seq >= seq
        assert info.num_ack_pending == 0

    await eventually(acknowledged)
    async with ctx.sessionmaker() as s:
        assert (await s.execute(select(T.dead_letter.c.error))).all() == []


async def per_provider(client, issuer) -> dict[str | None, tuple[int, Decimal]]:
    r = await client.get("/v1/providers/hours", headers=auth(issuer, Role.manager))
    assert r.status_code == 200, r.text
    return {p["provider_org"]: (p["persons"], Decimal(p["hours_per_month"])) for p in r.json()}


async def person_hours(client, issuer, person_id: uuid.UUID) -> dict[str, tuple[int, Decimal, str | None]]:
    """service_type -> (decision_version, hours_per_month, provider_org)"""
    r = await client.get(f"/v1/persons/{person_id}/hours", headers=auth(issuer, Role.manager))
    assert r.status_code == 200, r.text
    return {
        h["service_type"]: (h["decision_version"], Decimal(h["hours_per_month"]), h["provider_org"])
        for h in r.json()
    }


async def test_only_granted_hours_count_and_unchosen_providers_have_a_row(client, issuer, settings, bus):
    kari, ola, d1, d2 = uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    await publish_all(
        client,
        bus,
        settings,
        made(
            kari,
            d1,
            svc("home-nursing", "10", P1),
            svc("practical-help", "6", code="1", outcome="partly_granted", scope_kind="frame"),
            svc("meals", "0", P1, code="1", outcome="refused"),
            svc("safety-alarm", "0", P1, code="32"),
        ),
        made(
            ola, d2, svc("home-nursing", "4.5"), svc("practical-help", "3", P2, code="1"), district="sagene"
        ),
    )
    assert await person_hours(client, issuer, kari) == {
        "home-nursing": (1, Decimal(10), P1),
        "practical-help": (1, Decimal(6), None),
    }
    r = await client.get(f"/v1/persons/{kari}/hours", headers=auth(issuer, Role.manager))
    help_ = next(h for h in r.json() if h["service_type"] == "practical-help")
    assert (help_["outcome"], help_["scope_kind"], help_["service_code"]) == ("partly_granted", "frame", "1")

    assert await per_provider(client, issuer) == {
        P1: (1, Decimal(10)),
        P2: (1, Decimal(3)),
        None: (2, Decimal("10.5")),  # no provider chosen yet
    }
    r = await client.get("/v1/providers/hours", headers=auth(issuer, Role.integration))
    assert r.json()[-1] == {
        "provider_org": None,
        "name": None,
        "kind": None,
        "persons": 2,
        "hours_per_month": "10.50",
    }

    r = await client.get("/v1/districts/hours", headers=auth(issuer, Role.manager))
    assert r.status_code == 200, r.text
    assert r.json() == [
        {"district": "frogner", "persons": 1, "hours_per_month": "16.00"},
        {"district": "sagene", "persons": 1, "hours_per_month": "7.50"},
    ]
    for role in (Role.case_officer, Role.service_lead, Role.provider, Role.auditor):
        claims: dict[str, Any] = {"provider_org": P1} if role == Role.provider else {"districts": ["frogner"]}
        r = await client.get("/v1/districts/hours", headers=auth(issuer, role, **claims))
        assert r.status_code == 403, r.text


async def test_amendments_replace_the_services_and_stale_versions_are_ignored(client, issuer, settings, bus):
    person_id, decision_id = uuid.uuid4(), uuid.uuid4()
    await publish_all(
        client,
        bus,
        settings,
        made(person_id, decision_id, svc("home-nursing", "10", P1), svc("practical-help", "5", P1, code="1")),
        amended(person_id, decision_id, 3, svc("home-nursing", "14", P1)),
        # Arrives late: version 2 would bring practical help back.
        amended(
            person_id, decision_id, 2, svc("home-nursing", "12", P1), svc("practical-help", "6", P2, code="1")
        ),
        made(person_id, decision_id, svc("home-nursing", "10", P1), version=1),  # a late copy of version 1
    )
    assert await person_hours(client, issuer, person_id) == {"home-nursing": (3, Decimal(14), P1)}
    assert await per_provider(client, issuer) == {P1: (1, Decimal(14))}

    # A newer version applies: a service is added, another refused now (it stops counting).
    await publish_all(
        client,
        bus,
        settings,
        amended(
            person_id,
            decision_id,
            4,
            svc("home-nursing", "0", code="15", outcome="refused"),
            svc("practical-help", "8", P2, code="1"),
        ),
    )
    assert await person_hours(client, issuer, person_id) == {"practical-help": (4, Decimal(8), P2)}
    assert await per_provider(client, issuer) == {P2: (1, Decimal(8))}


async def test_an_ended_decision_stops_counting_and_stays_ended(client, issuer, settings, bus):
    person_id, decision_id, other = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    await publish_all(
        client,
        bus,
        settings,
        made(person_id, decision_id, svc("home-nursing", "10", P1)),
        amended(person_id, decision_id, 2, svc("home-nursing", "12", P1)),
        made(person_id, other, svc("practical-help", "3", P1, code="1")),
        ended(person_id, decision_id, 2),
    )
    assert await person_hours(client, issuer, person_id) == {"practical-help": (1, Decimal(3), P1)}
    assert await per_provider(client, issuer) == {P1: (1, Decimal(3))}

    # Versions arriving after the end, stale or not, and a provider choice, change nothing.
    await publish_all(
        client,
        bus,
        settings,
        amended(person_id, decision_id, 2, svc("home-nursing", "12", P1)),
        amended(person_id, decision_id, 3, svc("home-nursing", "20", P2)),
        chosen(person_id, decision_id, "home-nursing", P2),
    )
    assert await person_hours(client, issuer, person_id) == {"practical-help": (1, Decimal(3), P1)}

    # An end handled before its decision (redelivered out of order) holds too.
    late = uuid.uuid4()
    await publish_all(
        client, bus, settings, ended(person_id, late, 1), made(person_id, late, svc("home-nursing", "9", P1))
    )
    assert await person_hours(client, issuer, person_id) == {"practical-help": (1, Decimal(3), P1)}
    r = await client.get("/v1/districts/hours", headers=auth(issuer, Role.manager))
    assert r.json() == [{"district": "frogner", "persons": 1, "hours_per_month": "3.00"}]


async def test_a_provider_choice_moves_the_hours(client, issuer, settings, bus):
    person_id, decision_id = uuid.uuid4(), uuid.uuid4()
    await publish_all(
        client,
        bus,
        settings,
        made(person_id, decision_id, svc("home-nursing", "10"), svc("practical-help", "5", code="1")),
        chosen(person_id, decision_id, "home-nursing", None),  # informed only: nothing moves
    )
    assert await per_provider(client, issuer) == {None: (1, Decimal(15))}

    await publish_all(client, bus, settings, chosen(person_id, decision_id, "home-nursing", P1))
    assert await per_provider(client, issuer) == {P1: (1, Decimal(10)), None: (1, Decimal(5))}
    assert await person_hours(client, issuer, person_id) == {
        "home-nursing": (1, Decimal(10), P1),
        "practical-help": (1, Decimal(5), None),
    }

    # A later amendment that names no provider keeps the chosen one; the person changes
    # provider later (a newer choice); a choice dated earlier arriving late changes nothing.
    await publish_all(
        client,
        bus,
        settings,
        amended(person_id, decision_id, 2, svc("home-nursing", "12"), svc("practical-help", "5", code="1")),
        chosen(person_id, decision_id, "practical-help", P2, START + timedelta(days=9), code="1"),
        chosen(person_id, decision_id, "practical-help", P1, START, code="1"),
    )
    assert await person_hours(client, issuer, person_id) == {
        "home-nursing": (2, Decimal(12), P1),
        "practical-help": (2, Decimal(5), P2),
    }
    assert await per_provider(client, issuer) == {P1: (1, Decimal(12)), P2: (1, Decimal(5))}


async def test_a_choice_handled_before_its_decision_still_applies(client, issuer, settings, bus):
    person_id, decision_id = uuid.uuid4(), uuid.uuid4()
    await publish_all(
        client,
        bus,
        settings,
        chosen(person_id, decision_id, "home-nursing", P2),
        made(person_id, decision_id, svc("home-nursing", "7")),
    )
    assert await person_hours(client, issuer, person_id) == {"home-nursing": (1, Decimal(7), P2)}


async def test_redelivered_events_have_no_second_effect(client, issuer, settings, bus):
    person_id, decision_id, other = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    events = [
        made(person_id, decision_id, svc("home-nursing", "10"), svc("practical-help", "5", code="1")),
        chosen(person_id, decision_id, "home-nursing", P1),
        amended(person_id, decision_id, 2, svc("home-nursing", "12"), svc("practical-help", "5", code="1")),
        made(person_id, other, svc("practical-help", "2", P2, code="1")),
        ended(person_id, other, 1),
    ]
    await publish_all(client, bus, settings, *events, copies=3)
    assert await person_hours(client, issuer, person_id) == {
        "home-nursing": (2, Decimal(12), P1),
        "practical-help": (2, Decimal(5), None),
    }
    assert await per_provider(client, issuer) == {P1: (1, Decimal(12)), None: (1, Decimal(5))}
    async with client.app.state.ctx.sessionmaker() as s:
        assert await s.scalar(select(func.count()).select_from(T.inbox)) == len(events)


def test_refused_and_zero_hours_do_not_count():
    services = [
        svc("a", "3", P1),
        svc("b", "2", outcome="partly_granted"),
        svc("c", "0"),
        svc("d", "0", outcome="refused"),
        svc("e", "4", outcome="refused"),  # hours on a refusal still do not count
    ]
    assert [(c.key, c.hours_per_month, c.provider_org) for c in counted_services(services)] == [
        ("a", Decimal(3), P1),
        ("b", Decimal(2), None),
    ]
    # Without a catalogue type the IPLOS code keys the service; a key named twice is summed.
    untyped = [
        DecidedService(service_code="15", service_name="x", hours_per_month="2"),
        DecidedService(service_code="15", service_name="y", hours_per_month="3", provider_org=P2),
    ]
    [only] = counted_services(untyped)
    assert (only.key, only.hours_per_month, only.provider_org) == ("15", Decimal(5), P2)


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["a", "b", "c"]),
            st.decimals(min_value=0, max_value=744, places=2),
            st.sampled_from(["granted", "partly_granted", "refused"]),
        ),
        max_size=8,
    )
)
def test_counted_hours_are_the_granted_hours(services):
    decided = [svc(t, str(h), outcome=o) for t, h, o in services]
    counted = counted_services(decided)
    assert len({c.key for c in counted}) == len(counted)
    assert all(c.hours_per_month > 0 for c in counted)
    assert sum((c.hours_per_month for c in counted), Decimal(0)) == sum(
        (h for _, h, o in services if o != "refused"), Decimal(0)
    )
