"""Worklists, named responsibility and the whole timeline, from events on the real bus.

Each worklist kind with repeated and out-of-order events (never counted twice), the
responsibility gaps, district isolation (404 or filtered) and the access-log rows.

The service runs on the suite's clock (`HJEMFLYT_TEST_TODAY`); every date and time of the
scenarios is taken from that clock too (`suite_now()`, `suite_today()`)."""

from __future__ import annotations

import json
import uuid
from datetime import date, datetime, time, timedelta
from typing import Any

import pytest
from nats.js.errors import NotFoundError
from pydantic import BaseModel
from sqlalchemy import select

from hjemflyt.pathway.db import platform_tables
from hjemflyt.pathway.main import create_app
from hjemflyt.shared.contracts.envelope import CloudEvent
from hjemflyt.shared.contracts.events import (
    DECISION_ENDED,
    DECISION_MADE,
    ORDER_CREATED,
    PERSON_ADMITTED,
    PERSON_DISCHARGED,
    TASK_CLOSED,
    TASK_OPENED,
    DecidedService,
    DecisionEnded,
    DecisionMade,
    OrderCreated,
    PersonAdmitted,
    PersonDischarged,
    TaskClosed,
    TaskOpened,
)
from hjemflyt.shared.contracts.orders import (
    ADJUSTMENT_OVERRULED,
    ORDER_ACKNOWLEDGED,
    ORDER_ADJUSTED,
    ORDER_CHANGED,
    ORDER_ENDED,
    ORDER_PAUSED,
    ORDER_RESUMED,
    AdjustmentOverruled,
    MeasureChange,
    OrderAcknowledged,
    OrderAdjusted,
    OrderChanged,
    OrderEnded,
    OrderPaused,
    OrderResumed,
)
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
    VISITS_REPORTED,
    ChangeOfNeedAnswered,
    ChangeOfNeedReported,
    ClarificationAnswered,
    ClarificationOverdue,
    ClarificationRequested,
    DeviationReported,
    MastersDailyLifeReported,
    ReportedVisit,
    StartConfirmed,
    UrgentRequestAnswered,
    UrgentRequestEscalated,
    UrgentRequestSent,
    VisitsReported,
)
from hjemflyt.shared.platform.auth import Role
from hjemflyt.shared.platform.bus import Bus
from hjemflyt.shared.platform.clock import OSLO
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
    await bus.ensure_stream("notifications")
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


def again(ev: Event) -> Event:
    """The same fact published anew (a new event id): must not count twice either."""
    event_type, body = ev
    return event_type, {**body, "id": str(uuid.uuid4())}


async def consumer_info(ctx, producer: str):
    try:
        return await ctx.bus.js.consumer_info(ctx.bus.stream_for(producer), "pathway")
    except NotFoundError as exc:
        raise AssertionError(f"pathway's consumer on {producer} not declared yet") from exc


async def publish_all(client, bus: Bus, settings, *events: Event, copies: int = 1) -> None:
    """Publish in order (each `copies` times: same event id, new message id) and wait until
    pathway acknowledged every message without a dead letter."""
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
            info = await consumer_info(ctx, producer)
            assert info.ack_floor.stream_seq >= seq
            assert info.num_ack_pending == 0

    await eventually(acknowledged)
    async with ctx.sessionmaker() as s:
        assert (await s.execute(select(T.dead_letter.c.error))).all() == []


def made(person_id, *, district="frogner", evaluation: date | None, decision_id=None, version=1) -> Event:
    decision_id = decision_id or uuid.uuid4()
    # Made some months ago and in force since (its evaluation date is the scenario's).
    decided = suite_today() - timedelta(days=120)
    return event(
        DECISION_MADE,
        DecisionMade(
            decision_id=decision_id,
            version=version,
            person_id=person_id,
            district=district,
            decision_date=decided,
            start_date=decided + timedelta(days=5),
            evaluation_date=evaluation,
            services=[
                DecidedService(
                    service_code="15", service_name="Helsetjenester i hjemmet", hours_per_month="12"
                )
            ],
            made_at=datetime.combine(decided, time(10), OSLO),
        ),
        decision_id,
    )


def decision_id_of(ev: Event) -> uuid.UUID:
    return uuid.UUID(ev[1]["data"]["decision_id"])


