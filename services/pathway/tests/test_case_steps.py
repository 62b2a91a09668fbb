"""Every step of a person's case on their timeline, and pathway's read model of their
decisions: assessment's events (referral to appeal) and notifications' orders, published on
the real bus; redelivered copies, stale versions and other districts' readers included.

The case is dated relative to the suite's today (`HJEMFLYT_TEST_TODAY`): it starts ten days
before it, so every step arrives after the day it is dated (as a consumer catching up sees
them), and the service, on the suite's clock, lives on the same days as the scenario."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
from nats.js.errors import NotFoundError
from pydantic import BaseModel
from sqlalchemy import func, select

from hjemflyt.pathway.db import platform_tables
from hjemflyt.pathway.main import create_app
from hjemflyt.pathway.timeline import events as timeline_events
from hjemflyt.pathway.timeline.rules import EntryKind, moment
from hjemflyt.shared.contracts.envelope import CloudEvent
from hjemflyt.shared.contracts.events import (
    APPEAL_DECIDED,
    APPEAL_RECEIVED,
    APPLICATION_REGISTERED,
    ASSESSMENT_COMPLETED,
    DECISION_ACTIVATED,
    DECISION_AMENDED,
    DECISION_ENDED,
    DECISION_MADE,
    ORDER_CREATED,
    PROVIDER_CHOSEN,
    REFERRAL_RECEIVED,
    AppealDecided,
    AppealReceived,
    ApplicationRegistered,
    AssessmentCompleted,
    DecidedService,
    DecisionActivated,
    DecisionAmended,
    DecisionEnded,
    DecisionMade,
    OrderCreated,
    ProviderChosen,
    ReferralReceived,
)
from hjemflyt.shared.contracts.pathway import PATHWAY_TASK_OPENED, PathwayTaskOpened
from hjemflyt.shared.contracts.registry import REGISTRY, EventType
from hjemflyt.shared.platform.auth import Role
from hjemflyt.shared.platform.bus import Bus
from hjemflyt.shared.platform.clock import OSLO
from hjemflyt.shared.testing import auth, eventually, running_service, suite_now, suite_today

PROVIDER = "812345672"
T = platform_tables
Event = tuple[EventType[Any], dict[str, Any]]


# Day 0 of the case: ten days before the suite's today. Pathway 1, opened from its hospital
# referral, runs 14 days: no deadline task of it falls due while these tests run.
DAY0 = suite_today() - timedelta(days=10)


def day(n: int) -> date:
    """The case's day n (a legal date)."""
    return DAY0 + timedelta(days=n)


def at(n: int, hour: int, minute: int = 0) -> datetime:
    """`hour:minute` Oslo time on the case's day n, as the UTC instant events carry."""
    return datetime.combine(day(n), time(hour, minute), OSLO).astimezone(UTC)


def start_of(d: date) -> datetime:
    """Midnight in Oslo opening the legal date `d` (UTC)."""
    return datetime.combine(d, time(0), OSLO).astimezone(UTC)


def instant(value: str) -> datetime:
    return datetime.fromisoformat(value)


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


def event(event_type: EventType[Any], data: BaseModel, subject: object, *, recorded: datetime) -> Event:
    return event_type, CloudEvent(
        id=uuid.uuid4(),
        source=f"/hjemflyt/{event_type.service}",
        type=event_type.name,
        subject=str(subject),
        time=recorded,
        dataschema=event_type.dataschema,
        tenant="0301",
        data=data.model_dump(mode="json"),
    ).model_dump(mode="json")


async def consumer_info(ctx, producer: str):
    try:
        return await ctx.bus.js.consumer_info(ctx.bus.stream_for(producer), "pathway")
    except NotFoundError as exc:
        raise AssertionError(f"pathway's consumer on {producer} not declared yet") from exc


async def publish_all(client, bus: Bus, settings, *events: Event, copies: int = 1) -> None:
    """Publish in order (each `copies` times, as redeliveries: same event id, new message id)
    and wait until pathway has acknowledged every message."""
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


