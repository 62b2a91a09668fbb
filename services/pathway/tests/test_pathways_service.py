"""Pathways on a real PostgreSQL and NATS: opened and closed by events and by hand,
repeated and out-of-order events counted once, bad input refused, and the deadline sweep
with the clock moved (pathway 1 at day 14, pathway 2 at two months, forgotten closures).

Each test's service stands still on the suite's today at the suite's hour (`HJEMFLYT_TEST_TODAY`;
00:20 on the calendar days, when the UTC date is still the day before) and is moved by whole
legal days; every expected date is computed from that day."""

from __future__ import annotations

import calendar
import json
import uuid
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from nats.js.errors import NotFoundError
from pydantic import BaseModel
from sqlalchemy import func, select

from hjemflyt.pathway.db import platform_tables
from hjemflyt.pathway.main import create_app
from hjemflyt.pathway.pathways.worker import sweep_once
from hjemflyt.shared.contracts.envelope import CloudEvent
from hjemflyt.shared.contracts.events import (
    DECISION_ENDED,
    DECISION_MADE,
    PERSON_DISCHARGED,
    REFERRAL_RECEIVED,
    DecidedService,
    DecisionEnded,
    DecisionMade,
    PersonDischarged,
    ReferralReceived,
)
from hjemflyt.shared.contracts.pathway import PATHWAY_CLOSED, PATHWAY_OPENED, PATHWAY_TASK_OPENED
from hjemflyt.shared.contracts.registry import EventType
from hjemflyt.shared.contracts.reports import MASTERS_DAILY_LIFE_REPORTED, MastersDailyLifeReported
from hjemflyt.shared.platform.auth import Role
from hjemflyt.shared.platform.bus import Bus
from hjemflyt.shared.platform.clock import OSLO, FixedClock
from hjemflyt.shared.testing import auth, eventually, fixed_clock, move_clock_to, running_service

T = platform_tables
START = fixed_clock().now()  # the suite's today at the suite's hour (UTC)
DAY0 = START.astimezone(OSLO).date()
PROVIDER = "812345672"
Event = tuple[EventType[Any], dict[str, Any]]


def day(n: int) -> date:
    return DAY0 + timedelta(days=n)


def months_later(d: date, months: int) -> date:
    """The same day `months` later, or that month's last day when it is shorter."""
    year, month = divmod(d.month - 1 + months, 12)
    year, month = d.year + year, month + 1
    return date(year, month, min(d.day, calendar.monthrange(year, month)[1]))


def to_day(clock: FixedClock, n: int) -> None:
    """Move the clock to day n of the scenario, at the hour it started."""
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
    await bus.ensure_stream("notifications")
    yield bus
    await bus.close()


def ev(
    event_type: EventType[Any], data: BaseModel, subject: object, event_id: uuid.UUID | None = None
) -> Event:
    return event_type, CloudEvent(
        id=event_id or uuid.uuid4(),
        source=f"/hjemflyt/{event_type.service}",
        type=event_type.name,
        subject=str(subject),
        time=START,
        dataschema=event_type.dataschema,
        tenant="0301",
        data=data.model_dump(mode="json"),
    ).model_dump(mode="json")


async def publish(client, bus: Bus, settings, *events: Event, copies: int = 1) -> None:
    """Publish in order (`copies` redeliveries: same event id, new message id) and wait
    until pathway has acknowledged every message, with no dead letter."""
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

    async def acknowledged() -> None:
        for producer, seq in last.items():
            try:
                info = await ctx.bus.js.consumer_info(ctx.bus.stream_for(producer), "pathway")
            except NotFoundError as exc:
                raise AssertionError("consumer not declared yet") from exc
            assert info.ack_floor.stream_seq >= seq
            assert info.num_ack_pending == 0

    await eventually(acknowledged)
    async with ctx.sessionmaker() as s:
        assert (await s.execute(select(T.dead_letter.c.error))).all() == []


