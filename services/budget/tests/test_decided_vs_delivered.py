"""Decided versus delivered over the real bus: decisions (`decision.made`, `decision.ended`)
and visits (`visits.reported`) go in as events; the month is read over HTTP per person and
provider, a private provider's statement withholds the part beyond a person's decision until
the contract owner approves it, and deliveries far from the decision are flagged once
(`budget.delivery.flagged`): when the statement is issued, and by the month-end sweep for
providers without statements.

The service runs on a clock standing at the suite's today; the month looked at is the
suite's month, and the clock is moved past its end (the month is over: a statement can be
issued, "far below" is judged) and then past the sweep's grace days (the sweep judges it)."""

from __future__ import annotations

import calendar
import json
import uuid
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import pytest
from nats.js.errors import NotFoundError
from pydantic import BaseModel
from sqlalchemy import select

from hjemflyt.budget.db import platform_tables
from hjemflyt.budget.delivered.service import GRACE_DAYS
from hjemflyt.budget.delivered.worker import sweep_once
from hjemflyt.budget.hours.repository import HoursRepository
from hjemflyt.budget.main import create_app
from hjemflyt.shared.contracts.budget import DeliveryFlagged
from hjemflyt.shared.contracts.envelope import CloudEvent
from hjemflyt.shared.contracts.events import (
    DECISION_ENDED,
    DECISION_MADE,
    PROVIDER_REGISTERED,
    DecidedService,
    DecisionEnded,
    DecisionMade,
    OrderedMeasure,
    ProviderKind,
    ProviderRegistered,
)
from hjemflyt.shared.contracts.registry import EventType
from hjemflyt.shared.contracts.reports import VISITS_REPORTED, ReportedVisit, VisitsReported
from hjemflyt.shared.platform.auth import Role
from hjemflyt.shared.platform.bus import Bus
from hjemflyt.shared.platform.clock import OSLO
from hjemflyt.shared.testing import (
    auth,
    eventually,
    fixed_clock,
    move_clock_to,
    running_service,
    suite_now,
    suite_today,
)

A = "812345672"  # private: settled by the hour
B = "974778807"  # municipal: no statements, flagged by the sweep
T = platform_tables
NURSING = "home-nursing"
Event = tuple[EventType[Any], dict[str, Any]]

Y, M = suite_today().year, suite_today().month
MONTH = f"{Y:04d}-{M:02d}"
DAYS = calendar.monthrange(Y, M)[1]
FIRST, LAST = date(Y, M, 1), date(Y, M, DAYS)

P, R, S, Q, X = (uuid.uuid4() for _ in range(5))  # persons
ORDER = uuid.uuid4()


@pytest.fixture
def clock():
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


def envelope(event_type: EventType[Any], data: BaseModel, subject: str) -> Event:
    return event_type, CloudEvent(
        id=uuid.uuid4(),
        source=f"/hjemflyt/{event_type.service}",
        type=event_type.name,
        subject=subject,
        time=suite_now(),
        dataschema=event_type.dataschema,
        tenant="0301",
        data=data.model_dump(mode="json"),
    ).model_dump(mode="json")


async def publish_all(client, bus: Bus, settings, *events: Event) -> None:
    last: dict[str, int] = {}
    for event_type, body in events:
        ack = await bus.js.publish(
            event_type.subject(settings.bus_namespace, settings.tenant),
            json.dumps(body).encode(),
            headers={"Nats-Msg-Id": f"{body['id']}-{uuid.uuid4()}"},
        )
        last[event_type.service] = ack.seq
    ctx = client.app.state.ctx

    async def acknowledged():
        for producer, seq in last.items():
            try:
                info = await ctx.bus.js.consumer_info(ctx.bus.stream_for(producer), "budget")
            except NotFoundError as exc:
                raise AssertionError("budget's consumer not declared yet") from exc
            assert info.ack_floor.stream_seq >= seq
            assert info.num_ack_pending == 0

    await eventually(acknowledged)
    async with ctx.sessionmaker() as s:
        assert (await s.execute(select(T.dead_letter.c.error))).all() == []