def order_created(person_id, decision_id, order_id, *, at: datetime, version=1) -> Event:
    return event(
        ORDER_CREATED,
        OrderCreated(
            order_id=order_id,
            decision_id=decision_id,
            decision_version=version,
            person_id=person_id,
            provider_org=PROVIDER,
            created_at=at,
        ),
        order_id,
    )


def order_acked(person_id, decision_id, order_id, *, at: datetime, version=1, district="frogner") -> Event:
    return event(
        ORDER_ACKNOWLEDGED,
        OrderAcknowledged(
            order_id=order_id,
            decision_id=decision_id,
            decision_version=version,
            person_id=person_id,
            provider_org=PROVIDER,
            district=district,
            message_id=uuid.uuid4(),
            accepted=True,
            late=False,
            acknowledged_at=at,
        ),
        order_id,
    )


def order_changed(person_id, decision_id, order_id, *, at: datetime, version: int) -> Event:
    return event(
        ORDER_CHANGED,
        OrderChanged(
            order_id=order_id,
            decision_id=decision_id,
            decision_version=version,
            person_id=person_id,
            provider_org=PROVIDER,
            district="frogner",
            changed=["hours"],
            message_id=uuid.uuid4(),
            changed_at=at,
        ),
        order_id,
    )


def order_ended(person_id, decision_id, order_id, *, at: datetime) -> Event:
    return event(
        ORDER_ENDED,
        OrderEnded(
            order_id=order_id,
            decision_id=decision_id,
            decision_version=2,
            person_id=person_id,
            provider_org=PROVIDER,
            district="frogner",
            end_date=None,
            ended_at=at,
        ),
        order_id,
    )


def start_confirmed(
    person_id, order_id, staff_id: str, *, at: datetime, district="frogner", version=1
) -> Event:
    return event(
        START_CONFIRMED,
        StartConfirmed(
            order_id=order_id,
            order_version=version,
            person_id=person_id,
            provider_org=PROVIDER,
            district=district,
            started_on=at.astimezone(OSLO).date(),
            primary_contact_staff_id=staff_id,
            confirmed_at=at,
        ),
        order_id,
    )


def con_reported(person_id, cid, *, at: datetime, district="frogner") -> Event:
    return event(
        CHANGE_OF_NEED_REPORTED,
        ChangeOfNeedReported(
            change_of_need_id=cid,
            order_id=uuid.uuid4(),
            person_id=person_id,
            provider_org=PROVIDER,
            district=district,
            proposed_hours_per_month="20",
            reported_at=at,
        ),
        cid,
    )


def con_answered(person_id, cid, *, at: datetime, district="frogner") -> Event:
    return event(
        CHANGE_OF_NEED_ANSWERED,
        ChangeOfNeedAnswered(
            change_of_need_id=cid,
            order_id=uuid.uuid4(),
            person_id=person_id,
            provider_org=PROVIDER,
            district=district,
            outcome="accepted",
            answered_at=at,
        ),
        cid,
    )


async def worklist(client, path: str, headers: dict, **params) -> dict:
    r = await client.get(f"/v1/worklists/{path}", headers=headers, params=params)
    assert r.status_code == 200, r.text
    return r.json()


async def access_rows(client) -> list[dict]:
    async with client.app.state.ctx.sessionmaker() as s:
        return [dict(r._mapping) for r in await s.execute(select(T.access_log).order_by(T.access_log.c.id))]