def referral(person_id, *, source="hospital", district="frogner", at=START, referral_id=None) -> Event:
    rid = referral_id or uuid.uuid4()
    return ev(
        REFERRAL_RECEIVED,
        ReferralReceived(
            referral_id=rid,
            person_id=person_id,
            district=district,
            source=source,
            requested_services=["home-nursing"],
            received_at=at,
        ),
        rid,
    )


def discharged(person_id, admission_id, *, at=START, district="frogner") -> Event:
    return ev(
        PERSON_DISCHARGED,
        PersonDischarged(
            admission_id=admission_id,
            person_id=person_id,
            district=district,
            admitted_at=at - timedelta(days=5),
            discharged_at=at,
        ),
        admission_id,
    )


def made(person_id, decision_id, *, decided: date, end: date | None, district="frogner") -> Event:
    return ev(
        DECISION_MADE,
        DecisionMade(
            decision_id=decision_id,
            version=1,
            person_id=person_id,
            district=district,
            decision_date=decided,
            start_date=decided,
            end_date=end,
            services=[
                DecidedService(
                    service_code="15",
                    service_name="home nursing",
                    hours_per_month=Decimal("10"),
                    provider_org=PROVIDER,
                )
            ],
            made_at=datetime.combine(decided, datetime.min.time(), OSLO),
        ),
        decision_id,
    )


def masters(person_id, observed_on: date, district="frogner") -> Event:
    rid = uuid.uuid4()
    return ev(
        MASTERS_DAILY_LIFE_REPORTED,
        MastersDailyLifeReported(
            report_id=rid,
            order_id=uuid.uuid4(),
            person_id=person_id,
            provider_org=PROVIDER,
            district=district,
            observed_on=observed_on,
            reported_at=START,
        ),
        rid,
    )


async def outbox_count(client, event_type: EventType[Any]) -> int:
    async with client.app.state.ctx.sessionmaker() as s:
        return int(
            await s.scalar(
                select(func.count()).select_from(T.outbox).where(T.outbox.c.type == event_type.name)
            )
            or 0
        )


def officer(issuer, *districts: str) -> dict[str, str]:
    return auth(issuer, Role.case_officer, districts=list(districts or ["frogner"]))


async def pathways_of(client, issuer, person_id) -> list[dict[str, Any]]:
    r = await client.get("/v1/pathways", params={"person_id": str(person_id)}, headers=officer(issuer))
    assert r.status_code == 200, r.text
    return r.json()["items"]


@pytest.mark.calendar
async def test_a_hospital_referral_and_a_discharge_open_one_pathway_1_however_often_they_come(
    client, issuer, settings, bus
):
    person = uuid.uuid4()
    ref = referral(person)
    same_referral_new_id = ev(REFERRAL_RECEIVED, ReferralReceived(**ref[1]["data"]), ref[1]["subject"])
    admission = uuid.uuid4()
    await publish(client, bus, settings, ref, same_referral_new_id, discharged(person, admission), copies=2)
    found = await pathways_of(client, issuer, person)
    assert len(found) == 1
    p = found[0]
    assert (p["kind"], p["status"], p["source"]) == (1, "open", "referral.received")
    assert p["opened_on"] == DAY0.isoformat()
    assert p["planned_end"] == (DAY0 + timedelta(days=14)).isoformat()
    assert p["decision_due"] == (DAY0 + timedelta(days=14)).isoformat()
    assert p["referral_on"] == DAY0.isoformat()
    assert await outbox_count(client, PATHWAY_OPENED) == 1

    # A referral from the GP opens nothing (the case officer chooses the kind by hand).
    other = uuid.uuid4()
    await publish(client, bus, settings, referral(other, source="gp"))
    assert await pathways_of(client, issuer, other) == []


