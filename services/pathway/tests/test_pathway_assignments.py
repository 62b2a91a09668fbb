"""Pathway assignments on pathway's side: an assignment (an order before any decision,
pathway 1) is on the person's timeline, counts as running services, and is not a decision:
a pathway 1 whose assignment still runs at day 14 with no decision gets its
`decision_required` task; one whose assignment ran out (or was ended) within the 14 days
does not.

The service stands still on the suite's today (day 0) and is moved by whole legal days.
"""

from __future__ import annotations

import json
import uuid
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from nats.js.errors import NotFoundError
from pydantic import BaseModel
from sqlalchemy import select

from hjemflyt.pathway.db import platform_tables
from hjemflyt.pathway.main import create_app
from hjemflyt.pathway.pathways.worker import sweep_once
from hjemflyt.shared.contracts.assignments import (
    ASSIGNMENT_ENDED,
    ASSIGNMENT_ISSUED,
    AssignmentEnded,
    AssignmentIssued,
)
from hjemflyt.shared.contracts.envelope import CloudEvent
from hjemflyt.shared.contracts.events import (
    DECISION_MADE,
    PERSON_DISCHARGED,
    DecidedService,
    DecisionMade,
    OrderedMeasure,
    PersonDischarged,
)
from hjemflyt.shared.contracts.registry import EventType
from hjemflyt.shared.platform.auth import Role
from hjemflyt.shared.platform.bus import Bus
from hjemflyt.shared.platform.clock import OSLO, FixedClock
from hjemflyt.shared.testing import auth, eventually, fixed_clock, move_clock_to, running_service

T = platform_tables
START = fixed_clock().now()
DAY0 = START.astimezone(OSLO).date()
PROVIDER = "812345672"
Event = tuple[EventType[Any], dict[str, Any]]


def day(n: int) -> date:
    return DAY0 + timedelta(days=n)


def to_day(clock: FixedClock, n: int) -> None:
    move_clock_to(clock, day(n), START.astimezone(OSLO).time())


@pytest.fixture
def clock() -> FixedClock:
    return fixed_clock()


@pytest.fixture
async def client(settings, clock):
    async with running_service(create_app, settings, clock=clock) as client:
        yield client


@pytest.fixture
async def bus(settings):
    bus = Bus(settings, name="test-producers")
    await bus.connect()
    await bus.ensure_stream("assessment")
    yield bus
    await bus.close()


def ev(event_type: EventType[Any], data: BaseModel, subject: object) -> Event:
    return event_type, CloudEvent(
        id=uuid.uuid4(),
        source=f"/hjemflyt/{event_type.service}",
        type=event_type.name,
        subject=str(subject),
        time=START,
        dataschema=event_type.dataschema,
        tenant="0301",
        data=data.model_dump(mode="json"),
    ).model_dump(mode="json")


async def publish(client, bus: Bus, settings, *events: Event) -> None:
    """Publish in order and wait until pathway has acknowledged every message, no dead letter."""
    last = 0
    for event_type, body in events:
        ack = await bus.js.publish(
            event_type.subject(settings.bus_namespace, settings.tenant),
            json.dumps(body).encode(),
            headers={"Nats-Msg-Id": body["id"]},
        )
        last = ack.seq
    ctx = client.app.state.ctx

    async def acknowledged() -> None:
        try:
            info = await ctx.bus.js.consumer_info(ctx.bus.stream_for("assessment"), "pathway")
        except NotFoundError as exc:
            raise AssertionError("consumer not declared yet") from exc
        assert info.ack_floor.stream_seq >= last
        assert info.num_ack_pending == 0

    await eventually(acknowledged)
    async with ctx.sessionmaker() as s:
        assert (await s.execute(select(T.dead_letter.c.error))).all() == []


def discharged(person_id: uuid.UUID) -> Event:
    admission_id = uuid.uuid4()
    return ev(
        PERSON_DISCHARGED,
        PersonDischarged(
            admission_id=admission_id,
            person_id=person_id,
            district="frogner",
            admitted_at=START - timedelta(days=5),
            discharged_at=START,
        ),
        admission_id,
    )


def service() -> DecidedService:
    return DecidedService(
        service_code="15",
        service_name="Helsetjenester i hjemmet",
        hours_per_month=Decimal("4.35"),
        provider_org=PROVIDER,
        service_type="home-nursing",
        measures=[OrderedMeasure(description="Sårstell", times=3, per="week", minutes=20)],
    )


def issued(person_id: uuid.UUID, assignment_id: uuid.UUID, first: int, last: int) -> Event:
    return ev(
        ASSIGNMENT_ISSUED,
        AssignmentIssued(
            assignment_id=assignment_id,
            person_id=person_id,
            district="frogner",
            provider_org=PROVIDER,
            start_date=day(first),
            end_date=day(last),
            services=[service()],
            issued_at=START,
        ),
        assignment_id,
    )


