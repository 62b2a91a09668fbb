"""Delivered visits, pauses and monthly provider settlement: events go over the real bus
(`visits.reported`, `provider.registered`, `person.admitted`/`discharged`), statements are
drawn up, read, issued and disputed over HTTP. Amounts are computed by hand in the comments.

Months are counted back from the suite's today (a statement closes a month that is over), so
the module runs on any day; the tests marked `calendar` are run again on the days calendars
break (31 December, 1 January, 29 February, the daylight-saving days), near midnight in Oslo."""

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
from sqlalchemy import func, select

from hjemflyt.budget.db import platform_tables
from hjemflyt.budget.deliveries.models import DeliveredVisit
from hjemflyt.budget.deliveries.repository import actual_hours, paused_months
from hjemflyt.budget.main import create_app
from hjemflyt.shared.contracts.budget import SettlementIssued
from hjemflyt.shared.contracts.envelope import CloudEvent
from hjemflyt.shared.contracts.events import (
    ADMISSION_CANCELLED,
    ADMISSION_REOPENED,
    PERSON_ADMITTED,
    PERSON_DISCHARGED,
    PROVIDER_REGISTERED,
    AdmissionCancelled,
    AdmissionReopened,
    PersonAdmitted,
    PersonDischarged,
    ProviderKind,
    ProviderRegistered,
)
from hjemflyt.shared.contracts.registry import EventType
from hjemflyt.shared.contracts.reports import VISITS_REPORTED, ReportedVisit, VisitsReported
from hjemflyt.shared.platform.auth import Role
from hjemflyt.shared.platform.bus import Bus
from hjemflyt.shared.platform.clock import OSLO
from hjemflyt.shared.testing import auth, eventually, running_service, suite_now, suite_today

A = "812345672"  # private
B = "900000006"  # private
MUNICIPAL = "974778807"
T = platform_tables
Event = tuple[EventType[Any], dict[str, Any]]
NURSING, HELP = "home-nursing", "practical-help"
PRICES = {NURSING: 65_000, HELP: 65_001}  # 650.00 and 650.01 kr per hour


def months_back(n: int) -> tuple[int, int]:
    """(year, month) `n` months before the suite's month in Oslo (negative: ahead)."""
    today = suite_today()
    y, m0 = divmod(today.year * 12 + today.month - 1 - n, 12)
    return y, m0 + 1


def last_day(y: int, m: int) -> date:
    return date(y, m, calendar.monthrange(y, m)[1])


def key(y: int, m: int) -> str:
    return f"{y:04d}-{m:02d}"


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


def envelope(
    event_type: EventType[Any], data: BaseModel, subject: str, event_id: uuid.UUID | None = None
) -> Event:
    return event_type, CloudEvent(
        id=event_id or uuid.uuid4(),
        source=f"/hjemflyt/{event_type.service}",
        type=event_type.name,
        subject=subject,
        time=suite_now(),
        dataschema=event_type.dataschema,
        tenant="0301",
        data=data.model_dump(mode="json"),
    ).model_dump(mode="json")