@pytest.mark.calendar
async def test_reassessment_due_by_district_with_isolation_and_access_log(client, issuer, settings, bus):
    today = client.app.state.ctx.clock.today()
    due, other, later, ended_p, amended_p = (uuid.uuid4() for _ in range(5))
    due_made = made(due, evaluation=today - timedelta(days=10))
    ended_made = made(ended_p, evaluation=today - timedelta(days=20))
    amended_v1 = made(amended_p, evaluation=today - timedelta(days=5))
    # A newer version moved the evaluation date on; then the older arrives late.
    amended_v2 = made(
        amended_p, evaluation=today + timedelta(days=60), decision_id=decision_id_of(amended_v1), version=2
    )
    ended = event(
        DECISION_ENDED,
        DecisionEnded(
            decision_id=decision_id_of(ended_made),
            version=2,
            person_id=ended_p,
            district="frogner",
            end_date=today - timedelta(days=1),
            reason="ended",
            ended_at=suite_now(),
        ),
        decision_id_of(ended_made),
    )
    await publish_all(
        client,
        bus,
        settings,
        due_made,
        again(due_made),
        made(other, district="gamle-oslo", evaluation=today - timedelta(days=3)),
        made(later, evaluation=today + timedelta(days=30)),
        ended,  # the end before the decision: the decision stays ended
        ended_made,
        amended_v2,
        amended_v1,
        copies=2,
    )
    frogner = auth(issuer, Role.case_officer, districts=["frogner"], subject="officer-frogner")
    body = await worklist(client, "districts/frogner", frogner)
    assert body["as_of"] == today.isoformat()
    assert [(i["kind"], i["person_id"]) for i in body["items"]] == [("reassessment_due", str(due))]
    item = body["items"][0]
    assert item["due"] == (today - timedelta(days=10)).isoformat()
    assert item["overdue_days"] == 10
    assert item["district"] == "frogner"
    assert item["reference_id"] == str(decision_id_of(due_made))

    # Another district's officer: 404 for the district, nothing from it in other lists.
    gamle = auth(issuer, Role.case_officer, districts=["gamle-oslo"], subject="officer-gamle")
    r = await client.get("/v1/worklists/districts/frogner", headers=gamle)
    assert r.status_code == 404, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    own = await worklist(client, "districts/gamle-oslo", gamle)
    assert [i["person_id"] for i in own["items"]] == [str(other)]
    # Managers follow every district up; providers and auditors have no worklists.
    manager = auth(issuer, Role.manager, subject="manager")
    assert len((await worklist(client, "districts/frogner", manager))["items"]) == 1
    for headers in (auth(issuer, Role.provider, provider_org=PROVIDER), auth(issuer, Role.auditor)):
        r = await client.get("/v1/worklists/districts/frogner", headers=headers)
        assert r.status_code == 403, r.text
    r = await client.get("/v1/worklists/nobody/x", headers=frogner)
    assert r.status_code == 422
    paths = (await client.get("/openapi.json")).json()["paths"]
    assert {"/v1/worklists/{holder}/{holder_id}", "/v1/responsibility/gaps"} <= set(paths)

    rows = await access_rows(client)
    assert {(r["actor"], r["resource"], r["person_id"], r["resource_id"]) for r in rows} == {
        ("officer-frogner", "worklist", due, "districts/frogner"),
        ("officer-gamle", "worklist", other, "districts/gamle-oslo"),
        ("manager", "worklist", due, "districts/frogner"),
    }


@pytest.mark.calendar
async def test_change_of_need_unanswered_once_whatever_the_order(client, issuer, settings, bus):
    now = suite_now()
    person = uuid.uuid4()
    answered, early_answer, open_one = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    reported = con_reported(person, open_one, at=now - timedelta(days=20))
    await publish_all(
        client,
        bus,
        settings,
        con_reported(person, answered, at=now - timedelta(days=3)),
        con_answered(person, answered, at=now - timedelta(days=1)),
        # The answer before its report (other order on the bus): kept and reconciled.
        con_answered(person, early_answer, at=now - timedelta(days=1)),
        con_reported(person, early_answer, at=now - timedelta(days=2)),
        reported,
        again(reported),
        copies=2,
    )
    integration = auth(issuer, Role.integration)
    body = await worklist(client, "districts/frogner", integration)
    items = body["items"]
    assert [(i["kind"], i["reference_id"]) for i in items] == [("change_of_need_unanswered", str(open_one))]
    assert items[0]["since"] <= items[0]["due"]
    assert date.fromisoformat(items[0]["due"]) - date.fromisoformat(items[0]["since"]) == timedelta(days=14)
    assert items[0]["overdue_days"] >= 5
    assert items[0]["details"]["provider_org"] == PROVIDER
    # Kind filter: another kind only gives nothing.
    assert (await worklist(client, "districts/frogner", integration, kind="order_unacknowledged"))[
        "items"
    ] == []