def registered(org: str, kind: ProviderKind) -> Event:
    data = ProviderRegistered(
        provider_org=org,
        name=f"Provider {org}",
        kind=kind,
        service_codes=["15"],
        districts=["frogner", "sagene"],
        version=1,
        service_types=[NURSING],
        contract_prices_ore_per_hour={NURSING: 65_000} if kind == ProviderKind.private else {},
        agreement_valid_from=date(Y - 1, 1, 1),
        agreement_valid_to=None,
    )
    return envelope(PROVIDER_REGISTERED, data, org)


def decision(
    person_id: uuid.UUID,
    decision_id: uuid.UUID,
    service: DecidedService,
    district: str = "frogner",
) -> Event:
    data = DecisionMade(
        decision_id=decision_id,
        version=1,
        person_id=person_id,
        district=district,
        decision_date=FIRST - timedelta(days=7),
        start_date=FIRST,
        services=[service],
        made_at=suite_now(),
    )
    return envelope(DECISION_MADE, data, str(decision_id))


def ended(person_id: uuid.UUID, decision_id: uuid.UUID) -> Event:
    data = DecisionEnded(
        decision_id=decision_id,
        version=1,
        person_id=person_id,
        district="frogner",
        end_date=LAST,
        reason="expired",
        ended_at=suite_now(),
    )
    return envelope(DECISION_ENDED, data, str(decision_id))


def hours(
    h: str, org: str, measures: list[OrderedMeasure] | None = None, service_type: str = NURSING
) -> DecidedService:
    return DecidedService(
        service_code="15",
        service_name="Home nursing",
        service_type=service_type,
        hours_per_month=Decimal(h),
        provider_org=org,
        measures=measures or [],
    )


def frame(lo: str, hi: str, org: str) -> DecidedService:
    return DecidedService(
        service_code="15",
        service_name="Home nursing",
        service_type=NURSING,
        hours_per_month=Decimal(hi),
        provider_org=org,
        scope_kind="frame",
        frame_min_hours=Decimal(lo),
        frame_max_hours=Decimal(hi),
    )