async def publish_all(client, bus: Bus, settings, *events: Event, copies: int = 1) -> None:
    """Publish in order (each `copies` times, as redeliveries: same event id, new message id)
    and wait until budget has acknowledged every message on each stream."""
    last: dict[str, int] = {}
    for event_type, body in events:
        for copy in range(copies):
            ack = await bus.js.publish(
                event_type.subject(settings.bus_namespace, settings.tenant),
                json.dumps(body).encode(),
                headers={"Nats-Msg-Id": f"{body['id']}-{copy}-{uuid.uuid4()}"},
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


def registered(
    org: str,
    kind: ProviderKind = ProviderKind.private,
    version: int = 1,
    prices: dict[str, int] | None = None,
) -> Event:
    data = ProviderRegistered(
        provider_org=org,
        name=f"Provider {org}",
        kind=kind,
        service_codes=["15", "1"],
        districts=["frogner"],
        version=version,
        service_types=[NURSING, HELP],
        contract_prices_ore_per_hour=PRICES if prices is None else prices,
        agreement_valid_from=date(suite_today().year - 1, 1, 1),  # before every month settled here
        agreement_valid_to=None,
    )
    return envelope(PROVIDER_REGISTERED, data, org)


ORDER, PERSON = uuid.uuid4(), uuid.uuid4()


def visit(
    visit_id: str,
    day: date,
    minutes: int,
    service_type: str | None = NURSING,
    *,
    at: time = time(9),
    cancelled: bool = False,
    person_id: uuid.UUID = PERSON,
    order_id: uuid.UUID = ORDER,
) -> ReportedVisit:
    start = datetime.combine(day, at, OSLO)
    return ReportedVisit(
        visit_id=visit_id,
        order_id=order_id,
        person_id=person_id,
        district="frogner",
        planned_start=start,
        planned_end=start + timedelta(minutes=60),
        service_type=service_type,
        actual_start=None if cancelled else start,
        actual_end=None if cancelled else start + timedelta(minutes=minutes),
        staff_id=None if cancelled else "emp-1",
        cancelled=cancelled,
        cancel_cause="user_cancelled" if cancelled else None,
    )


def reported(
    org: str, *visits: ReportedVisit, batch: str | None = None, event_id: uuid.UUID | None = None
) -> Event:
    data = VisitsReported(
        provider_org=org,
        batch_id=batch or uuid.uuid4().hex,
        chunk=1,
        chunks=1,
        visits=list(visits),
        reported_at=suite_now(),
    )
    return envelope(VISITS_REPORTED, data, f"{org}/{data.batch_id}/1", event_id)


def manager(issuer) -> dict[str, str]:
    return auth(issuer, Role.manager)


def provider(issuer, org: str) -> dict[str, str]:
    return auth(issuer, Role.provider, provider_org=org)


async def draft(client, issuer, org: str, month: str) -> dict[str, Any]:
    r = await client.post(
        "/v1/settlements", json={"provider_org": org, "month": month}, headers=manager(issuer)
    )
    assert r.status_code == 201, r.text
    return r.json()


async def issue(client, issuer, settlement_id: str) -> dict[str, Any]:
    r = await client.post(f"/v1/settlements/{settlement_id}/issue", headers=manager(issuer))
    assert r.status_code == 200, r.text
    return r.json()


async def lines(client, headers, settlement_id: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2}
        if cursor:
            params["cursor"] = cursor
        r = await client.get(f"/v1/settlements/{settlement_id}/lines", params=params, headers=headers)
        assert r.status_code == 200, r.text
        out += r.json()["items"]
        cursor = r.json()["next_cursor"]
        if cursor is None:
            return out


@pytest.mark.calendar
async def test_a_statement_line_by_line_with_hand_computed_amounts(client, issuer, settings, bus):
    y, m = months_back(1)
    month = key(y, m)
    d = date(y, m, 3)
    ny, nm = months_back(0)
    await publish_all(
        client,
        bus,
        settings,
        registered(A),
        reported(
            A,
            # 3 visits of 1 h 30 min at 650.00 kr/h: 3 x 975.00 = 2,925.00 kr. The first is
            # planned 00:30 on the month's first day in Oslo (the month before in UTC): the month's.
            visit("v1", date(y, m, 1), 90, at=time(0, 30)),
            visit("v2", d, 90, at=time(14)),
            visit("v3", d + timedelta(days=1), 90),
            # 30 min at 650.01 kr/h = 325.005 kr: half an øre, rounded up to 325.01 kr.
            visit("v4", d + timedelta(days=2), 30, HELP),
            visit("v5", d + timedelta(days=3), 45, None),  # no service type: unpriced
            # No price for it: unpriced. Late on the month's last day (28th to 31st): the month's.
            visit("v6", last_day(y, m), 60, "meals", at=time(23, 30)),
            visit("v7", d + timedelta(days=5), 0, cancelled=True),  # not delivered: not on it
            # Planned 00:30 on the next month's first day in Oslo (the month's last day in UTC):
            # the next month's, not on this statement.
            visit("v8", date(ny, nm, 1), 60, at=time(0, 30)),
        ),
    )
    settlement = await draft(client, issuer, A, month)
    assert (settlement["status"], settlement["lines"], settlement["amount_ore"]) == (
        "draft",
        6,
        292_500 + 32_501,
    )

    # The provider does not see a draft; it is the contract owner's working copy.
    r = await client.get(f"/v1/settlements/{settlement['id']}", headers=provider(issuer, A))
    assert r.status_code == 404, r.text

    issued = await issue(client, issuer, settlement["id"])
    assert (issued["status"], issued["amount_ore"]) == ("issued", 325_001)
    got = await lines(client, provider(issuer, A), settlement["id"])
    assert [
        (
            x["line_no"],
            x["kind"],
            x["visit_id"],
            x["service_type"],
            x["actual_hours"],
            x["price_ore_per_hour"],
        )
        for x in got
    ] == [
        (1, "visit", "v1", NURSING, "1.5000", 65_000),
        (2, "visit", "v2", NURSING, "1.5000", 65_000),
        (3, "visit", "v3", NURSING, "1.5000", 65_000),
        (4, "visit", "v4", HELP, "0.5000", 65_001),
        (5, "visit", "v5", None, "0.7500", None),
        (6, "visit", "v6", "meals", "1.0000", None),
    ]
    assert [x["amount_ore"] for x in got] == [97_500, 97_500, 97_500, 32_501, 0, 0]
    assert [x["unpriced_reason"] for x in got] == [None] * 4 + ["no-service-type", "no-contract-price"]
    first = got[0]
    assert (first["visit_date"], first["order_id"], first["person_id"], first["planned_hours"]) == (
        date(y, m, 1).isoformat(),
        str(ORDER),
        str(PERSON),
        "1.0000",
    )
    assert sum(x["amount_ore"] for x in got) == issued["amount_ore"]

    r = await client.get("/v1/settlements", headers=provider(issuer, A))
    assert [s["id"] for s in r.json()["items"]] == [settlement["id"]]

    async with client.app.state.ctx.sessionmaker() as s:
        [envelope_] = (
            await s.execute(select(T.outbox.c.envelope).where(T.outbox.c.type.like("%settlement.issued%")))
        ).scalars()
    event = SettlementIssued.model_validate(json.loads(envelope_)["data"])
    assert (event.provider_org, event.month, event.lines, event.amount_ore) == (A, month, 6, 325_001)

    # Issued is final: no change of any kind.
    for method, path in [
        ("POST", f"/v1/settlements/{settlement['id']}/issue"),
        ("POST", f"/v1/settlements/{settlement['id']}/calculation"),
        ("DELETE", f"/v1/settlements/{settlement['id']}"),
    ]:
        r = await client.request(method, path, headers=manager(issuer))
        assert r.status_code == 409, r.text
        assert r.headers["content-type"] == "application/problem+json"
    r = await client.post(
        "/v1/settlements", json={"provider_org": A, "month": month}, headers=manager(issuer)
    )
    assert (r.status_code, r.json()["settlement_id"]) == (409, settlement["id"])


async def test_redelivered_and_repeated_visits_change_nothing(client, issuer, settings, bus):
    y, m = months_back(1)
    d = date(y, m, 10)
    same = reported(A, visit("r1", d, 90), visit("r2", d, 60, HELP))
    await publish_all(client, bus, settings, registered(A), same, copies=3)
    # The same visits again in another batch: the same content, nothing changes.
    await publish_all(client, bus, settings, reported(A, visit("r1", d, 90)), registered(A))
    async with client.app.state.ctx.sessionmaker() as s:
        assert await s.scalar(select(func.count()).select_from(DeliveredVisit)) == 2
        hours = await actual_hours(s, year=y, months=[m])
    assert hours == {(PERSON, A): {m: Decimal("2.5000")}}
    settlement = await draft(client, issuer, A, key(y, m))
    # 1.5 h x 650.00 + 1 h x 650.01 = 975.00 + 650.01
    assert (settlement["lines"], settlement["amount_ore"]) == (2, 97_500 + 65_001)


@pytest.mark.calendar
async def test_a_closed_month_never_changes_and_corrections_go_on_the_next_statement(
    client, issuer, settings, bus
):
    y0, m0 = months_back(2)
    y1, m1 = months_back(1)
    d0, d1 = date(y0, m0, 5), date(y1, m1, 5)
    await publish_all(
        client, bus, settings, registered(A), reported(A, visit("c1", d0, 90), visit("c2", d0, 60))
    )
    # While the month is open a re-reported visit replaces the earlier one.
    await publish_all(client, bus, settings, reported(A, visit("c2", d0, 30)))
    closed = await issue(client, issuer, (await draft(client, issuer, A, key(y0, m0)))["id"])
    assert closed["amount_ore"] == 97_500 + 32_500  # 1.5 h and 0.5 h at 650.00
    await publish_all(client, bus, settings, reported(A, visit("c5", d1, 30)))

    await publish_all(
        client,
        bus,
        settings,
        reported(A, visit("c1", d0, 120)),  # reported again with 2 h: 1,300.00 kr instead of 975.00
        reported(A, visit("c3", d0, 60)),  # reported late for the closed month
        reported(A, visit("c4", d1, 60)),  # this month's
        reported(A, visit("c2", d0, 0, cancelled=True)),  # cancelled afterwards: paid back
        reported(A, visit("c5", d0, 30)),  # moved from this month into the closed one
    )
    # The closed statement and the month's actual hours are as settled.
    assert [x["amount_ore"] for x in await lines(client, manager(issuer), closed["id"])] == [97_500, 32_500]
    r = await client.get(f"/v1/settlements/{closed['id']}", headers=manager(issuer))
    assert r.json() == closed
    async with client.app.state.ctx.sessionmaker() as s:
        assert (await actual_hours(s, year=y0, months=[m0]))[(PERSON, A)] == {m0: Decimal("2.0000")}

    following = await issue(client, issuer, (await draft(client, issuer, A, key(y1, m1)))["id"])
    got = await lines(client, manager(issuer), following["id"])
    assert [
        (x["kind"], x["visit_id"], x["corrects_month"], x["previously_settled_ore"], x["amount_ore"])
        for x in got
    ] == [
        ("visit", "c4", None, None, 65_000),
        ("correction", "c1", key(y0, m0), 97_500, 130_000 - 97_500),
        ("correction", "c2", key(y0, m0), 32_500, -32_500),
        ("correction", "c3", key(y0, m0), 0, 65_000),
        ("correction", "c5", key(y0, m0), 0, 32_500),
    ]
    assert got[2]["unpriced_reason"] == "cancelled"
    assert following["amount_ore"] == 65_000 + 32_500 - 32_500 + 65_000 + 32_500

    # Settled corrections are paid once: a later statement does not carry them again.
    y2, m2 = months_back(0)
    current = await draft(client, issuer, A, key(y2, m2))
    assert current["lines"] == 0
    r = await client.post(f"/v1/settlements/{current['id']}/issue", headers=manager(issuer))
    assert (r.status_code, r.json()["type"]) == (409, "https://hjemflyt.no/problems/month-not-ended")


async def test_disputes_are_answered_and_accepted_ones_adjust_the_next_statement(
    client, issuer, settings, bus
):
    y0, m0 = months_back(2)
    y1, m1 = months_back(1)
    d0 = date(y0, m0, 7)
    await publish_all(
        client,
        bus,
        settings,
        registered(A),
        registered(B),
        reported(A, visit("d1", d0, 90), visit("d2", d0, 60)),
        reported(B, visit("d1", d0, 60)),
    )
    sa = await issue(client, issuer, (await draft(client, issuer, A, key(y0, m0)))["id"])
    sb = await issue(client, issuer, (await draft(client, issuer, B, key(y0, m0)))["id"])

    r = await client.post(
        f"/v1/settlements/{sa['id']}/disputes",
        json={"line_no": 1, "reason": "Our records say 2 hours", "expected_amount_ore": 130_000},
        headers=provider(issuer, A),
    )
    assert r.status_code == 201, r.text
    accepted = r.json()
    assert (accepted["status"], accepted["line_no"]) == ("open", 1)
    r = await client.post(
        f"/v1/settlements/{sa['id']}/disputes",
        json={"line_no": 1, "reason": "again"},
        headers=provider(issuer, A),
    )
    assert r.status_code == 409, r.text
    r = await client.post(
        f"/v1/settlements/{sa['id']}/disputes",
        json={"line_no": 2, "reason": "Wrong person"},
        headers=provider(issuer, A),
    )
    rejected = r.json()
    r = await client.post(
        f"/v1/settlements/{sa['id']}/disputes",
        json={"line_no": 9, "reason": "x"},
        headers=provider(issuer, A),
    )
    assert r.status_code == 404, r.text

    # Provider B sees nothing of A's: statement, lines, disputes, one dispute, disputing.
    pb = provider(issuer, B)
    for path in [
        f"/v1/settlements/{sa['id']}",
        f"/v1/settlements/{sa['id']}/lines",
        f"/v1/settlements/{sa['id']}/disputes",
        f"/v1/settlements/{sa['id']}/disputes/{accepted['id']}",
    ]:
        r = await client.get(path, headers=pb)
        assert r.status_code == 404, (path, r.text)
    r = await client.post(
        f"/v1/settlements/{sa['id']}/disputes", json={"line_no": 1, "reason": "x"}, headers=pb
    )
    assert r.status_code == 404, r.text
    r = await client.get(f"/v1/settlements/{sb['id']}/disputes/{accepted['id']}", headers=pb)
    assert r.status_code == 404, r.text
    r = await client.get("/v1/settlements", headers=pb)
    assert [s["id"] for s in r.json()["items"]] == [sb["id"]]

    # Only the contract owner answers; only the provider disputes.
    path = f"/v1/settlements/{sa['id']}/disputes/{accepted['id']}/answer"
    r = await client.post(path, json={"outcome": "accepted", "answer": "ok"}, headers=provider(issuer, A))
    assert r.status_code == 403, r.text
    r = await client.post(
        f"/v1/settlements/{sa['id']}/disputes", json={"line_no": 1, "reason": "x"}, headers=manager(issuer)
    )
    assert r.status_code == 403, r.text

    r = await client.post(
        path, json={"outcome": "accepted", "answer": "The log shows 2 hours."}, headers=manager(issuer)
    )
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["adjustment_ore"]) == ("accepted", 130_000 - 97_500)
    r = await client.post(
        path, json={"outcome": "rejected", "answer": "changed my mind"}, headers=manager(issuer)
    )
    assert r.status_code == 409, r.text
    r = await client.post(
        f"/v1/settlements/{sa['id']}/disputes/{rejected['id']}/answer",
        json={"outcome": "accepted", "answer": "ok"},
        headers=manager(issuer),
    )
    assert (r.status_code, r.json()["type"]) == (422, "https://hjemflyt.no/problems/adjustment-required")
    r = await client.post(
        f"/v1/settlements/{sa['id']}/disputes/{rejected['id']}/answer",
        json={"outcome": "rejected", "answer": "The visit was to the person in the order."},
        headers=manager(issuer),
    )
    assert r.json()["status"] == "rejected"

    r = await client.get(f"/v1/settlements/{sa['id']}/disputes", headers=provider(issuer, A))
    assert [(x["line_no"], x["status"], x["answer"]) for x in r.json()] == [
        (1, "accepted", "The log shows 2 hours."),
        (2, "rejected", "The visit was to the person in the order."),
    ]
    # The issued statement itself is unchanged; the adjustment is on the next one.
    r = await client.get(f"/v1/settlements/{sa['id']}", headers=provider(issuer, A))
    assert r.json()["amount_ore"] == sa["amount_ore"]
    following = await issue(client, issuer, (await draft(client, issuer, A, key(y1, m1)))["id"])
    [adjustment] = await lines(client, provider(issuer, A), following["id"])
    assert (
        adjustment["kind"],
        adjustment["visit_id"],
        adjustment["corrects_month"],
        adjustment["amount_ore"],
    ) == (
        "adjustment",
        "d1",
        key(y0, m0),
        32_500,
    )
    assert adjustment["dispute_id"] == accepted["id"]
    r = await client.get(f"/v1/settlements/{sa['id']}/disputes/{accepted['id']}", headers=provider(issuer, A))
    assert r.json()["adjusted_in"] == following["id"]