async def test_orders_unacknowledged_past_the_deadline_or_escalated(client, issuer, settings, bus):
    now = suite_now()
    long_ago, recently = now - timedelta(days=5), now - timedelta(hours=1)
    person = uuid.uuid4()
    decision = made(person, evaluation=None)
    did = decision_id_of(decision)
    silent, answered, fresh, escalated, changed, ended = (uuid.uuid4() for _ in range(6))
    silent_created = order_created(person, did, silent, at=long_ago)
    task = event(
        TASK_OPENED,
        TaskOpened(
            task_id=uuid.uuid4(),
            kind="order_unacknowledged",
            reference_id=uuid.uuid4(),
            district="frogner",
            person_id=person,
            provider_org=PROVIDER,
            order_id=escalated,
            opened_at=now,
        ),
        uuid.uuid4(),
    )
    await publish_all(
        client,
        bus,
        settings,
        silent_created,
        again(silent_created),
        # The acknowledgement before its order (they may be handled in either order).
        order_acked(person, did, answered, at=long_ago + timedelta(hours=2)),
        order_created(person, did, answered, at=long_ago),
        order_created(person, did, fresh, at=recently),
        order_created(person, did, escalated, at=recently),
        task,
        order_created(person, did, changed, at=long_ago - timedelta(days=2)),
        order_acked(person, did, changed, at=long_ago - timedelta(days=1)),
        order_changed(person, did, changed, at=long_ago, version=2),
        # A late copy of the first version changes nothing.
        order_created(person, did, changed, at=long_ago - timedelta(days=2)),
        order_created(person, did, ended, at=long_ago),
        order_ended(person, did, ended, at=long_ago + timedelta(hours=1)),
        copies=2,
    )
    integration = auth(issuer, Role.integration)
    # order.created carries no district: only the changed order (whose event names it) is
    # placed until the decision is known; then the others get the decision's.
    found = await worklist(client, "districts/frogner", integration)
    assert [i["reference_id"] for i in found["items"]] == [str(changed)]
    await publish_all(client, bus, settings, decision)
    items = (await worklist(client, "districts/frogner", integration))["items"]
    assert {i["kind"] for i in items} == {"order_unacknowledged"}
    assert sorted(i["reference_id"] for i in items) == sorted(str(o) for o in (silent, escalated, changed))
    by_ref = {i["reference_id"]: i for i in items}
    assert by_ref[str(changed)]["details"]["version"] == 2
    assert by_ref[str(escalated)]["details"]["escalated"] is True
    assert by_ref[str(silent)]["details"]["escalated"] is False
    assert [i["due"] for i in items] == sorted(i["due"] for i in items)

    # Paging with the cursor gives the same items, each once.
    pages, cursor = [], None
    while True:
        params: dict[str, Any] = {"limit": 1} | ({"cursor": cursor} if cursor else {})
        page = await worklist(client, "districts/frogner", integration, **params)
        pages += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == items
    r = await client.get(
        "/v1/worklists/districts/frogner", headers=integration, params={"cursor": "nonsense"}
    )
    assert r.status_code == 400

    # Closing the escalation task and a late acknowledgement take the order off the list.
    await publish_all(
        client,
        bus,
        settings,
        event(
            TASK_CLOSED,
            TaskClosed(
                task_id=uuid.UUID(task[1]["data"]["task_id"]),
                kind="order_unacknowledged",
                reference_id=uuid.UUID(task[1]["data"]["reference_id"]),
                district="frogner",
                person_id=person,
                resolution="answered",
                closed_at=now,
            ),
            uuid.uuid4(),
        ),
        order_acked(person, did, silent, at=now),
    )
    items = (await worklist(client, "districts/frogner", integration))["items"]
    assert [i["reference_id"] for i in items] == [str(changed)]


@pytest.mark.calendar
async def test_overdue_pathways_are_listed(client, issuer, settings, bus):
    today = client.app.state.ctx.clock.today()
    person = uuid.uuid4()
    integration = auth(issuer, Role.integration)
    opened = {}
    # Pathway 1 runs at most 14 days: opened 20 days ago it is 6 days overdue; pathway 2 is not.
    for kind, opened_on in ((1, today - timedelta(days=20)), (2, today)):
        r = await client.post(
            "/v1/pathways",
            headers=integration,
            json={"person_id": str(person), "district": "frogner", "kind": kind, "opened_on": str(opened_on)},
        )
        assert r.status_code == 201, r.text
        opened[kind] = r.json()["id"]
    items = (await worklist(client, "districts/frogner", integration))["items"]
    assert [(i["kind"], i["reference_id"], i["overdue_days"]) for i in items] == [
        ("overdue_pathway", opened[1], 6)
    ]
    assert items[0]["since"] == (today - timedelta(days=20)).isoformat()

    # pathway's own events reach the timeline from its own stream, like any producer's.
    async def on_timeline():
        r = await client.get(f"/v1/persons/{person}/timeline", headers=integration)
        found = r.json()["entries"]
        assert [(e["kind"], e["source"]) for e in found] == [("pathway-opened", "pathway")] * 2
        return found

    found = await eventually(on_timeline)
    assert {e["reference"] for e in found} == set(opened.values())