async def test_a_discharge_opens_pathway_1_once_and_a_stale_one_opens_nothing(
    client, issuer, settings, bus, clock
):
    person = uuid.uuid4()
    admission = uuid.uuid4()
    await publish(client, bus, settings, discharged(person, admission))
    [p] = await pathways_of(client, issuer, person)
    assert p["source"] == "person.discharged"
    r = await client.post(
        f"/v1/pathways/{p['id']}/closure", json={"outcome": "no_services"}, headers=officer(issuer)
    )
    assert r.status_code == 200, r.text
    # The same discharge under another event id: the fact opened its pathway already.
    again = ev(PERSON_DISCHARGED, PersonDischarged(**discharged(person, admission)[1]["data"]), admission)
    # An older discharge that arrives late (out of order) is older than the pathway: nothing.
    to_day(clock, 3)
    await publish(client, bus, settings, again)
    r = await client.post(
        "/v1/pathways",
        json={"person_id": str(person), "district": "frogner", "kind": 2},
        headers=officer(issuer),
    )
    assert r.status_code == 201, r.text
    await publish(client, bus, settings, discharged(person, uuid.uuid4(), at=START - timedelta(days=1)))
    found = await pathways_of(client, issuer, person)
    assert sorted((p["kind"], p["status"]) for p in found) == [(1, "closed"), (2, "open")]
    assert await outbox_count(client, PATHWAY_OPENED) == 2


@pytest.mark.calendar
async def test_by_hand_one_open_per_kind_no_date_before_the_referral_and_closures_once(
    client, issuer, settings, bus, clock
):
    person = uuid.uuid4()
    ref = referral(person, source="gp", at=START)
    await publish(client, bus, settings, ref)
    to_day(clock, 2)
    body = {"person_id": str(person), "district": "frogner", "kind": 2}
    # The day before the referral; a day in the future.
    r = await client.post("/v1/pathways", json={**body, "opened_on": str(day(-1))}, headers=officer(issuer))
    assert r.status_code == 422, r.text
    assert r.json()["type"].endswith("/pathway-date")
    r = await client.post("/v1/pathways", json={**body, "opened_on": str(day(3))}, headers=officer(issuer))
    assert r.status_code == 422, r.text
    headers = {**officer(issuer), "Idempotency-Key": "open-1"}
    r = await client.post("/v1/pathways", json={**body, "opened_on": str(DAY0)}, headers=headers)
    assert r.status_code == 201, r.text
    p = r.json()
    # The integrator's retry with the same key gets the same answer and opens nothing more.
    r = await client.post("/v1/pathways", json={**body, "opened_on": str(DAY0)}, headers=headers)
    assert r.status_code == 201, r.text
    assert r.headers["Idempotency-Replayed"] == "true"
    assert r.json()["id"] == p["id"]
    assert p["opened_on"] == DAY0.isoformat()
    assert p["planned_end"] == months_later(DAY0, 2).isoformat()
    assert p["referral_id"] == ref[1]["data"]["referral_id"]
    r = await client.post("/v1/pathways", json=body, headers=officer(issuer))
    assert r.status_code == 409, r.text
    # Another district's officer neither opens there nor sees it.
    r = await client.post("/v1/pathways", json=body, headers=officer(issuer, "grorud"))
    assert r.status_code == 403
    r = await client.get(f"/v1/pathways/{p['id']}", headers=officer(issuer, "grorud"))
    assert r.status_code == 404
    r = await client.post(
        f"/v1/pathways/{p['id']}/closure", json={"outcome": "reduced"}, headers=officer(issuer, "grorud")
    )
    assert r.status_code == 404
    # A manager sees every district.
    r = await client.get(f"/v1/pathways/{p['id']}", headers=auth(issuer, Role.manager))
    assert r.status_code == 200, r.text

    clock.advance(timedelta(hours=5))
    r = await client.post(
        f"/v1/pathways/{p['id']}/closure", json={"outcome": "bogus"}, headers=officer(issuer)
    )
    assert r.status_code == 422
    r = await client.post(
        f"/v1/pathways/{p['id']}/closure", json={"outcome": "unchanged"}, headers=officer(issuer)
    )
    assert r.status_code == 200, r.text
    closed = r.json()
    assert (closed["status"], closed["outcome"]) == ("closed", "unchanged")
    assert datetime.fromisoformat(closed["closed_at"]) == clock.now()
    assert closed["closed_on"] == clock.today().isoformat()
    r = await client.post(
        f"/v1/pathways/{p['id']}/closure", json={"outcome": "reduced"}, headers=officer(issuer)
    )
    assert r.status_code == 409
    assert await outbox_count(client, PATHWAY_CLOSED) == 1

    # Back-dating is a recorded correction with a reason, never a silent change.
    r = await client.post(
        f"/v1/pathways/{p['id']}/corrections",
        json={"field": "closed_on", "new_value": str(day(1)), "reason": ""},
        headers=officer(issuer),
    )
    assert r.status_code == 422
    r = await client.post(
        f"/v1/pathways/{p['id']}/corrections",
        json={"field": "closed_on", "new_value": str(day(-1)), "reason": "Call made the day before"},
        headers=officer(issuer),
    )
    assert r.status_code == 422  # before the opening and the referral
    r = await client.post(
        f"/v1/pathways/{p['id']}/corrections",
        json={
            "field": "closed_on",
            "new_value": str(day(1)),
            "reason": "Call made the day after the opening, recorded late",
        },
        headers=officer(issuer),
    )
    assert r.status_code == 201, r.text
    r = await client.get(f"/v1/pathways/{p['id']}", headers=officer(issuer))
    detail = r.json()
    assert detail["closed_on"] == day(1).isoformat()
    assert datetime.fromisoformat(detail["closed_at"]) == clock.now()  # the clock's time stays
    [c] = detail["corrections"]
    assert (c["field"], c["old_value"], c["new_value"]) == ("closed_on", closed["closed_on"], str(day(1)))

    async with client.app.state.ctx.sessionmaker() as s:
        logged = await s.scalar(
            select(func.count())
            .select_from(T.access_log)
            .where(T.access_log.c.person_id == person, T.access_log.c.resource == "pathways")
        )
    assert (logged or 0) >= 4