def visits(
    org: str,
    person_id: uuid.UUID,
    n: int,
    minutes: int = 60,
    measures: list[str] | None = None,
    district="frogner",
    tag: str = "",
) -> Event:
    out = []
    for i in range(n):
        start = datetime.combine(date(Y, M, 1 + i % DAYS), time(9 + i // DAYS), OSLO)
        out.append(
            ReportedVisit(
                visit_id=f"{tag}{person_id}-{i}",
                order_id=ORDER,
                person_id=person_id,
                district=district,
                planned_start=start,
                planned_end=start + timedelta(minutes=60),
                service_type=NURSING,
                actual_start=start,
                actual_end=start + timedelta(minutes=minutes),
                staff_id="emp-1",
                measures_done=measures or [],
            )
        )
    data = VisitsReported(
        provider_org=org, batch_id=uuid.uuid4().hex, chunk=1, chunks=1, visits=out, reported_at=suite_now()
    )
    return envelope(VISITS_REPORTED, data, f"{org}/{data.batch_id}/1")


async def flagged(client) -> list[DeliveryFlagged]:
    async with client.app.state.ctx.sessionmaker() as s:
        rows = (
            await s.execute(select(T.outbox.c.envelope).where(T.outbox.c.type.like("%delivery.flagged%")))
        ).scalars()
        return [DeliveryFlagged.model_validate(json.loads(e)["data"]) for e in rows]


@pytest.mark.calendar
async def test_decided_against_delivered_flags_and_the_part_beyond_the_decision_withheld(
    client, clock, issuer, settings, bus
):
    wound = OrderedMeasure(code="SAR", description="Sårstell", times=3, per="week")
    medicines = OrderedMeasure(code="MED", description="Oppfølging av faste medisiner", times=1, per="day")
    dr = uuid.uuid4()
    await publish_all(
        client,
        bus,
        settings,
        registered(A, ProviderKind.private),
        registered(B, ProviderKind.municipal),
        # P: 12 h with measures, 8 h delivered (not far below: half is 6 h).
        decision(P, uuid.uuid4(), hours("12", A, [wound, medicines])),
        # R: 10 h, ended since (on the month's last day); 12 h delivered: above the decision.
        decision(R, dr, hours("10", A)),
        ended(R, dr),
        # Q: a frame of 4-10 h at the municipal unit, 2 h delivered: under the frame's minimum.
        decision(Q, uuid.uuid4(), frame("4", "10", B)),
        # X: 5 h in another district, 1 h delivered: far below.
        decision(X, uuid.uuid4(), hours("5", A), district="sagene"),
        # S: no decision budget knows of (e.g. an assignment before one): never flagged.
    )
    await publish_all(
        client,
        bus,
        settings,
        visits(A, P, 6, measures=["SAR", "MED"]),
        visits(A, P, 2, measures=["MED"], tag="b-"),
        visits(A, R, 12),
        visits(B, Q, 2),
        visits(A, X, 1, district="sagene"),
        visits(A, S, 3),
    )

    manager = auth(issuer, Role.manager)
    # While the month runs, only above the decision shows.
    r = await client.get("/v1/decided-vs-delivered", params={"month": MONTH}, headers=manager)
    assert {x["person_id"]: x["flags"] for x in r.json() if x["flags"]} == {str(R): ["above_hours"]}

    move_clock_to(clock, LAST + timedelta(days=1))  # the month is over, the sweep's grace days not
    r = await client.get("/v1/decided-vs-delivered", params={"month": MONTH}, headers=manager)
    assert r.status_code == 200, r.text
    rows = {(x["person_id"], x["provider_org"]): x for x in r.json()}
    assert set(rows) == {(str(p), org) for p, org in [(P, A), (R, A), (Q, B), (X, A), (S, A)]}

    p = rows[(str(P), A)]
    assert (p["decided_hours"], p["delivered_hours"], p["difference_hours"], p["flags"]) == (
        "12.00",
        "8.0000",
        "-4.0000",
        [],
    )
    assert p["scope_kinds"] == ["hours_per_month"]
    ordered_sar = (Decimal(3) * DAYS / 7).quantize(Decimal("0.01"))
    assert [(m["code"], m["ordered_times"], m["done_times"]) for m in p["measures"]] == [
        ("MED", f"{DAYS}.00", 8),
        ("SAR", str(ordered_sar), 6),
    ]
    rr = rows[(str(R), A)]
    # The decision ended after the month: its hours still count for the month.
    assert (rr["decided_hours"], rr["limit_hours"], rr["delivered_hours"], rr["flags"]) == (
        "10.00",
        "11.54",
        "12.0000",
        ["above_hours"],
    )
    q = rows[(str(Q), B)]
    assert (q["decided_hours"], q["frame_min_hours"], q["frame_max_hours"], q["flags"]) == (
        "10.00",
        "4.00",
        "10.00",
        ["below_frame_min"],
    )
    assert rows[(str(X), A)]["flags"] == ["below_half_hours"]
    s = rows[(str(S), A)]
    assert (s["decided_hours"], s["difference_hours"], s["flags"], s["delivered_hours"]) == (
        None,
        None,
        [],
        "3.0000",
    )

    # Filters, the per-person view, and who may look.
    r = await client.get(
        "/v1/decided-vs-delivered", params={"month": MONTH, "provider_org": B}, headers=manager
    )
    assert [x["person_id"] for x in r.json()] == [str(Q)]
    officer = auth(issuer, Role.case_officer, districts=["frogner"])
    r = await client.get("/v1/decided-vs-delivered", params={"month": MONTH}, headers=officer)
    assert r.status_code == 200, r.text
    assert str(X) not in {x["person_id"] for x in r.json()}  # sagene is not theirs
    r = await client.get(
        "/v1/decided-vs-delivered", params={"month": MONTH, "district": "sagene"}, headers=officer
    )
    assert r.status_code == 404
    r = await client.get(f"/v1/persons/{R}/decided-vs-delivered", params={"month": MONTH}, headers=officer)
    assert [x["flags"] for x in r.json()] == [["above_hours"]]
    r = await client.get(f"/v1/persons/{X}/decided-vs-delivered", params={"month": MONTH}, headers=officer)
    assert r.json() == []
    r = await client.get(
        "/v1/decided-vs-delivered",
        params={"month": MONTH},
        headers=auth(issuer, Role.provider, provider_org=A),
    )
    assert r.status_code == 403
    assert r.headers["content-type"] == "application/problem+json"
    r = await client.get("/v1/decided-vs-delivered", params={"month": "2024-13"}, headers=manager)
    assert r.status_code == 422
    async with client.app.state.ctx.sessionmaker() as session:
        logged = (
            await session.execute(
                select(T.access_log.c.person_id).where(T.access_log.c.resource == "decided-vs-delivered")
            )
        ).scalars()
        assert R in set(logged)

    # The statement: R's 12th hour crosses the limit of 11.54 h (10 h + the weekday swing):
    # 11 h used, 1 938 s of room (limit 41 538 s), so 1 662 s of it are beyond the decision.
    r = await client.post("/v1/settlements", json={"provider_org": A, "month": MONTH}, headers=manager)
    assert r.status_code == 201, r.text
    draft = r.json()
    lines = (await client.get(f"/v1/settlements/{draft['id']}/lines", headers=manager)).json()["items"]
    beyond = [x for x in lines if x["beyond_decision_ore"]]
    assert [
        (x["person_id"], x["beyond_decision_hours"], x["amount_ore"], x["beyond_decision_ore"])
        for x in beyond
    ] == [
        (str(R), "0.4617", 34_992, 30_008)  # 1 938 s * 650 kr/h = 349.92 kr; the rest withheld
    ]
    assert all(not x["beyond_decision_approved"] for x in lines)
    # P 8 h, R 12 h, X 1 h, S 3 h (no decision: paid as delivered) = 24 h * 650 kr, less 300.08 kr.
    assert (draft["amount_ore"], draft["withheld_ore"]) == (24 * 65_000 - 30_008, 30_008)

    # The contract owner approves R's extra hour on the draft: paid.
    r = await client.post(
        f"/v1/settlements/{draft['id']}/beyond-decision-approvals",
        json={"person_id": str(P), "note": "nothing beyond"},
        headers=manager,
    )
    assert r.status_code == 422
    assert r.json()["type"].endswith("/nothing-beyond-decision")
    for _ in range(2):  # approving twice changes nothing
        r = await client.post(
            f"/v1/settlements/{draft['id']}/beyond-decision-approvals",
            json={"person_id": str(R), "note": "Confirmed by the case office: wound worsened"},
            headers=manager,
        )
        assert r.status_code == 200, r.text
        assert (r.json()["amount_ore"], r.json()["withheld_ore"]) == (24 * 65_000, 0)
    lines = (await client.get(f"/v1/settlements/{draft['id']}/lines", headers=manager)).json()["items"]
    [approved] = [x for x in lines if x["beyond_decision_ore"]]
    assert (approved["amount_ore"], approved["beyond_decision_approved"]) == (65_000, True)
    r = await client.post(
        f"/v1/settlements/{draft['id']}/beyond-decision-approvals",
        json={"person_id": str(R), "note": "x"},
        headers=auth(issuer, Role.provider, provider_org=A),
    )
    assert r.status_code == 403

    # Issued: the month is closed for A, and A's flags are raised (not Q's: B has no statement,
    # and the sweep has not judged the month yet).
    r = await client.post(f"/v1/settlements/{draft['id']}/issue", headers=manager)
    assert r.status_code == 200, r.text
    assert (r.json()["amount_ore"], r.json()["withheld_ore"]) == (24 * 65_000, 0)
    assert sorted((f.person_id, f.kind) for f in await flagged(client)) == sorted(
        [(R, "above_hours"), (X, "below_half_hours")]
    )
    r = await client.post(
        f"/v1/settlements/{draft['id']}/beyond-decision-approvals",
        json={"person_id": str(R), "note": "late"},
        headers=manager,
    )
    assert r.status_code == 409

    # Within the grace days the sweep leaves the month alone; past them it judges it once, for
    # every provider: the municipal unit's flag is raised, A's are not raised again.
    ctx = client.app.state.ctx
    assert await sweep_once(ctx) == 0
    move_clock_to(clock, LAST + timedelta(days=1 + GRACE_DAYS))

    async def swept() -> None:
        await sweep_once(ctx)  # or the service's own sweep, every few seconds
        assert {f.person_id for f in await flagged(client) if f.month == MONTH} == {R, X, Q}

    await eventually(swept)
    assert await sweep_once(ctx) == 0
    flags = {f.person_id: f for f in await flagged(client) if f.month == MONTH}
    assert len(await flagged(client)) == 3
    fq = flags[Q]
    assert (fq.kind, fq.provider_org, fq.district, fq.month) == ("below_frame_min", B, "frogner", MONTH)
    assert (fq.decided_hours, fq.frame_min_hours, fq.frame_max_hours, fq.delivered_hours) == (
        Decimal(10),
        Decimal(4),
        Decimal(10),
        Decimal(2),
    )
    fr = flags[R]
    assert (fr.decided_hours, fr.delivered_hours, fr.frame_min_hours) == (Decimal(10), Decimal(12), None)
    # No personal data beyond the pseudonymous id: the payload is the contract's fields.
    async with ctx.sessionmaker() as session:
        bodies = (
            await session.execute(
                select(T.outbox.c.envelope).where(T.outbox.c.type.like("%delivery.flagged%"))
            )
        ).scalars()
        for body in bodies:
            envelope_ = json.loads(body)
            assert set(envelope_["data"]) == set(DeliveryFlagged.model_fields)
            assert envelope_["subject"] == envelope_["data"]["person_id"]


@pytest.mark.calendar
async def test_a_running_month_shows_above_but_not_yet_below(client, issuer, settings, bus):
    today = suite_today()
    month = f"{today.year:04d}-{today.month:02d}"
    person = uuid.uuid4()
    data = DecisionMade(
        decision_id=uuid.uuid4(),
        version=1,
        person_id=person,
        district="frogner",
        decision_date=today,
        start_date=date(today.year, today.month, 1),
        services=[hours("40", A), hours("1", B, service_type="practical-help")],
        made_at=suite_now(),
    )
    await publish_all(
        client,
        bus,
        settings,
        registered(A, ProviderKind.private),
        envelope(DECISION_MADE, data, str(data.decision_id)),
    )
    started = datetime.combine(date(today.year, today.month, 1), time(8), OSLO)
    long_visit = ReportedVisit(
        visit_id="long",
        order_id=ORDER,
        person_id=person,
        district="frogner",
        planned_start=started,
        planned_end=started + timedelta(hours=2),
        service_type=NURSING,
        actual_start=started,
        actual_end=started + timedelta(hours=2),
    )
    batch = VisitsReported(
        provider_org=B, batch_id="b", chunk=1, chunks=1, visits=[long_visit], reported_at=suite_now()
    )
    await publish_all(client, bus, settings, envelope(VISITS_REPORTED, batch, f"{B}/b/1"))
    r = await client.get(
        "/v1/decided-vs-delivered", params={"month": month}, headers=auth(issuer, Role.manager)
    )
    rows = {x["provider_org"]: x for x in r.json()}
    # 40 h at A, nothing delivered yet: not flagged while the month runs.
    assert (rows[A]["decided_hours"], rows[A]["delivered_hours"], rows[A]["flags"]) == ("40.00", "0.0000", [])
    # 1 h at B, 2 h delivered on the first: above the decision already.
    assert (rows[B]["delivered_hours"], rows[B]["flags"]) == ("2.0000", ["above_hours"])
    assert await sweep_once(client.app.state.ctx) == 0  # the running month is never swept


async def test_the_measures_running_decisions_order_for_a_period(client, settings, bus):
    """What an activity-model unit paid on ordered measures is allocated from."""
    wound = OrderedMeasure(code="SAR", description="Sårstell", times=3, per="week")
    free_text = OrderedMeasure(description="Samtale", times=2, per="month")
    await publish_all(client, bus, settings, decision(P, uuid.uuid4(), hours("12", A, [wound, free_text])))
    async with client.app.state.ctx.sessionmaker() as session:
        repo = HoursRepository(session)
        # From the month's first day for 28 days: 12 wound care visits; the uncoded one has no norm.
        got = await repo.ordered_measures(FIRST, FIRST + timedelta(days=28))
        assert got == {A: {"SAR": Decimal(12)}}
        assert await repo.ordered_measures(FIRST - timedelta(days=1), FIRST + timedelta(days=28)) == {}
        [row] = await repo.for_person(P)
        assert row.measures == [wound.model_dump(mode="json"), free_text.model_dump(mode="json")]