def service(
    code: str, service_type: str, hours: str, provider: str | None = PROVIDER, **kw
) -> DecidedService:
    return DecidedService(
        service_code=code,
        service_name=f"service {service_type}",
        service_type=service_type,
        hours_per_month=hours,
        provider_org=provider,
        **kw,
    )


def made(person_id, decision_id, *, version=1, district="frogner", evaluation: date | None = None) -> Event:
    return event(
        DECISION_MADE,
        DecisionMade(
            decision_id=decision_id,
            version=version,
            person_id=person_id,
            district=district,
            decision_date=day(3),
            start_date=day(11),
            evaluation_date=evaluation or day(100),
            services=[
                service("15", "home-nursing", "12", provider=None),
                service("1", "practical-help", "0", provider=None, outcome="refused"),
            ],
            made_at=at(3, 10, version),
            legal_basis=["hol-3-2-6a"],
        ),
        decision_id,
        recorded=at(3, 10, version),
    )


def amended(person_id, decision_id, version: int, evaluation: date, district="frogner") -> Event:
    return event(
        DECISION_AMENDED,
        DecisionAmended(
            decision_id=decision_id,
            version=version,
            person_id=person_id,
            district=district,
            start_date=day(11),
            evaluation_date=evaluation,
            services=[service("15", "home-nursing", "16")],
            changes=["services[home-nursing].hours_per_month"],
            amended_at=at(6, 11, version),
        ),
        decision_id,
        recorded=at(6, 11, version),
    )


def ended(person_id, decision_id, version: int, district="frogner") -> Event:
    return event(
        DECISION_ENDED,
        DecisionEnded(
            decision_id=decision_id,
            version=version,
            person_id=person_id,
            district=district,
            end_date=day(41),
            reason="masters_daily_life",
            ended_at=at(8, 15),
        ),
        decision_id,
        recorded=at(8, 15),
    )


def case(person_id: uuid.UUID, district: str = "frogner") -> dict[str, Any]:
    """A whole case, referral to ended decision, as assessment and notifications publish it."""
    referral_id, application_id, assessment_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    decision_id, appeal_id, order_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    steps = {
        "referral": event(
            REFERRAL_RECEIVED,
            ReferralReceived(
                referral_id=referral_id,
                person_id=person_id,
                district=district,
                source="hospital",
                requested_services=["home-nursing"],
                received_at=at(0, 9),
            ),
            referral_id,
            recorded=at(0, 9),
        ),
        # Registered the same (Oslo) day: placed by its record time, after the referral.
        "application": event(
            APPLICATION_REGISTERED,
            ApplicationRegistered(
                application_id=application_id,
                person_id=person_id,
                district=district,
                referral_id=referral_id,
                services=["home-nursing", "practical-help"],
                received_date=day(0),
                deadline_date=day(30),
            ),
            application_id,
            recorded=at(0, 9, 30),
        ),
        "assessment": event(
            ASSESSMENT_COMPLETED,
            AssessmentCompleted(
                assessment_id=assessment_id,
                person_id=person_id,
                district=district,
                application_id=application_id,
                visit_date=day(1),
                iplos_version="2025",
                scores={"bathing": 4, "dressing": 3},
                goals=2,
                completed_at=at(1, 16),
            ),
            assessment_id,
            recorded=at(1, 16),
        ),
        "made": made(person_id, decision_id, district=district),
        # Chosen on a later day than it was recorded: placed at the start of that day.
        "chosen": event(
            PROVIDER_CHOSEN,
            ProviderChosen(
                decision_id=decision_id,
                person_id=person_id,
                district=district,
                service_type="home-nursing",
                service_code="15",
                provider_org=PROVIDER,
                informed_date=day(3),
                chosen_date=day(4),
            ),
            decision_id,
            recorded=at(5, 12),
        ),
        "order": event(
            ORDER_CREATED,
            OrderCreated(
                order_id=order_id,
                decision_id=decision_id,
                decision_version=1,
                person_id=person_id,
                provider_org=PROVIDER,
                created_at=at(5, 12, 1),
            ),
            order_id,
            recorded=at(5, 12, 1),
        ),
        "appeal": event(
            APPEAL_RECEIVED,
            AppealReceived(
                appeal_id=appeal_id,
                decision_id=decision_id,
                person_id=person_id,
                district=district,
                received_date=day(5),
                late=False,
            ),
            appeal_id,
            recorded=at(5, 14),
        ),
        "amended": amended(person_id, decision_id, 2, day(73), district),
        "appeal-decided": event(
            APPEAL_DECIDED,
            AppealDecided(
                appeal_id=appeal_id,
                decision_id=decision_id,
                person_id=person_id,
                district=district,
                stage="municipality",
                outcome="changed",
                decided_date=day(6),
                forwarded=False,
            ),
            appeal_id,
            recorded=at(6, 13),
        ),
        "ended": ended(person_id, decision_id, 2, district),
    }
    return {"steps": steps, "decision_id": decision_id, "order_id": order_id, "appeal_id": appeal_id}


