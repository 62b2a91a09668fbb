"""Allocations on the real service: decisions arrive as events on the real bus, the
Stavanger 2022 default is adopted over HTTP, and the allocation, its tertials, the buffer
ledger, the change log and redistributions are driven and read over HTTP.

The scenario lives on the suite's day: decisions are made today and start on the first of
next month, and the allocation is next year's, made at its first day; its tertials and the
hours received in them are that year's (a leap year when the suite's day is in 2027)."""

from __future__ import annotations

import json
import uuid
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from hjemflyt.budget.allocations.repository import unit_totals
from hjemflyt.budget.db import platform_tables
from hjemflyt.budget.deliveries.repository import actual_hours, delivered_measures, paused_months
from hjemflyt.budget.hours.models import ProviderUnit
from hjemflyt.budget.hours.repository import HoursRepository
from hjemflyt.budget.main import create_app
from hjemflyt.shared.contracts.envelope import CloudEvent
from hjemflyt.shared.contracts.events import (
    DECISION_ENDED,
    DECISION_MADE,
    PERSON_ADMITTED,
    PERSON_DISCHARGED,
    PROVIDER_REGISTERED,
    DecidedService,
    DecisionEnded,
    DecisionMade,
    OrderedMeasure,
    PersonAdmitted,
    PersonDischarged,
    ProviderKind,
    ProviderRegistered,
)
from hjemflyt.shared.contracts.reports import VISITS_REPORTED, ReportedVisit, VisitsReported
from hjemflyt.shared.platform.auth import Role
from hjemflyt.shared.platform.bus import Bus
from hjemflyt.shared.platform.clock import OSLO
from hjemflyt.shared.testing import auth, eventually, running_service, suite_now, suite_today