def ended(person_id: uuid.UUID, assignment_id: uuid.UUID, first: int, last: int) -> Event:
    return ev(
        ASSIGNMENT_ENDED,
        AssignmentEnded(
            assignment_id=assignment_id,
            person_id=person_id,
            district="frogner",
            provider_org=PROVIDER,
            start_date=day(first),
            end_date=day(last),
            reason="masters_daily_life",
            ended_at=START + timedelta(minutes=5),
        ),
        assignment_id,
    )


def made(person_id: uuid.UUID, decided: date) -> Event:
    decision_id = uuid.uuid4()
    return ev(
        DECISION_MADE,
        DecisionMade(
            decision_id=decision_id,
            version=1,
            person_id=person_id,
            district="frogner",
            decision_date=decided,
            start_date=decided,
            end_date=None,
            services=[service()],
            made_at=datetime.combine(decided, datetime.min.time(), OSLO),
        ),
        decision_id,
    )


def officer(issuer) -> dict[str, str]:
    return auth(issuer, Role.case_officer, districts=["frogner"])


async def pathway_of(client, issuer, person_id: uuid.UUID) -> dict[str, Any]:
    r = await client.get("/v1/pathways", params={"person_id": str(person_id)}, headers=officer(issuer))
    assert r.status_code == 200, r.text
    [pathway] = r.json()["items"]
    return pathway


async def tasks(client, issuer) -> list[tuple[str, str, str]]:
    r = await client.get("/v1/tasks", headers=officer(issuer))
    assert r.status_code == 200, r.text
    return sorted((t["kind"], t["person_id"], t["due"]) for t in r.json())


@pytest.mark.calendar
async def test_an_assignment_is_not_a_decision_the_day_14_rule_still_applies(
    client, issuer, settings, bus, clock
):
    ctx = client.app.state.ctx
    # runs_on: assignment from day 2 to day 15 (14 days), still running at day 14, no decision.
    # ran_out: assignment from day 0 to day 13: the measures end within the 14 days.
    # ended_early: like runs_on, but the case office ended it on day 5 (the person masters it).
    # decided: like runs_on, and a decision made on day 10 that runs on covers the requirement.
    runs_on, ran_out, ended_early, decided = (uuid.uuid4() for _ in range(4))
    a_runs_on, a_ended = uuid.uuid4(), uuid.uuid4()
    await publish(
        client,
        bus,
        settings,
        *(discharged(p) for p in (runs_on, ran_out, ended_early, decided)),
        issued(runs_on, a_runs_on, 2, 15),
        issued(ran_out, uuid.uuid4(), 0, 13),
        issued(ended_early, a_ended, 2, 15),
        issued(decided, uuid.uuid4(), 2, 15),
    )
    pathway = await pathway_of(client, issuer, ran_out)
    assert (pathway["kind"], pathway["decision_due"]) == (1, str(day(14)))
    assert pathway["has_active_services"] is True  # the assignment runs from today
    assert pathway["decision_covered"] is False  # an assignment is not a decision

    # The timeline shows the assignment.
    r = await client.get(f"/v1/persons/{runs_on}/timeline", headers=officer(issuer))
    assert r.status_code == 200, r.text
    [entry] = [e for e in r.json()["entries"] if e["kind"] == "assignment-issued"]
    assert entry["reference"] == str(a_runs_on)
    assert (entry["details"]["start_date"], entry["details"]["end_date"]) == (str(day(2)), str(day(15)))
    assert entry["details"]["services"][0]["measures"][0]["description"] == "Sårstell"

    to_day(clock, 5)
    await publish(client, bus, settings, ended(ended_early, a_ended, 2, 5))
    r = await client.get(f"/v1/persons/{ended_early}/timeline", headers=officer(issuer))
    [entry] = [e for e in r.json()["entries"] if e["kind"] == "assignment-ended"]
    assert (entry["details"]["end_date"], entry["details"]["reason"]) == (str(day(5)), "masters_daily_life")
    to_day(clock, 10)
    await publish(client, bus, settings, made(decided, day(10)))

    to_day(clock, 13)
    await sweep_once(ctx)
    assert await tasks(client, issuer) == []
    to_day(clock, 14)
    await sweep_once(ctx)
    assert await tasks(client, issuer) == [("decision_required", str(runs_on), str(day(14)))]
    assert (await pathway_of(client, issuer, runs_on))["has_active_services"] is True
    assert (await pathway_of(client, issuer, ran_out))["has_active_services"] is False