# pathway's own entries (a referral opens a pathway) arrive when its outbox relay publishes
# them; these tests are about the case steps, so they read the other kinds.
CASE_KINDS = [
    k.value for k in EntryKind if k.value not in {"pathway-opened", "pathway-closed", "pathway-task-opened"}
]


async def timeline(client, person_id, headers, **params) -> dict[str, Any]:
    params.setdefault("kind", CASE_KINDS)
    r = await client.get(f"/v1/persons/{person_id}/timeline", headers=headers, params=params)
    assert r.status_code == 200, r.text
    return r.json()


async def decisions(client, person_id, headers) -> list[dict[str, Any]]:
    r = await client.get(f"/v1/persons/{person_id}/decisions", headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


async def test_every_step_of_a_case_is_on_the_timeline_once(client, issuer, settings, bus):
    person_id = uuid.uuid4()
    flow = case(person_id)
    steps = flow["steps"]
    # Every event twice: the second copy is a redelivery (same CloudEvent id) and adds nothing.
    await publish_all(client, bus, settings, *steps.values(), copies=2)
    officer = auth(issuer, Role.case_officer, districts=["frogner"])
    body = await timeline(client, person_id, officer)
    entries = body["entries"]
    assert body["next_cursor"] is None
    assert [e["kind"] for e in entries] == [
        "referral-received",
        "application-registered",
        "assessment-completed",
        "decision-made",
        "provider-chosen",
        "order-created",
        "appeal-received",
        "decision-amended",
        "appeal-decided",
        "decision-ended",
    ]
    async with client.app.state.ctx.sessionmaker() as s:
        # pathway's own events (from its relay) have inbox rows of their own.
        others = T.inbox.c.type.not_like("no.hjemflyt.pathway.%")
        assert await s.scalar(select(func.count()).select_from(T.inbox).where(others)) == len(steps)
    by_kind = {e["kind"]: e for e in entries}
    assert {e["source"] for e in entries} == {"assessment", "notifications"}
    assert by_kind["order-created"]["source"] == "notifications"

    # occurred_at comes from the payload; a date-only step recorded that day keeps its record
    # time, one recorded on a later day sits at the start of its date (Oslo).
    assert instant(by_kind["referral-received"]["occurred_at"]) == at(0, 9)
    assert instant(by_kind["application-registered"]["occurred_at"]) == at(0, 9, 30)
    assert instant(by_kind["provider-chosen"]["occurred_at"]) == start_of(day(4))
    assert instant(by_kind["decision-ended"]["occurred_at"]) == at(8, 15)

    decision_id = str(flow["decision_id"])
    assert by_kind["decision-made"]["reference"] == decision_id
    assert by_kind["decision-amended"]["reference"] == decision_id
    assert by_kind["decision-ended"]["reference"] == decision_id
    assert by_kind["provider-chosen"]["reference"] == decision_id
    assert by_kind["appeal-received"]["reference"] == str(flow["appeal_id"])
    assert by_kind["order-created"]["reference"] == str(flow["order_id"])

    assert by_kind["referral-received"]["details"] == {
        "from": "hospital",
        "requested_services": ["home-nursing"],
    }
    assert by_kind["application-registered"]["details"]["deadline_date"] == day(30).isoformat()
    assessment = by_kind["assessment-completed"]["details"]
    assert assessment == {
        "application_id": steps["application"][1]["data"]["application_id"],
        "visit_date": day(1).isoformat(),
        "iplos_version": "2025",
        "goals": 2,
    }  # the function scores stay in assessment
    decision = by_kind["decision-made"]["details"]
    assert decision["decision_version"] == 1
    assert decision["legal_basis"] == ["hol-3-2-6a"]
    assert [(s["service_type"], s["outcome"], s["provider_org"]) for s in decision["services"]] == [
        ("home-nursing", "granted", None),
        ("practical-help", "refused", None),
    ]
    assert by_kind["decision-amended"]["details"]["changes"] == ["services[home-nursing].hours_per_month"]
    assert by_kind["decision-ended"]["details"] == {
        "decision_version": 2,
        "end_date": day(41).isoformat(),
        "reason": "masters_daily_life",
        "superseded_by": None,
    }
    assert by_kind["provider-chosen"]["details"]["provider_org"] == PROVIDER
    assert by_kind["appeal-decided"]["details"]["outcome"] == "changed"
    assert by_kind["order-created"]["details"] == {
        "decision_id": decision_id,
        "decision_version": 1,
        "provider_org": PROVIDER,
    }

    # Filter by kind (repeatable), and page with the cursor.
    only = await timeline(client, person_id, officer, kind=["decision-made", "decision-ended"])
    assert [e["kind"] for e in only["entries"]] == ["decision-made", "decision-ended"]
    pages, cursor = [], None
    while True:
        params: dict[str, Any] = {"limit": 3} | ({"cursor": cursor} if cursor else {})
        page = await timeline(client, person_id, officer, **params)
        pages.append(page["entries"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert [len(p) for p in pages] == [3, 3, 3, 1]
    assert [e for p in pages for e in p] == entries
    r = await client.get(f"/v1/persons/{person_id}/timeline", headers=officer, params={"kind": "gossip"})
    assert r.status_code == 422
    r = await client.get(f"/v1/persons/{person_id}/timeline", headers=officer, params={"cursor": "nonsense"})
    assert r.status_code == 400
    assert r.json()["type"].endswith("/invalid-cursor")


async def test_the_timeline_and_decisions_are_scoped_to_the_persons_district(client, issuer, settings, bus):
    person_id = uuid.uuid4()
    flow = case(person_id, district="frogner")
    steps = flow["steps"]
    # The order may be handled before its decision: it comes on another stream.
    await publish_all(client, bus, settings, steps["order"])
    await publish_all(client, bus, settings, steps["referral"], steps["made"])
    frogner = auth(issuer, Role.case_officer, districts=["frogner"], subject="officer-frogner")
    gamle = auth(issuer, Role.case_officer, districts=["gamle-oslo"], subject="officer-gamle")
    assert len((await timeline(client, person_id, frogner))["entries"]) == 3
    # The order carries no district: it takes its decision's.
    assert {e["kind"]: e["district"] for e in (await timeline(client, person_id, frogner))["entries"]} == {
        "referral-received": "frogner",
        "decision-made": "frogner",
        "order-created": "frogner",
    }
    assert (await timeline(client, person_id, gamle))["entries"] == []
    assert await decisions(client, person_id, gamle) == []
    assert [d["district"] for d in await decisions(client, person_id, frogner)] == ["frogner"]
    assert (await timeline(client, person_id, auth(issuer, Role.integration)))["entries"]

    # The person moves: a new referral in gamle-oslo. The timeline follows the person to the
    # new district (whole history, for continuity) and leaves the old one.
    moved = event(
        REFERRAL_RECEIVED,
        ReferralReceived(
            referral_id=uuid.uuid4(),
            person_id=person_id,
            district="gamle-oslo",
            source="gp",
            requested_services=["home-nursing"],
            received_at=at(7, 10),
        ),
        "moved",
        recorded=at(7, 10),
    )
    await publish_all(client, bus, settings, moved)
    assert len((await timeline(client, person_id, gamle))["entries"]) == 4
    assert (await timeline(client, person_id, frogner))["entries"] == []
    # Decisions stay with the district that made them.
    assert await decisions(client, person_id, gamle) == []
    assert len(await decisions(client, person_id, frogner)) == 1

    # Reads that showed something are access-logged, empty ones are not.
    async with client.app.state.ctx.sessionmaker() as s:
        rows = (await s.execute(select(T.access_log.c.actor, T.access_log.c.resource))).all()
    assert ("officer-gamle", "timeline") in rows
    assert ("officer-gamle", "decisions") not in rows
    assert ("officer-frogner", "decisions") in rows

    # timeline:read is needed for both.
    for path in (f"/v1/persons/{person_id}/timeline", f"/v1/persons/{person_id}/decisions"):
        r = await client.get(path, headers=auth(issuer, Role.manager))
        assert r.status_code == 403, r.text
        assert (await client.get(path)).status_code == 401


@pytest.mark.calendar
async def test_a_pathway_opened_late_sits_on_its_referrals_day_and_the_timeline_follows_a_move(
    client, issuer, settings, bus
):
    # A hospital referral dated ten days ago reaches pathway only now (its consumer catching
    # up): pathway 1 opens dated the referral's day, and its `pathway-opened` entry belongs on
    # that day, not at the moment pathway recorded it. Placed at that moment (today), it would
    # be the person's latest entry and hold the timeline in the old district: a move to
    # another district, dated before today but after the referral, would not be followed.
    person_id = uuid.uuid4()
    referral_id = uuid.uuid4()
    referred = event(
        REFERRAL_RECEIVED,
        ReferralReceived(
            referral_id=referral_id,
            person_id=person_id,
            district="frogner",
            source="hospital",
            requested_services=["home-nursing"],
            received_at=at(0, 9),
        ),
        referral_id,
        recorded=at(0, 9),
    )
    await publish_all(client, bus, settings, referred)
    integration = auth(issuer, Role.integration)

    async def pathway_opened() -> dict[str, Any]:
        # pathway-opened is written when pathway consumes its own pathway.opened event,
        # after the referral has been acknowledged: wait for it.
        entries = (await timeline(client, person_id, integration, kind="pathway-opened"))["entries"]
        assert len(entries) == 1, entries
        return entries[0]

    opened = await eventually(pathway_opened)
    assert (opened["district"], opened["details"]["opened_on"]) == ("frogner", day(0).isoformat())
    # On the referral's day (at its start: pathway recorded it on a later day), before the
    # service's now by days.
    assert instant(opened["occurred_at"]) == start_of(day(0))
    assert instant(opened["occurred_at"]).astimezone(OSLO).date() == day(0) < suite_today()
    frogner = auth(issuer, Role.case_officer, districts=["frogner"])
    gamle = auth(issuer, Role.case_officer, districts=["gamle-oslo"])
    kinds = ["referral-received", "pathway-opened"]
    assert len((await timeline(client, person_id, frogner, kind=kinds))["entries"]) == 2

    # Three days before today the person was referred in gamle-oslo (from the GP: no new
    # pathway). That is later than anything dated on the old district: the timeline follows.
    moved_id = uuid.uuid4()
    moved = event(
        REFERRAL_RECEIVED,
        ReferralReceived(
            referral_id=moved_id,
            person_id=person_id,
            district="gamle-oslo",
            source="gp",
            requested_services=["home-nursing"],
            received_at=at(7, 10),
        ),
        moved_id,
        recorded=at(7, 10),
    )
    await publish_all(client, bus, settings, moved)
    assert (await timeline(client, person_id, frogner, kind=kinds))["entries"] == []
    found = (await timeline(client, person_id, gamle, kind=kinds))["entries"]
    assert sorted((e["kind"], e["district"]) for e in found) == [
        ("pathway-opened", "frogner"),
        ("referral-received", "frogner"),
        ("referral-received", "gamle-oslo"),
    ]
    assert found[-1]["reference"] == str(moved_id)

    # The old district's pathway is still open; today pathway's sweep flags it there. Its task
    # says nothing new about where the person lives: the timeline stays with the new district.
    task_id = uuid.uuid4()
    flagged = event(
        PATHWAY_TASK_OPENED,
        PathwayTaskOpened(
            task_id=task_id,
            kind="overdue",
            pathway_id=uuid.UUID(opened["reference"]),
            person_id=person_id,
            district="frogner",
            pathway_kind=1,
            due_date=suite_today(),
            opened_at=suite_now(),
        ),
        task_id,
        recorded=suite_now(),
    )
    await publish_all(client, bus, settings, flagged)
    assert (await timeline(client, person_id, frogner, kind=kinds))["entries"] == []
    tasks = (await timeline(client, person_id, gamle, kind="pathway-task-opened"))["entries"]
    assert [(e["reference"], e["district"]) for e in tasks] == [(str(task_id), "frogner")]


async def test_the_decisions_read_model_follows_versions_and_stays_ended(client, issuer, settings, bus):
    person_id, decision_id, late_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    reader = auth(issuer, Role.service_lead, districts=["frogner"])
    await publish_all(
        client,
        bus,
        settings,
        made(person_id, decision_id),
        amended(person_id, decision_id, 3, day(56)),
        amended(person_id, decision_id, 2, day(73)),  # stale: arrives after version 3
    )
    [d] = await decisions(client, person_id, reader)
    assert (d["decision_id"], d["version"], d["status"], d["evaluation_date"], d["district"]) == (
        str(decision_id),
        3,
        "amended",
        day(56).isoformat(),
        "frogner",
    )
    assert d["start_date"] == day(11).isoformat()

    # Ended is final: no version arriving afterwards opens it again, stale or not.
    await publish_all(
        client,
        bus,
        settings,
        ended(person_id, decision_id, 3),
        amended(person_id, decision_id, 2, day(73)),
        amended(person_id, decision_id, 4, day(132)),
        made(person_id, decision_id, version=5),
    )
    [d] = await decisions(client, person_id, reader)
    assert (d["version"], d["status"], d["end_date"], d["end_reason"]) == (
        3,
        "ended",
        day(41).isoformat(),
        "masters_daily_life",
    )
    assert d["evaluation_date"] == day(56).isoformat()

    # An end handled before the decision it ends (redelivered out of order) holds as well.
    await publish_all(client, bus, settings, ended(person_id, late_id, 1), made(person_id, late_id))
    found = {x["decision_id"]: x for x in await decisions(client, person_id, reader)}
    assert found[str(late_id)]["status"] == "ended"
    assert found[str(late_id)]["start_date"] is None
    # Every one of those events is still on the timeline: it records what happened.
    body = await timeline(client, person_id, reader, kind="decision-amended")
    assert [e["details"]["decision_version"] for e in body["entries"]] == [2, 2, 3, 4]


def test_a_date_only_step_is_placed_by_its_record_time_on_that_day_only():
    recorded = datetime(2026, 3, 29, 22, 30, tzinfo=UTC)  # 00:30 on the 30th in Oslo (summer time)
    assert moment(date(2026, 3, 30), recorded) == recorded
    assert moment(date(2026, 3, 29), recorded) == datetime(2026, 3, 28, 23, 0, tzinfo=UTC)
    assert moment(date(2026, 7, 1), recorded) == datetime(2026, 6, 30, 22, 0, tzinfo=UTC)
    assert moment(date(2026, 1, 15), recorded) == datetime(2026, 1, 14, 23, 0, tzinfo=UTC)
    # Before the start of the day it is dated: recorded in advance, still placed on its date.
    assert moment(date(2026, 4, 2), recorded - timedelta(days=1)) == datetime(2026, 4, 1, 22, 0, tzinfo=UTC)
    # Where calendars break: the year's turn, a leap day, and both daylight-saving switches
    # (Oslo's midnight is 23:00 UTC in winter, 22:00 in summer).
    new_year = datetime(2026, 12, 31, 23, 30, tzinfo=UTC)  # 00:30 on 1 January 2027 in Oslo
    assert moment(date(2027, 1, 1), new_year) == new_year
    assert moment(date(2026, 12, 31), new_year) == datetime(2026, 12, 30, 23, 0, tzinfo=UTC)
    assert moment(date(2028, 2, 29), new_year) == datetime(2028, 2, 28, 23, 0, tzinfo=UTC)
    assert moment(date(2028, 3, 1), new_year) == datetime(2028, 2, 29, 23, 0, tzinfo=UTC)
    spring = datetime(2027, 3, 28, 0, 30, tzinfo=UTC)  # 01:30 CET, half an hour before the switch
    assert moment(date(2027, 3, 28), spring) == spring
    assert moment(date(2027, 3, 28), spring - timedelta(hours=2)) == datetime(2027, 3, 27, 23, 0, tzinfo=UTC)
    assert moment(date(2027, 3, 29), spring) == datetime(2027, 3, 28, 22, 0, tzinfo=UTC)
    autumn = datetime(2027, 10, 30, 22, 20, tzinfo=UTC)  # 00:20 CEST on the 31st: UTC is a day behind
    assert moment(date(2027, 10, 31), autumn) == autumn
    assert moment(date(2027, 10, 30), autumn) == datetime(2027, 10, 29, 22, 0, tzinfo=UTC)
    assert moment(date(2027, 11, 1), autumn) == datetime(2027, 10, 31, 23, 0, tzinfo=UTC)


def test_every_kind_has_a_handler():
    subscriptions = (
        timeline_events.ASSESSMENT
        + timeline_events.NOTIFICATIONS
        + timeline_events.PATHWAY
        + timeline_events.BUDGET
    )
    handled = {s.event_type.name for s in subscriptions}
    assert len(handled) == len(EntryKind) == 42


def test_every_pseudonymous_event_about_a_person_is_on_the_timeline():
    # An event type added later with a person_id (or visits of persons) fails this until handled.
    about_persons = {
        name
        for name, t in REGISTRY.items()
        if not t.personal_data and ("person_id" in t.model.model_fields or "visits" in t.model.model_fields)
    }
    subscriptions = (
        timeline_events.ASSESSMENT
        + timeline_events.NOTIFICATIONS
        + timeline_events.PATHWAY
        + timeline_events.BUDGET
    )
    assert about_persons == {s.event_type.name for s in subscriptions}


async def test_a_decision_starting_on_its_start_date_is_on_the_timeline(client, issuer, settings, bus):
    person_id, decision_id = uuid.uuid4(), uuid.uuid4()
    activated = event(
        DECISION_ACTIVATED,
        DecisionActivated(
            decision_id=decision_id,
            version=3,
            person_id=person_id,
            district="frogner",
            start_date=day(11),
            activated_at=at(11, 0, 5),
        ),
        decision_id,
        recorded=at(11, 0, 5),
    )
    await publish_all(client, bus, settings, made(person_id, decision_id), activated)
    officer = auth(issuer, Role.case_officer, districts=["frogner"])
    entries = (await timeline(client, person_id, officer))["entries"]
    assert [e["kind"] for e in entries] == ["decision-made", "decision-activated"]
    started = entries[-1]
    assert started["reference"] == str(decision_id)
    assert instant(started["occurred_at"]) == at(11, 0, 5)
    assert started["details"] == {"decision_version": 3, "start_date": day(11).isoformat()}