async def test_named_responsibility_gaps_and_personal_worklists(client, issuer, settings, bus):
    now = suite_now()
    today = client.app.state.ctx.clock.today()
    nobody, led, complete, done, elsewhere = (uuid.uuid4() for _ in range(5))
    complete_order, ended_order = uuid.uuid4(), uuid.uuid4()
    done_made = made(done, evaluation=None)
    led_made = made(led, evaluation=today - timedelta(days=1))
    first_contact = start_confirmed(complete, complete_order, "nurse-17", at=now - timedelta(days=3))
    await publish_all(
        client,
        bus,
        settings,
        made(nobody, evaluation=None),
        led_made,
        made(complete, evaluation=today - timedelta(days=2)),
        done_made,
        made(elsewhere, district="gamle-oslo", evaluation=None),
        event(
            DECISION_ENDED,
            DecisionEnded(
                decision_id=decision_id_of(done_made),
                version=2,
                person_id=done,
                district="frogner",
                end_date=today - timedelta(days=1),
                reason="ended",
                ended_at=now,
            ),
            decision_id_of(done_made),
        ),
        # A newer confirmation names another primary contact; the older one arrives last.
        start_confirmed(complete, complete_order, "nurse-42", at=now - timedelta(days=1), version=2),
        first_contact,
        again(first_contact),
        # A contact named on an order that has ended no longer counts.
        start_confirmed(led, ended_order, "nurse-9", at=now - timedelta(days=5)),
        order_ended(led, decision_id_of(led_made), ended_order, at=now - timedelta(days=2)),
        copies=2,
    )
    officer = auth(issuer, Role.case_officer, districts=["frogner"], subject="officer-frogner")
    for person in (led, complete):
        r = await client.put(
            f"/v1/persons/{person}/responsibility",
            headers=officer,
            json={"service_lead": "lead-7", "case_officer": "officer-frogner", "team": "team-a"},
        )
        assert r.status_code == 200, r.text
    body = r.json()
    assert body["service_lead"] == "lead-7"
    assert [c["staff_id"] for c in body["provider_contacts"]] == ["nurse-42"]
    assert body["gaps"] == []
    assert body["updated_by"] == "officer-frogner"

    # Names and identity numbers are refused as staff ids; another district's person is 404.
    for bad in ({"service_lead": "Kari Nordmann"}, {"service_lead": "01017012345"}, {}):
        r = await client.put(f"/v1/persons/{led}/responsibility", headers=officer, json=bad)
        assert r.status_code == 422, r.text
    r = await client.put(
        f"/v1/persons/{elsewhere}/responsibility", headers=officer, json={"service_lead": "x1"}
    )
    assert r.status_code == 404
    r = await client.get(f"/v1/persons/{elsewhere}/responsibility", headers=officer)
    assert r.status_code == 404
    lead_only = await client.get(f"/v1/persons/{led}/responsibility", headers=officer)
    assert lead_only.json()["gaps"] == ["primary_contact"]
    assert lead_only.json()["provider_contacts"] == []

    r = await client.get("/v1/responsibility/gaps", headers=officer)
    assert r.status_code == 200, r.text
    gaps = {g["person_id"]: g["missing"] for g in r.json()["items"]}
    assert gaps == {str(nobody): ["service_lead", "primary_contact"], str(led): ["primary_contact"]}
    integration = auth(issuer, Role.integration, subject="case-system")
    r = await client.get("/v1/responsibility/gaps", headers=integration, params={"district": "gamle-oslo"})
    assert [g["person_id"] for g in r.json()["items"]] == [str(elsewhere)]
    r = await client.get("/v1/responsibility/gaps", headers=officer, params={"district": "gamle-oslo"})
    assert r.status_code == 404
    # The municipality names a primary contact: the gap closes.
    r = await client.put(
        f"/v1/persons/{led}/responsibility",
        headers=integration,
        json={"service_lead": "lead-7", "primary_contact": "nurse-3"},
    )
    assert r.status_code == 200
    assert r.json()["gaps"] == []
    r = await client.get("/v1/responsibility/gaps", headers=officer)
    assert [g["person_id"] for g in r.json()["items"]] == [str(nobody)]

    # Personal worklists: the service lead's, the primary contact's, the case officer's, the team's.
    lead = auth(issuer, Role.service_lead, districts=["frogner"], subject="lead-7")
    items = (await worklist(client, "service-leads/lead-7", lead))["items"]
    assert sorted(i["person_id"] for i in items) == sorted([str(led), str(complete)])
    assert {i["kind"] for i in items} == {"reassessment_due"}
    items = (await worklist(client, "primary-contacts/nurse-42", lead))["items"]
    assert [i["person_id"] for i in items] == [str(complete)]
    assert (await worklist(client, "primary-contacts/nurse-17", lead))["items"] == []
    assert (await worklist(client, "primary-contacts/nurse-9", lead))["items"] == []
    items = (await worklist(client, "primary-contacts/nurse-3", lead))["items"]
    assert [i["person_id"] for i in items] == [str(led)]
    # `led` was re-set by the integration without a case officer or team (PUT replaces).
    items = (await worklist(client, "case-officers/officer-frogner", officer))["items"]
    assert [i["person_id"] for i in items] == [str(complete)]
    assert [i["person_id"] for i in (await worklist(client, "teams/team-a", officer))["items"]] == [
        str(complete)
    ]
    # Filtered to the reader's districts: another district's service lead sees nothing.
    other = auth(issuer, Role.service_lead, districts=["gamle-oslo"], subject="lead-x")
    assert (await worklist(client, "service-leads/lead-7", other))["items"] == []

    rows = await access_rows(client)
    logged = {(r["actor"], r["action"], r["resource"], r["person_id"]) for r in rows}
    assert ("officer-frogner", "update", "responsibility", led) in logged
    assert ("officer-frogner", "read", "responsibility", led) in logged
    assert ("officer-frogner", "read", "responsibility-gaps", nobody) in logged
    assert ("case-system", "read", "responsibility-gaps", elsewhere) in logged
    assert ("lead-7", "read", "worklist", complete) in logged
    assert not any(r["actor"] == "lead-x" for r in rows)