U1, U2 = "912345678", "923456789"  # municipal home-care units
BASE, L1, L2 = 3_413_328, 28_764_000, 47_940_000  # Stavanger 2022 annual amounts, øre
T = platform_tables
TODAY = suite_today()
START = date(TODAY.year + TODAY.month // 12, TODAY.month % 12 + 1, 1)  # the first of next month
YEAR = TODAY.year + 1  # the budget year: its budgeting date is 1 January, on or after START
BUDGETING = {"year": YEAR, "budgeting_date": date(YEAR, 1, 1).isoformat()}


@pytest.fixture
async def client(settings):
    async with running_service(create_app, settings) as client:
        yield client


@pytest.fixture
async def manager(issuer) -> dict[str, str]:
    return auth(issuer, Role.manager, subject="okonomisjef")


def envelope(event_type, data, subject: str, tenant: str) -> tuple[str, bytes, str]:
    event = CloudEvent(
        id=uuid.uuid4(),
        source=f"/hjemflyt/{event_type.service}",
        type=event_type.name,
        subject=subject,
        time=suite_now(),
        dataschema=event_type.dataschema,
        tenant=tenant,
        data=data.model_dump(mode="json"),
    )
    return event_type.service, event.model_dump_json().encode(), str(event.id)


class Municipality:
    """Publishes what assessment and notifications would: units and decisions."""

    def __init__(self, settings) -> None:
        self.settings = settings
        self.events: list[tuple[Any, bytes, str, str]] = []
        self.decisions: dict[uuid.UUID, uuid.UUID] = {}  # decision -> person

    def add(self, event_type, data, subject: str) -> None:
        service, body, msg = envelope(event_type, data, subject, self.settings.tenant)
        self.events.append((event_type, body, msg, service))

    def unit(self, org: str) -> None:
        data = ProviderRegistered(
            provider_org=org,
            name=f"Hjemmetjenesten {org}",
            kind=ProviderKind.municipal,
            service_codes=["1", "15"],
            districts=["frogner"],
            version=1,
        )
        service, body, msg = envelope(PROVIDER_REGISTERED, data, org, self.settings.tenant)
        self.events.append((PROVIDER_REGISTERED, body, msg, service))

    def decision(
        self, org: str, hours: str, start: date = START, measures: list[OrderedMeasure] | None = None
    ) -> uuid.UUID:
        person, decision = uuid.uuid4(), uuid.uuid4()
        data = DecisionMade(
            decision_id=decision,
            version=1,
            person_id=person,
            district="frogner",
            decision_date=TODAY,
            start_date=start,
            services=[
                DecidedService(
                    service_code="15",
                    service_name="Helsetjenester i hjemmet",
                    service_type="home-nursing",
                    hours_per_month=Decimal(hours),
                    provider_org=org,
                    measures=measures or [],
                )
            ],
            made_at=suite_now(),
        )
        service, body, msg = envelope(DECISION_MADE, data, str(decision), self.settings.tenant)
        self.events.append((DECISION_MADE, body, msg, service))
        self.decisions[decision] = person
        return decision

    def end(self, decision: uuid.UUID) -> None:
        data = DecisionEnded(
            decision_id=decision,
            version=1,
            person_id=self.decisions[decision],
            district="frogner",
            end_date=date(YEAR, 4, 30),  # leaves at the end of the first tertial
            reason="ended",
            ended_at=suite_now(),
        )
        service, body, msg = envelope(DECISION_ENDED, data, str(decision), self.settings.tenant)
        self.events.append((DECISION_ENDED, body, msg, service))

    async def publish(self, client, headers, expect: dict[str, int]) -> None:
        """Publish what was collected, and wait until budget counts `expect` persons per unit."""
        bus = Bus(self.settings, name="test-municipality")
        await bus.connect()
        try:
            for service in ("assessment", "notifications"):
                await bus.ensure_stream(service)
            for event_type, body, msg, _ in self.events:
                await bus.js.publish(
                    event_type.subject(self.settings.bus_namespace, self.settings.tenant),
                    body,
                    headers={"Nats-Msg-Id": msg},
                )
        finally:
            await bus.close()
        self.events.clear()

        async def counted() -> None:
            r = await client.get("/v1/providers/hours", headers=headers)
            got = {p["provider_org"]: p["persons"] for p in r.json()}
            assert got == expect, got
            async with client.app.state.ctx.sessionmaker() as s:  # the units are registered too
                units = set((await s.scalars(select(ProviderUnit.provider_org))).all())
                assert units >= set(expect), units

        await eventually(counted, seconds=30)


async def adopt_stavanger(client, headers) -> str:
    r = await client.post("/v1/rule-sets/defaults/stavanger-2022", headers=headers)
    assert r.status_code == 201, r.text
    rule_set_id = r.json()["id"]
    r = await client.post(f"/v1/rule-sets/{rule_set_id}/adoption", headers=headers)
    assert r.status_code == 200, r.text
    return rule_set_id


def units(allocation: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {u["provider_org"]: u for u in allocation["units"]}


async def events(client) -> list[dict[str, Any]]:
    async with client.app.state.ctx.sessionmaker() as s:
        rows = (await s.execute(select(T.outbox.c.envelope).order_by(T.outbox.c.seq))).scalars().all()
    return [json.loads(bytes(r)) for r in rows]


async def test_allocation_by_levels_then_a_tertial_pays_growth_from_the_buffer(
    client, settings, manager, issuer
):
    town = Municipality(settings)
    town.unit(U1)
    town.unit(U2)
    for _ in range(8):
        town.decision(U1, "10")
    town.decision(U1, "25")
    town.decision(U1, "45")
    leaving = town.decision(U2, "5")
    town.decision(U2, "5")
    town.decision(U1, "25", start=date(YEAR, 2, 1))  # starts after the budgeting date
    await town.publish(client, manager, {U1: 11, U2: 2})
    # The late starter counts from 1 February (not on 31 January), so at tertial 2 (1 May).
    for on, persons in (
        (date(YEAR, 1, 1), 12),
        (date(YEAR, 1, 31), 12),
        (date(YEAR, 2, 1), 13),
        (date(YEAR, 5, 1), 13),
    ):
        async with client.app.state.ctx.sessionmaker() as s:
            assert len(await HoursRepository(s).population(on)) == persons

    # Nothing is adopted yet: no rule set in force, and nothing is made.
    body = {**BUDGETING, "frame_ore": 200_000_000}
    r = await client.post("/v1/allocations", json=body, headers=manager)
    assert r.status_code == 409, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["type"].endswith("/no-rule-set-in-force")
    rule_set_id = await adopt_stavanger(client, manager)

    for bad, slug, code in [
        ({**body, "frame_ore": 0}, "frame-not-positive", 422),
        ({**body, "budgeting_date": date(YEAR - 1, 12, 31).isoformat()}, "budgeting-date-outside-year", 422),
        ({**body, "rule_set_id": str(uuid.uuid4())}, "unknown-rule-set", 422),
    ]:
        r = await client.post("/v1/allocations", json=bad, headers=manager)
        assert r.status_code == code, r.text
        assert r.json()["type"].endswith(slug)
    r = await client.post("/v1/allocations", json=body, headers=auth(issuer, Role.integration))
    assert r.status_code == 403
    assert (await client.get("/v1/allocations", headers=manager)).json() == []

    r = await client.post("/v1/allocations", json=body, headers=manager)
    assert r.status_code == 201, r.text
    made = r.json()
    allocation_id = made["id"]
    assert made["rule_set_id"] == rule_set_id
    u1, u2 = units(made)[U1], units(made)[U2]
    assert u1["persons_per_level"] == {"base": 8, "1": 1, "2": 1, "3": 0, "4": 0}
    assert u1["amount_ore"] == 8 * BASE + L1 + L2 == 104_010_624
    assert u2["amount_ore"] == 2 * BASE == 6_826_656
    assert made["general_ore"] == 52_000_000
    # 1.2 % of the frame plus what the units do not need now.
    assert made["buffer_ore"] == 2_400_000 + (200_000_000 - 52_000_000 - 2_400_000 - 110_837_280)
    assert made["total_ore"] == sum(u["amount_ore"] for u in made["units"]) + 52_000_000 + made["buffer_ore"]
    assert made["total_ore"] == 200_000_000
    assert (made["shortfall_ore"], made["deficit_ore"], made["tertial"]) == (0, 0, 1)

    r = await client.post("/v1/allocations", json=body, headers=manager)
    assert r.status_code == 409
    assert r.json()["type"].endswith("allocation-exists")
    r = await client.post(f"/v1/allocations/{allocation_id}/tertials/3", headers=manager)
    assert r.status_code == 409
    assert r.json()["type"].endswith("tertial-out-of-order")
    assert (
        await client.post(f"/v1/allocations/{allocation_id}/tertials/4", headers=manager)
    ).status_code == 404

    # Tertial 2 (1 May): the new level-1 user counts; U2 lost a user but is not cut.
    town.end(leaving)
    await town.publish(client, manager, {U1: 11, U2: 1})
    r = await client.post(f"/v1/allocations/{allocation_id}/tertials/2", headers=manager)
    assert r.status_code == 200, r.text
    tertial = r.json()
    growth = {g["provider_org"]: g for g in tertial["growth"]}
    assert growth[U1]["levels_growth_ore"] == L1 * 8 // 12 == 19_176_000
    assert growth[U1]["paid_ore"] == 19_176_000
    assert growth[U2]["paid_ore"] == 0
    assert growth[U2]["need_after_ore"] == 2 * BASE  # the funded need is kept
    after = tertial["allocation"]
    assert units(after)[U1]["amount_ore"] == 104_010_624 + 19_176_000
    assert units(after)[U1]["persons_per_level"]["1"] == 2
    assert units(after)[U2]["amount_ore"] == 6_826_656
    assert after["buffer_ore"] == made["buffer_ore"] - 19_176_000
    assert after["total_ore"] == 200_000_000
    assert any("not cut" in n for n in tertial["notes"])
    r = await client.post(f"/v1/allocations/{allocation_id}/tertials/2", headers=manager)
    assert r.status_code == 409

    r = await client.get(f"/v1/allocations/{allocation_id}/buffer", headers=manager)
    ledger = r.json()
    assert [e["amount_ore"] for e in ledger["entries"]] == [
        2_400_000,
        made["buffer_ore"] - 2_400_000,
        -19_176_000,
    ]
    assert ledger["entries"][-1]["provider_org"] == U1
    assert ledger["balance_ore"] == sum(e["amount_ore"] for e in ledger["entries"]) == after["buffer_ore"]

    r = await client.get(f"/v1/allocations/{allocation_id}/changes", headers=auth(issuer, Role.integration))
    assert r.status_code == 200, r.text
    changes = r.json()
    assert {c["changed_by"] for c in changes} == {"okonomisjef"}
    grew = [c for c in changes if c["cause"] == "tertial-2" and c["line"] == U1]
    assert [(c["before_ore"], c["after_ore"]) for c in grew] == [(104_010_624, 123_186_624)]
    assert "8/12" in grew[0]["reason"]

    async with client.app.state.ctx.sessionmaker() as s:
        assert await unit_totals(s, uuid.UUID(allocation_id)) == [(U1, 123_186_624), (U2, 6_826_656)]
    made_events = [e["data"] for e in await events(client) if e["type"].endswith("allocation.made.v1")]
    assert [e["reason"] for e in made_events] == ["budgeting", "tertial-2"]
    assert made_events[-1]["buffer_ore"] == after["buffer_ore"]

    listed = (await client.get("/v1/allocations", headers=manager)).json()
    assert [a["id"] for a in listed] == [allocation_id]
    assert (await client.get(f"/v1/allocations/{uuid.uuid4()}", headers=manager)).status_code == 404


async def test_growth_beyond_the_buffer_is_covered_by_lowering_the_base_amount_once_approved(
    client, settings, manager
):
    town = Municipality(settings)
    town.unit(U1)
    town.unit(U2)
    for _ in range(10):
        town.decision(U1, "10")
    for _ in range(11):
        town.decision(U2, "10")
    await town.publish(client, manager, {U1: 10, U2: 11})
    await adopt_stavanger(client, manager)
    body = {**BUDGETING, "frame_ore": 100_000_000}
    made = (await client.post("/v1/allocations", json=body, headers=manager)).json()
    allocation_id = made["id"]
    buffer = made["buffer_ore"]
    assert buffer == 1_200_000 + 72_800_000 - 21 * BASE == 2_320_112

    r = await client.post(f"/v1/allocations/{allocation_id}/redistributions", headers=manager)
    assert r.status_code == 409  # nothing to cover
    assert r.json()["type"].endswith("cannot-redistribute")

    town.decision(U1, "25")
    town.decision(U1, "30")
    await town.publish(client, manager, {U1: 12, U2: 11})
    tertial = (await client.post(f"/v1/allocations/{allocation_id}/tertials/2", headers=manager)).json()
    growth = 2 * L1 * 8 // 12
    assert tertial["paid_from_buffer_ore"] == buffer
    assert tertial["deficit_ore"] == growth - buffer == 36_031_888
    assert tertial["allocation"]["buffer_ore"] == 0
    assert tertial["allocation"]["total_ore"] == 100_000_000

    first = (await client.post(f"/v1/allocations/{allocation_id}/redistributions", headers=manager)).json()
    second = (await client.post(f"/v1/allocations/{allocation_id}/redistributions", headers=manager)).json()
    # The smallest whole-øre cut per base user that covers the deficit: ceil(36 031 888 / 21).
    assert first["cut_per_base_person_ore"] == 1_715_805
    assert (first["base_amount_before_ore"], first["base_amount_after_ore"]) == (BASE, BASE - 1_715_805)
    assert first["moved_ore"] == 21 * 1_715_805
    assert first["to_buffer_ore"] == 17
    moves = {m["provider_org"]: m for m in first["units"]}
    assert moves[U1]["change_ore"] == 36_031_888 - 10 * 1_715_805
    assert moves[U2]["change_ore"] == -11 * 1_715_805  # money moves across units
    assert first["status"] == "proposed"

    r = await client.post(f"/v1/redistributions/{first['id']}/approval", headers=manager)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "approved"
    now = (await client.get(f"/v1/allocations/{allocation_id}", headers=manager)).json()
    assert now["deficit_ore"] == 0
    assert now["buffer_ore"] == 17
    assert now["total_ore"] == 100_000_000
    assert units(now)[U2]["amount_ore"] == 11 * BASE - 11 * 1_715_805

    for path, payload in (("approval", {"note": "igjen"}), ("rejection", {"reason": "igjen"})):
        r = await client.post(f"/v1/redistributions/{first['id']}/{path}", json=payload, headers=manager)
        assert r.status_code == 409
        assert r.json()["type"].endswith("already-decided")
    r = await client.post(f"/v1/redistributions/{second['id']}/approval", headers=manager)
    assert r.status_code == 409
    assert r.json()["type"].endswith("stale-redistribution")
    r = await client.post(f"/v1/redistributions/{second['id']}/rejection", json={}, headers=manager)
    assert r.status_code == 422
    r = await client.post(
        f"/v1/redistributions/{second['id']}/rejection",
        json={"reason": "Dekket av den første."},
        headers=manager,
    )
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["decision_reason"]) == ("rejected", "Dekket av den første.")
    assert (await client.get(f"/v1/allocations/{allocation_id}", headers=manager)).json() == now

    changes = (await client.get(f"/v1/allocations/{allocation_id}/changes", headers=manager)).json()
    moved = [c for c in changes if c["cause"] == "redistribution"]
    assert {c["line"] for c in moved} == {U1, U2, "buffer"}
    assert all(c["redistribution_id"] == first["id"] for c in moved)
    ledger = (await client.get(f"/v1/allocations/{allocation_id}/buffer", headers=manager)).json()
    assert ledger["entries"][-1]["amount_ore"] == 17
    types = [e["type"].rsplit(".", 3)[-3:] for e in await events(client)]
    assert types.count(["redistribution", "approved", "v1"]) == 1
    approved = next(e["data"] for e in await events(client) if "redistribution.approved" in e["type"])
    assert {u["provider_org"]: u["amount_ore"] for u in approved["units"]} == {
        U1: moves[U1]["change_ore"],
        U2: moves[U2]["change_ore"],
    }


@pytest.mark.calendar
async def test_focus_users_are_funded_at_the_tertial_from_the_hours_they_received_outside_pauses(
    client, settings, manager
):
    town = Municipality(settings)
    town.unit(U1)
    decision = town.decision(U1, "110")  # above 100 h: level 4 and a focus user
    await town.publish(client, manager, {U1: 1})
    person = town.decisions[decision]
    await adopt_stavanger(client, manager)
    body = {**BUDGETING, "frame_ore": 200_000_000}
    made = (await client.post("/v1/allocations", json=body, headers=manager)).json()
    assert units(made)[U1]["persons_per_level"]["4"] == 1
    assert units(made)[U1]["focus_persons"] == 1
    assert units(made)[U1]["amount_ore"] == 86_292_000  # level 4: 90 h * 799 kr * 12

    # Received January-April: 95, 120, 80 and 130 hours (5-hour night visits from 00:30 in
    # Oslo: the first of each month is still the month before in UTC, 1 January the year
    # before); in hospital for most of April (a pause).
    order = uuid.uuid4()
    visits = []
    for month, hours in ((1, 95), (2, 120), (3, 80), (4, 130)):
        for day in range(1, hours // 5 + 1):
            start = datetime.combine(date(YEAR, month, day), time(0, 30), OSLO)
            visits.append(
                ReportedVisit(
                    visit_id=f"f-{month}-{day}",
                    order_id=order,
                    person_id=person,
                    district="frogner",
                    planned_start=start,
                    planned_end=start + timedelta(hours=5),
                    actual_start=start,
                    actual_end=start + timedelta(hours=5),
                )
            )
    reported = VisitsReported(
        provider_org=U1, batch_id="b1", chunk=1, chunks=1, visits=visits, reported_at=suite_now()
    )
    town.add(VISITS_REPORTED, reported, f"{U1}/b1/1")
    stay = uuid.uuid4()
    admitted_at = datetime(YEAR, 4, 2, 12, 0, tzinfo=OSLO)
    for event_type, data in (
        (
            PERSON_ADMITTED,
            PersonAdmitted(
                admission_id=stay,
                person_id=person,
                district="frogner",
                admitted_at=admitted_at,
                institution_kind="hospital",
            ),
        ),
        (
            PERSON_DISCHARGED,
            PersonDischarged(
                admission_id=stay,
                person_id=person,
                district="frogner",
                admitted_at=admitted_at,
                discharged_at=datetime(YEAR, 4, 29, 12, 0, tzinfo=OSLO),
            ),
        ),
    ):
        town.add(event_type, data, str(person))
    await town.publish(client, manager, {U1: 1})

    async def delivered() -> None:
        async with client.app.state.ctx.sessionmaker() as s:
            got = await actual_hours(s, year=YEAR, months=[1, 2, 3, 4])
            assert got == {(person, U1): {1: 95, 2: 120, 3: 80, 4: 130}}, got
            assert await paused_months(s, year=YEAR, months=[1, 2, 3, 4]) == {person: {4}}

    await eventually(delivered, seconds=30)

    tertial = (await client.post(f"/v1/allocations/{made['id']}/tertials/2", headers=manager)).json()
    assert tertial["focus_months"] == [1, 2, 3, 4]
    grown = next(g for g in tertial["growth"] if g["provider_org"] == U1)
    # Funded from February (the first month above 100 h): February 120 - 90 = 30 h above
    # level 4; March 80 h is below level 4; April is a pause: only funding above level 4 stops.
    assert grown["focus_ore"] == 30 * 79_900 == grown["paid_ore"]
    assert grown["levels_growth_ore"] == 0
    after = tertial["allocation"]
    assert units(after)[U1]["amount_ore"] == 86_292_000 + 2_397_000
    assert after["total_ore"] == 200_000_000
    changes = (await client.get(f"/v1/allocations/{made['id']}/changes", headers=manager)).json()
    assert "focus users above the top band, months 1-4" in changes[-2]["reason"]


async def test_an_activity_model_unit_is_funded_from_the_measures_it_delivered_last_year(
    client, settings, manager
):
    town = Municipality(settings)
    town.unit(U1)
    town.unit(U2)
    town.decision(U1, "10")
    decision = town.decision(U2, "30")
    await town.publish(client, manager, {U1: 1, U2: 1})
    person = town.decisions[decision]
    # U2 delivered in the year before: 100 showers (30 min) and 30 times eye drops (10 min) in visits
    # done, plus a cancelled visit and an unknown measure, which earn nothing; a visit
    # reported twice (same content, another measure list: the later list counts).
    order, visits = uuid.uuid4(), []
    for i in range(100):
        # The first at 00:30 on 1 January in Oslo (still 31 December in UTC): inside the 12
        # months before the budgeting date, which the estimate looks at.
        start = (
            datetime(YEAR - 1, 1, 1, 0, 30, tzinfo=OSLO)
            if i == 0
            else datetime(YEAR - 1, 3, 1, 8, 0, tzinfo=OSLO) + timedelta(days=i)
        )
        measures = ["shower", "eye-drops"] if i < 30 else ["shower"]
        visits.append(
            ReportedVisit(
                visit_id=f"a-{i}",
                order_id=order,
                person_id=person,
                district="frogner",
                planned_start=start,
                planned_end=start + timedelta(minutes=45),
                actual_start=start,
                actual_end=start + timedelta(minutes=45),
                measures_done=measures,
            )
        )
    cancelled = visits[0].model_copy(
        update={"visit_id": "a-cancelled", "cancelled": True, "cancel_cause": "user_not_home"}
    )
    unknown = visits[50].model_copy(update={"visit_id": "a-unknown", "measures_done": ["talk"]})
    start = datetime(YEAR - 2, 12, 20, 8, tzinfo=OSLO)  # before the 12 months the estimate looks at
    last_year = visits[98].model_copy(
        update={
            "visit_id": "a-two-years-back",
            "planned_start": start,
            "planned_end": start + timedelta(minutes=45),
            "actual_start": start,
            "actual_end": start + timedelta(minutes=45),
        }
    )
    first = visits[99].model_copy(update={"measures_done": ["injection"]})
    for n, chunk in enumerate(([*visits[:99], cancelled, unknown, first, last_year], [visits[99]]), start=1):
        town.add(
            VISITS_REPORTED,
            VisitsReported(
                provider_org=U2,
                batch_id=f"a{n}",
                chunk=1,
                chunks=1,
                visits=chunk,
                reported_at=suite_now(),
            ),
            f"{U2}/a{n}/1",
        )
    await town.publish(client, manager, {U1: 1, U2: 1})

    async def delivered() -> None:
        async with client.app.state.ctx.sessionmaker() as s:
            got = await delivered_measures(s, start=date(YEAR - 1, 1, 1), end=date(YEAR, 1, 1))
            assert got == {U2: {"shower": 100, "eye-drops": 30, "talk": 1}}, got
            assert await delivered_measures(s, start=date(YEAR - 2, 1, 1), end=date(YEAR - 1, 1, 1)) == {
                U2: {"shower": 1}
            }

    await eventually(delivered, seconds=30)

    activity = {
        "applies_to": [U2],
        "financing": {
            "model": "activity",
            "rate_ore_per_hour": 60_000,
            "norms_minutes": {"shower": 30, "eye-drops": 10},
        },
    }
    r = await client.post("/v1/rule-sets/defaults/stavanger-2022", headers=manager)
    body = r.json()["body"] | {"parts": [*r.json()["body"]["parts"], activity]}
    r = await client.post("/v1/rule-sets", json={"key": "with-activity", **body}, headers=manager)
    assert r.status_code == 201, r.text
    assert (await client.post(f"/v1/rule-sets/{r.json()['id']}/adoption", headers=manager)).status_code == 200
    made = await client.post(
        "/v1/allocations",
        json={**BUDGETING, "frame_ore": 200_000_000},
        headers=manager,
    )
    assert made.status_code == 201, made.text
    line = units(made.json())[U2]
    # (100 * 30 + 30 * 10) minutes = 55 hours at 600 kr.
    assert line["model"] == "activity"
    assert line["need_ore"] == line["amount_ore"] == 55 * 60_000
    assert units(made.json())[U1]["amount_ore"] == 3_413_328  # base, under the levels part
    total = (
        sum(u["amount_ore"] for u in made.json()["units"])
        + made.json()["general_ore"]
        + made.json()["buffer_ore"]
    )
    assert total == 200_000_000


async def test_an_activity_model_unit_paid_on_ordered_measures_is_funded_from_the_decisions(
    client, settings, manager
):
    town = Municipality(settings)
    town.unit(U1)
    town.unit(U2)
    town.decision(U1, "10")
    shower = OrderedMeasure(code="shower", description="Dusj", times=1, per="day")
    drops = OrderedMeasure(code="eye-drops", description="Øyedråper", times=2, per="week")
    town.decision(
        U2, "30", measures=[shower, drops, OrderedMeasure(description="Samtale", times=1, per="month")]
    )
    await town.publish(client, manager, {U1: 1, U2: 1})
    activity = {
        "applies_to": [U2],
        "financing": {
            "model": "activity",
            "basis": "ordered",
            "rate_ore_per_hour": 60_000,
            "norms_minutes": {"shower": 30, "eye-drops": 10},
        },
    }
    r = await client.post("/v1/rule-sets/defaults/stavanger-2022", headers=manager)
    body = r.json()["body"] | {"parts": [*r.json()["body"]["parts"], activity]}
    r = await client.post("/v1/rule-sets", json={"key": "on-orders", **body}, headers=manager)
    assert r.status_code == 201, r.text
    assert r.json()["body"]["parts"][-1]["financing"]["basis"] == "ordered"
    assert (await client.post(f"/v1/rule-sets/{r.json()['id']}/adoption", headers=manager)).status_code == 200
    made = await client.post("/v1/allocations", json={**BUDGETING, "frame_ore": 200_000_000}, headers=manager)
    assert made.status_code == 201, made.text
    line = units(made.json())[U2]
    # The budget year from 1 January: a shower every day (30 min) and eye drops twice a week
    # (10 min), at 600 kr an hour (1 000 øre a minute); the uncoded measure has no norm.
    days = (date(YEAR + 1, 1, 1) - date(YEAR, 1, 1)).days
    minutes = Decimal(30 * days) + Decimal(10 * 2 * days) / 7
    assert line["model"] == "activity"
    assert line["need_ore"] == int((minutes * 1000).quantize(Decimal(1), rounding="ROUND_HALF_UP"))