@pytest.mark.calendar
async def test_bad_requests(client, issuer, settings, bus):
    await publish_all(client, bus, settings, registered(A), registered(MUNICIPAL, ProviderKind.municipal))
    y, m = months_back(1)
    fy, fm = months_back(-1)
    cases = [
        ({"provider_org": A, "month": "2026-13"}, 422, "validation-error"),
        ({"provider_org": A, "month": "2026-1"}, 422, "validation-error"),
        ({"provider_org": A, "month": "oct"}, 422, "validation-error"),
        ({"provider_org": "12", "month": key(y, m)}, 422, "validation-error"),
        ({"provider_org": A, "month": key(fy, fm)}, 422, "future-month"),
        ({"provider_org": MUNICIPAL, "month": key(y, m)}, 422, "not-a-private-provider"),
        ({"provider_org": "999999999", "month": key(y, m)}, 422, "unknown-provider"),
    ]
    for body, status, slug in cases:
        r = await client.post("/v1/settlements", json=body, headers=manager(issuer))
        assert (r.status_code, r.json()["type"]) == (status, f"https://hjemflyt.no/problems/{slug}"), body
        assert r.headers["content-type"] == "application/problem+json"
    good = {"provider_org": A, "month": key(y, m)}
    r = await client.post("/v1/settlements", json=good, headers=provider(issuer, A))
    assert r.status_code == 403, r.text
    r = await client.post(
        "/v1/settlements", json=good, headers=auth(issuer, Role.case_officer, districts=["frogner"])
    )
    assert r.status_code == 403, r.text
    r = await client.get("/v1/settlements", params={"month": "2026-1"}, headers=manager(issuer))
    assert r.status_code == 422, r.text
    s = await draft(client, issuer, A, key(y, m))
    r = await client.get(
        f"/v1/settlements/{s['id']}/lines", params={"cursor": "nonsense"}, headers=manager(issuer)
    )
    assert r.status_code == 400, r.text
    r = await client.get(f"/v1/settlements/{uuid.uuid4()}", headers=manager(issuer))
    assert r.status_code == 404, r.text
    # A draft may be discarded and drawn up again.
    r = await client.delete(f"/v1/settlements/{s['id']}", headers=manager(issuer))
    assert r.status_code == 204, r.text
    await draft(client, issuer, A, key(y, m))