async def test_the_timeline_holds_every_event_about_the_person_in_order(client, issuer, settings, bus):
    person, neighbour = uuid.uuid4(), uuid.uuid4()
    order_id, admission = uuid.uuid4(), uuid.uuid4()
    # Three days ago, from 09:00 Oslo time on.
    base = datetime.combine(suite_today() - timedelta(days=3), time(9), OSLO)

    def t(minutes: int) -> datetime:
        return base + timedelta(minutes=minutes)

    common = {"order_id": order_id, "person_id": person, "provider_org": PROVIDER, "district": "frogner"}
    decision = made(person, evaluation=None)
    did = decision_id_of(decision)

    def visit(who: uuid.UUID, n: int) -> ReportedVisit:
        return ReportedVisit(
            visit_id=f"v-{who}-{n}",
            order_id=order_id,
            person_id=who,
            district="frogner",
            planned_start=t(100 + n),
            planned_end=t(130 + n),
            staff_id="nurse-17",
        )

    visits = event(
        VISITS_REPORTED,
        VisitsReported(
            provider_org=PROVIDER,
            batch_id="b1",
            chunk=1,
            chunks=1,
            visits=[visit(person, 1), visit(neighbour, 2), visit(person, 3)],
            reported_at=t(200),
        ),
        "b1",
    )
    cid, clar, urgent, task = uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    steps: list[Event] = [
        order_created(person, did, order_id, at=t(1)),
        order_acked(person, did, order_id, at=t(2)),
        start_confirmed(person, order_id, "nurse-17", at=t(3)),
        visits,
        event(
            DEVIATION_REPORTED,
            DeviationReported(
                deviation_id=uuid.uuid4(),
                **common,
                severity="low",
                category="medication",
                occurred_at=t(201),
                reported_at=t(202),
            ),
            "d",
        ),
        con_reported(person, cid, at=t(203)),
        con_answered(person, cid, at=t(204)),
        event(
            CLARIFICATION_REQUESTED,
            ClarificationRequested(
                clarification_id=clar,
                direction="provider_to_case_office",
                **common,
                due_date=base.date() + timedelta(days=3),
                requested_at=t(205),
            ),
            clar,
        ),
        event(
            CLARIFICATION_ANSWERED,
            ClarificationAnswered(
                clarification_id=clar,
                direction="provider_to_case_office",
                **common,
                late=False,
                answered_at=t(206),
            ),
            clar,
        ),
        event(
            CLARIFICATION_OVERDUE,
            ClarificationOverdue(
                clarification_id=uuid.uuid4(),
                direction="case_office_to_provider",
                **common,
                due_date=base.date(),
                overdue_at=t(207),
            ),
            clar,
        ),
        event(
            URGENT_REQUEST_SENT,
            UrgentRequestSent(
                urgent_request_id=urgent, **common, urgency="today", respond_by=t(300), sent_at=t(208)
            ),
            urgent,
        ),
        event(
            URGENT_REQUEST_ANSWERED,
            UrgentRequestAnswered(
                urgent_request_id=urgent, **common, accepted=False, late=False, answered_at=t(209)
            ),
            urgent,
        ),
        event(
            URGENT_REQUEST_ESCALATED,
            UrgentRequestEscalated(
                urgent_request_id=urgent, **common, reason="declined", escalated_at=t(210)
            ),
            urgent,
        ),
        event(
            TASK_OPENED,
            TaskOpened(
                task_id=task,
                kind="change_of_need",
                reference_id=cid,
                district="frogner",
                person_id=person,
                order_id=order_id,
                opened_at=t(211),
            ),
            task,
        ),
        event(
            TASK_CLOSED,
            TaskClosed(
                task_id=task,
                kind="change_of_need",
                reference_id=cid,
                district="frogner",
                person_id=person,
                resolution="Answered: accepted",
                closed_at=t(212),
            ),
            task,
        ),
        # A task about no person is not on anyone's timeline.
        event(
            TASK_OPENED,
            TaskOpened(
                task_id=uuid.uuid4(),
                kind="routine_unacknowledged",
                reference_id=uuid.uuid4(),
                district="frogner",
                opened_at=t(212),
            ),
            "r",
        ),
        event(
            MASTERS_DAILY_LIFE_REPORTED,
            MastersDailyLifeReported(
                report_id=uuid.uuid4(), **common, observed_on=base.date(), reported_at=t(213)
            ),
            "m",
        ),
        order_changed(person, did, order_id, at=t(214), version=2),
        event(
            ORDER_PAUSED,
            OrderPaused(
                order_id=order_id,
                person_id=person,
                provider_org=PROVIDER,
                district="frogner",
                admission_id=admission,
                paused_at=t(301),
            ),
            order_id,
        ),
        event(
            ORDER_RESUMED,
            OrderResumed(
                order_id=order_id,
                person_id=person,
                provider_org=PROVIDER,
                district="frogner",
                admission_id=admission,
                resumed_at=t(401),
            ),
            order_id,
        ),
        order_ended(person, did, order_id, at=t(500)),
    ]
    # Published out of time order (the notifications stream first): the timeline sorts them.
    await publish_all(client, bus, settings, *reversed(steps), copies=2)
    await publish_all(
        client,
        bus,
        settings,
        decision,
        event(
            PERSON_ADMITTED,
            PersonAdmitted(
                admission_id=admission,
                person_id=person,
                district="frogner",
                admitted_at=t(300),
                institution_kind="hospital",
            ),
            admission,
        ),
        event(
            PERSON_DISCHARGED,
            PersonDischarged(
                admission_id=admission,
                person_id=person,
                district="frogner",
                admitted_at=t(300),
                discharged_at=t(400),
            ),
            admission,
        ),
        # The same moment as the pause: kept in the order received (after it).
        event(
            TASK_OPENED,
            TaskOpened(
                task_id=uuid.uuid4(),
                kind="deviation",
                reference_id=uuid.uuid4(),
                district="frogner",
                person_id=person,
                opened_at=t(301),
            ),
            "same-moment",
        ),
    )
    officer = auth(issuer, Role.case_officer, districts=["frogner"])

    # The discharge opens a pathway (pathway's own event, published by its relay): it joins too.
    async def pathway_opened():
        r = await client.get(
            f"/v1/persons/{person}/timeline", headers=officer, params={"kind": "pathway-opened"}
        )
        entries = r.json()["entries"]
        assert len(entries) == 1, entries
        return entries[0]

    assert (await eventually(pathway_opened))["source"] == "pathway"
    r = await client.get(f"/v1/persons/{person}/timeline", headers=officer)
    assert r.status_code == 200, r.text
    entries = [e for e in r.json()["entries"] if e["source"] != "pathway"]
    assert [e["kind"] for e in entries] == [
        "decision-made",
        "order-created",
        "order-acknowledged",
        "start-confirmed",
        "visits-reported",
        "deviation-reported",
        "change-of-need-reported",
        "change-of-need-answered",
        "clarification-requested",
        "clarification-answered",
        "clarification-overdue",
        "urgent-request-sent",
        "urgent-request-answered",
        "urgent-request-escalated",
        "task-opened",
        "task-closed",
        "masters-daily-life-reported",
        "order-changed",
        "person-admitted",
        "order-paused",
        "task-opened",
        "person-discharged",
        "order-resumed",
        "order-ended",
    ]
    times = [e["occurred_at"] for e in entries]
    assert times == sorted(times)
    visits_entry = entries[4]
    assert [v["visit_id"] for v in visits_entry["details"]["visits"]] == [f"v-{person}-1", f"v-{person}-3"]
    assert all(e["district"] == "frogner" for e in entries)
    # No free text travels: the task's resolution stays with notifications.
    assert "resolution" not in entries[15]["details"]
    # The neighbour in the same visit batch has an entry of their own, with only their visit.
    r = await client.get(f"/v1/persons/{neighbour}/timeline", headers=officer)
    (only,) = r.json()["entries"]
    assert only["kind"] == "visits-reported"
    assert [v["visit_id"] for v in only["details"]["visits"]] == [f"v-{neighbour}-2"]
    # Paging by (time, arrival) gives the same entries once each.
    pages, cursor = [], None
    while True:
        params: dict[str, Any] = {"limit": 5} | ({"cursor": cursor} if cursor else {})
        page = (await client.get(f"/v1/persons/{person}/timeline", headers=officer, params=params)).json()
        pages += [e for e in page["entries"] if e["source"] != "pathway"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == entries


def adjusted(person_id, aid, *, at: datetime, district="frogner") -> Event:
    return event(
        ORDER_ADJUSTED,
        OrderAdjusted(
            order_id=uuid.uuid4(),
            decision_id=uuid.uuid4(),
            decision_version=1,
            person_id=person_id,
            provider_org=PROVIDER,
            district=district,
            adjustment_id=aid,
            service_type="hjemmesykepleie",
            measure_code="SAR",
            measure_description="Sårstell",
            change=MeasureChange(times_from=4, times_to=2, per_from="week", per_to="week"),
            reason="Såret gror.",
            adjusted_at=at,
        ),
        aid,
    )


def overruled(person_id, aid, *, at: datetime, district="frogner") -> Event:
    return event(
        ADJUSTMENT_OVERRULED,
        AdjustmentOverruled(
            adjustment_id=aid,
            order_id=uuid.uuid4(),
            decision_id=uuid.uuid4(),
            person_id=person_id,
            provider_org=PROVIDER,
            district=district,
            service_type="hjemmesykepleie",
            measure_code="SAR",
            measure_description="Sårstell",
            decided_by="case_office",
            escalation_path=["case_office"],
            message_id=uuid.uuid4(),
            overruled_at=at,
        ),
        aid,
    )


async def test_recent_adjustments_are_on_the_districts_worklist_until_overruled(
    client, issuer, settings, bus
):
    now = suite_now()
    person = uuid.uuid4()
    recent, old, overruled_one, early_overrule, elsewhere = (uuid.uuid4() for _ in range(5))
    first = adjusted(person, recent, at=now - timedelta(days=2))
    await publish_all(
        client,
        bus,
        settings,
        first,
        again(first),
        adjusted(person, old, at=now - timedelta(days=30)),
        adjusted(person, overruled_one, at=now - timedelta(days=3)),
        overruled(person, overruled_one, at=now - timedelta(days=1)),
        # The overrule before its adjustment: kept and reconciled.
        overruled(person, early_overrule, at=now - timedelta(days=1)),
        adjusted(person, early_overrule, at=now - timedelta(days=2)),
        adjusted(uuid.uuid4(), elsewhere, at=now - timedelta(days=1), district="gamle-oslo"),
        copies=2,
    )
    frogner = auth(issuer, Role.case_officer, districts=["frogner"])
    items = (await worklist(client, "districts/frogner", frogner, kind="adjustment_logged"))["items"]
    assert [(i["kind"], i["reference_id"]) for i in items] == [("adjustment_logged", str(recent))]
    (item,) = items
    assert date.fromisoformat(item["due"]) - date.fromisoformat(item["since"]) == timedelta(days=14)
    assert item["overdue_days"] == 0
    assert item["details"]["measure_code"] == "SAR"
    assert item["details"]["change"]["times_to"] == 2
    assert item["details"]["reason"] == "Såret gror."
    assert (await worklist(client, "districts/gamle-oslo", auth(issuer, Role.integration)))["items"][0][
        "reference_id"
    ] == str(elsewhere)