async def test_masters_daily_life_closes_once_and_not_a_later_pathway(client, issuer, settings, bus, clock):
    person, decision = uuid.uuid4(), uuid.uuid4()
    await publish(
        client,
        bus,
        settings,
        discharged(person, uuid.uuid4()),
        made(person, decision, decided=DAY0, end=None),
    )
    to_day(clock, 6)
    report = masters(person, day(6))
    await publish(client, bus, settings, report, copies=2)
    [p] = await pathways_of(client, issuer, person)
    assert (p["status"], p["outcome"]) == ("closed", "no_services")
    # The same fact again under another id, and the decision ended for the same reason: no second closure.
    again = ev(
        MASTERS_DAILY_LIFE_REPORTED, MastersDailyLifeReported(**report[1]["data"]), report[1]["subject"]
    )
    ended = ev(
        DECISION_ENDED,
        DecisionEnded(
            decision_id=decision,
            version=2,
            person_id=person,
            district="frogner",
            end_date=day(7),
            reason="masters_daily_life",
            ended_at=clock.now(),
        ),
        decision,
    )
    await publish(client, bus, settings, again, ended)
    assert await outbox_count(client, PATHWAY_CLOSED) == 1

    # A report observed before a new pathway opened does not close it (out of order).
    to_day(clock, 8)
    r = await client.post(
        "/v1/pathways",
        json={"person_id": str(person), "district": "frogner", "kind": 0},
        headers=officer(issuer),
    )
    assert r.status_code == 201, r.text
    assert r.json()["opened_on"] == day(8).isoformat()
    await publish(client, bus, settings, masters(person, day(5)))
    r = await client.get(f"/v1/pathways/{r.json()['id']}", headers=officer(issuer))
    assert r.json()["status"] == "open"