@pytest.mark.calendar
async def test_actual_hours_and_paused_months(client, issuer, settings, bus):
    # The suite's year: a leap year on the calendar runs in 2028.
    year = suite_today().year
    kari, ola, per, eva = uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    adm = [uuid.uuid4() for _ in range(5)]

    def admitted(i: int, person: uuid.UUID, at: datetime) -> Event:
        data = PersonAdmitted(
            admission_id=adm[i],
            person_id=person,
            district="frogner",
            admitted_at=at,
            institution_kind="hospital",
        )
        return envelope(PERSON_ADMITTED, data, str(person))

    def discharged(i: int, person: uuid.UUID, at: datetime, out: datetime) -> Event:
        data = PersonDischarged(
            admission_id=adm[i], person_id=person, district="frogner", admitted_at=at, discharged_at=out
        )
        return envelope(PERSON_DISCHARGED, data, str(person))

    def t(mm: int, dd: int) -> datetime:
        return datetime(year, mm, dd, 12, 0, tzinfo=OSLO)

    await publish_all(
        client,
        bus,
        settings,
        # Kari: 3 nights in March (a short stay: not paused).
        admitted(0, kari, t(3, 10)),
        discharged(0, kari, t(3, 10), t(3, 13)),
        # Ola: 20 of April's 30 days (paused in April), then from 25 May for good (not
        # paused in May: 7 days; paused in June and on).
        discharged(1, ola, t(4, 5), t(4, 25)),  # the discharge handled before the admission
        admitted(1, ola, t(4, 5)),
        admitted(2, ola, t(5, 25)),
        # Per: two stays in March, 10 + 8 = 18 of 31 days (paused).
        admitted(3, per, t(3, 1)),
        discharged(3, per, t(3, 1), t(3, 11)),
        # Eva: from 15 February to 1 March, 14 of 28 days (exactly half: not paused), but in a
        # leap year 15 of 29 (paused).
        admitted(4, eva, t(2, 15)),
        discharged(4, eva, t(2, 15), t(3, 1)),
        copies=2,
    )
    extra = uuid.uuid4()
    data = PersonAdmitted(
        admission_id=extra, person_id=per, district="frogner", admitted_at=t(3, 20), institution_kind="other"
    )
    out = PersonDischarged(
        admission_id=extra, person_id=per, district="frogner", admitted_at=t(3, 20), discharged_at=t(3, 28)
    )
    await publish_all(
        client,
        bus,
        settings,
        envelope(PERSON_ADMITTED, data, str(per)),
        envelope(PERSON_DISCHARGED, out, str(per)),
        reported(
            A,
            visit("h1", date(year, 3, 2), 90, person_id=kari),
            visit("h2", date(year, 3, 31), 45, person_id=kari, at=time(23)),  # planned in March (Oslo)
            # Planned 00:30 on 1 April in Oslo, still 31 March in UTC: April's.
            visit("h3", date(year, 4, 1), 60, person_id=kari, at=time(0, 30)),
            visit("h4", date(year, 3, 3), 60, person_id=kari, cancelled=True),
            visit("h5", date(year, 3, 3), 20, person_id=ola),
        ),
        reported(B, visit("h1", date(year, 3, 4), 60, person_id=kari)),
    )
    async with client.app.state.ctx.sessionmaker() as s:
        assert await actual_hours(s, year=year, months=[3, 4]) == {
            (kari, A): {3: Decimal("2.2500"), 4: Decimal("1.0000")},
            (ola, A): {3: Decimal("0.3333")},
            (kari, B): {3: Decimal("1.0000")},
        }
        assert await actual_hours(s, year=year, months=[5]) == {}
        expected = {ola: {4, 6, 12}, per: {3}}
        if calendar.isleap(year):
            expected[eva] = {2}
        assert await paused_months(s, year=year, months=[2, 3, 4, 5, 6, 12]) == expected
        with pytest.raises(ValueError, match="month 13"):
            await actual_hours(s, year=year, months=[13])