@pytest.mark.calendar
async def test_the_sweep_flags_day_14_two_months_and_forgotten_closures_once(
    client, issuer, settings, bus, clock
):
    ctx = client.app.state.ctx
    running, quiet, covered, reablement = uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    # Pathway 1 after hospital for a person whose services (decided before it) run on: at
    # day 14 a decision for the new needs is required. `covered` got one in the pathway.
    await publish(
        client,
        bus,
        settings,
        made(running, uuid.uuid4(), decided=day(-30), end=None),
        discharged(running, uuid.uuid4()),
        discharged(quiet, uuid.uuid4()),
        discharged(covered, uuid.uuid4()),
        made(covered, uuid.uuid4(), decided=day(1), end=None),
    )
    r = await client.post(
        "/v1/pathways",
        json={"person_id": str(reablement), "district": "grorud", "kind": 2},
        headers=officer(issuer, "grorud"),
    )
    assert r.status_code == 201, r.text
    # Pathway 2 runs two months: to the same day two months on (the month's last day when
    # that is shorter: opened 31 December, it ends 28 February).
    two_months = months_later(DAY0, 2)
    assert (r.json()["planned_end"], r.json()["decision_due"]) == (str(two_months), str(two_months))
    await publish(
        client,
        bus,
        settings,
        made(reablement, uuid.uuid4(), decided=DAY0, end=two_months, district="grorud"),
    )
    [p_running] = await pathways_of(client, issuer, running)
    assert p_running["has_active_services"] is True

    # The service's own sweep runs too (every few seconds): sweep here, then look at the tasks.
    to_day(clock, 13)
    await sweep_once(ctx)
    r = await client.get("/v1/tasks", headers=officer(issuer))
    assert r.json() == []
    to_day(clock, 14)
    await sweep_once(ctx)
    r = await client.get("/v1/tasks", headers=officer(issuer))
    assert [(t["kind"], t["person_id"], t["due"]) for t in r.json()] == [
        ("decision_required", str(running), str(day(14)))
    ]
    to_day(clock, 15)  # the pathway 1s are past their planned end
    await sweep_once(ctx)
    assert await sweep_once(ctx) == 0
    r = await client.get("/v1/tasks", headers=officer(issuer))
    assert sorted((t["kind"], t["person_id"]) for t in r.json()) == sorted(
        [
            ("decision_required", str(running)),
            ("overdue", str(running)),
            ("overdue", str(quiet)),
            ("overdue", str(covered)),
        ]
    )
    # Other districts' tasks are not shown; a manager sees them all.
    r = await client.get("/v1/tasks", headers=officer(issuer, "grorud"))
    assert r.json() == []
    r = await client.get("/v1/pathways", params={"overdue": "true"}, headers=officer(issuer))
    assert {p["person_id"] for p in r.json()["items"]} == {str(running), str(quiet), str(covered)}
    assert all(p["overdue"] for p in r.json()["items"])

    # A decision that runs on satisfies the requirement: its task closes.
    await publish(client, bus, settings, made(running, uuid.uuid4(), decided=clock.today(), end=None))
    r = await client.get("/v1/tasks", headers=officer(issuer))
    assert sorted(t["kind"] for t in r.json() if t["person_id"] == str(running)) == ["overdue"]
    # Closing the pathway closes its tasks.
    r = await client.post(
        f"/v1/pathways/{p_running['id']}/closure", json={"outcome": "increased"}, headers=officer(issuer)
    )
    assert r.status_code == 200, r.text
    r = await client.get("/v1/tasks", headers=officer(issuer))
    assert sorted(t["person_id"] for t in r.json()) == sorted([str(quiet), str(covered)])

    # Pathway 2 at two months with its decision ending then: a new decision is required.
    to_day(clock, (two_months - DAY0).days - 1)
    await sweep_once(ctx)
    r = await client.get("/v1/tasks", headers=auth(issuer, Role.manager))
    assert str(reablement) not in {t["person_id"] for t in r.json()}
    to_day(clock, (two_months - DAY0).days)
    await sweep_once(ctx)
    r = await client.get("/v1/tasks", headers=auth(issuer, Role.manager))
    kinds = {(t["kind"], t["person_id"]) for t in r.json()}
    assert ("new_decision_required", str(reablement)) in kinds
    assert ("overdue", str(reablement)) not in kinds  # on its last day, not past it
    assert await outbox_count(client, PATHWAY_TASK_OPENED) == 5


async def test_templates_default_to_stavanger_and_changes_are_new_versions(
    client, issuer, settings, bus, clock
):
    r = await client.get("/v1/pathway-templates", headers=officer(issuer))
    assert r.status_code == 200, r.text
    assert [
        (t["kind"], t["version"], t["max_days"], t["max_months"], t["decision_rule"]) for t in r.json()
    ] == [
        (0, 0, 7, None, "none"),
        (1, 0, 14, None, "required_after_days"),
        (2, 0, None, 2, "required"),
        (3, 0, None, None, "as_needed"),
    ]
    person = uuid.uuid4()
    r = await client.post(
        "/v1/pathways",
        json={"person_id": str(person), "district": "frogner", "kind": 1},
        headers=officer(issuer),
    )
    assert r.json()["planned_end"] == day(14).isoformat()
    change = {
        "kind": 1,
        "name": "Pathway 1, ten days",
        "max_days": 10,
        "decision_rule": "required_after_days",
        "decision_after_days": 10,
        "start_checklist": ["Goal agreed"],
        "end_checklist": ["Mastery evaluated"],
    }
    r = await client.put("/v1/pathway-templates", json={"templates": [change]}, headers=officer(issuer))
    assert r.status_code == 403
    r = await client.put(
        "/v1/pathway-templates",
        json={"templates": [{**change, "max_months": 1}]},
        headers=auth(issuer, Role.manager),
    )
    assert r.status_code == 422
    r = await client.put(
        "/v1/pathway-templates",
        json={"templates": [{**change, "decision_after_days": None}]},
        headers=auth(issuer, Role.manager),
    )
    assert r.status_code == 422
    r = await client.put(
        "/v1/pathway-templates", json={"templates": [change]}, headers=auth(issuer, Role.manager)
    )
    assert r.status_code == 200, r.text
    assert [(t["kind"], t["version"]) for t in r.json()] == [(0, 0), (1, 1), (2, 0), (3, 0)]
    # A pathway opened from now follows the new version; the open one keeps its deadlines.
    other = uuid.uuid4()
    r = await client.post(
        "/v1/pathways",
        json={"person_id": str(other), "district": "frogner", "kind": 1},
        headers=officer(issuer),
    )
    assert (r.json()["planned_end"], r.json()["template_version"]) == (day(10).isoformat(), 1)
    [p] = await pathways_of(client, issuer, person)
    assert (p["planned_end"], p["template_version"]) == (day(14).isoformat(), 0)


async def test_a_decision_that_overtakes_the_discharge_still_satisfies_the_requirement(
    client, issuer, settings, bus, clock
):
    ctx = client.app.state.ctx
    person = uuid.uuid4()
    # The decision, made on the day of discharge, arrives before the discharge does.
    await publish(client, bus, settings, made(person, uuid.uuid4(), decided=DAY0, end=None))
    await publish(client, bus, settings, discharged(person, uuid.uuid4()))
    [p] = await pathways_of(client, issuer, person)
    assert p["has_active_services"] is True
    assert p["decision_covered"] is True
    to_day(clock, 14)
    await sweep_once(ctx)
    r = await client.get("/v1/tasks", headers=officer(issuer))
    assert r.json() == []