@pytest.mark.calendar
async def test_a_cancelled_admission_pauses_nothing_and_a_cancelled_discharge_pauses_again(
    client, issuer, settings, bus
):
    year = suite_today().year
    person, admission = uuid.uuid4(), uuid.uuid4()
    at = datetime(year, 4, 2, 12, 0, tzinfo=OSLO)
    data = PersonAdmitted(
        admission_id=admission,
        person_id=person,
        district="frogner",
        admitted_at=at,
        institution_kind="hospital",
    )
    await publish_all(client, bus, settings, envelope(PERSON_ADMITTED, data, str(person)))
    async with client.app.state.ctx.sessionmaker() as s:
        assert await paused_months(s, year=year, months=[4, 5]) == {person: {4, 5}}
    cancelled = AdmissionCancelled(
        admission_id=admission, person_id=person, district="frogner", admitted_at=at, cancelled_at=at
    )
    await publish_all(client, bus, settings, envelope(ADMISSION_CANCELLED, cancelled, str(person)), copies=2)
    async with client.app.state.ctx.sessionmaker() as s:
        assert await paused_months(s, year=year, months=[4, 5]) == {}

    # A discharge the hospital cancelled: the stay runs on.
    other = uuid.uuid4()
    data = PersonAdmitted(
        admission_id=other, person_id=person, district="frogner", admitted_at=at, institution_kind="hospital"
    )
    out = PersonDischarged(
        admission_id=other, person_id=person, district="frogner", admitted_at=at, discharged_at=at
    )
    reopened = AdmissionReopened(
        admission_id=other,
        person_id=person,
        district="frogner",
        admitted_at=at,
        institution_kind="hospital",
        reopened_at=at,
    )
    await publish_all(
        client,
        bus,
        settings,
        envelope(PERSON_ADMITTED, data, str(person)),
        envelope(PERSON_DISCHARGED, out, str(person)),
    )
    async with client.app.state.ctx.sessionmaker() as s:
        assert await paused_months(s, year=year, months=[4, 5]) == {}
    await publish_all(client, bus, settings, envelope(ADMISSION_REOPENED, reopened, str(person)))
    async with client.app.state.ctx.sessionmaker() as s:
        assert await paused_months(s, year=year, months=[4, 5]) == {person: {4, 5}}
