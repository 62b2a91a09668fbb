"""Indicators from a generated year of a small city's events on the real bus, compared with
the same figures computed here in plain Python from the generated data (not by the
service's code); repeated and out-of-order events; bad input; pictures; the quality board.

The year is the twelve months before the suite's running month (`HJEMFLYT_TEST_TODAY`), and
the service stands still on the suite's today at the suite's hour: on 1 January at 00:20 the
running month is one day old and its stock figures are taken that day."""

from __future__ import annotations

import json
import random
import statistics
import uuid
import xml.etree.ElementTree as ET
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, insert, select, text

from hjemflyt.pathway.db import platform_tables
from hjemflyt.pathway.main import create_app
from hjemflyt.pathway.pathways.models import Pathway
from hjemflyt.shared.contracts.envelope import CloudEvent
from hjemflyt.shared.contracts.events import (
    APPEAL_DECIDED,
    DECISION_AMENDED,
    DECISION_ENDED,
    DECISION_MADE,
    REFERRAL_RECEIVED,
    AppealDecided,
    DecidedService,
    DecisionAmended,
    DecisionEnded,
    DecisionMade,
    ReferralReceived,
)
from hjemflyt.shared.contracts.registry import EventType
from hjemflyt.shared.contracts.reports import VISITS_REPORTED, ReportedVisit, VisitsReported
from hjemflyt.shared.platform.auth import Role
from hjemflyt.shared.platform.bus import Bus
from hjemflyt.shared.testing import auth, eventually, fixed_clock, running_service

OSLO = ZoneInfo("Europe/Oslo")
NOW = fixed_clock().now()  # the suite's today at the suite's hour
TODAY = NOW.astimezone(OSLO).date()
DISTRICTS = ["nord", "sor", "ost"]
PROVIDERS = ["911111111", "922222222"]


def next_first(first: date) -> date:
    return (first.replace(day=28) + timedelta(days=4)).replace(day=1)


# The generated year: the twelve whole months before the running month; then the running one.
RUNNING = TODAY.replace(day=1)
YEAR_START = RUNNING.replace(year=RUNNING.year - 1)
MONTHS = [YEAR_START]
while MONTHS[-1] < RUNNING:
    MONTHS.append(next_first(MONTHS[-1]))
assert len(MONTHS) == 13
# Visits are reported up to five days before today (a few come late, up to two days before).
VISITS_UNTIL = TODAY - timedelta(days=5)
T = platform_tables


def year_month(n: int) -> str:
    """The generated year's month n (0: its first; 12: the running month), as YYYY-MM."""
    return f"{MONTHS[n]:%Y-%m}"


@pytest.fixture
async def client(settings):
    async with running_service(create_app, settings, clock=fixed_clock()) as client:
        yield client


@pytest.fixture
async def bus(settings):
    bus = Bus(settings, name="test-producers")
    await bus.connect()
    await bus.ensure_stream("assessment")
    await bus.ensure_stream("notifications")
    yield bus
    await bus.close()


def envelope(event_type: EventType[Any], data: Any, subject: str) -> dict[str, Any]:
    return CloudEvent(
        id=uuid.uuid4(),
        source=f"/hjemflyt/{event_type.service}",
        type=event_type.name,
        subject=subject,
        time=NOW,
        dataschema=event_type.dataschema,
        tenant="0301",
        data=data.model_dump(mode="json"),
    ).model_dump(mode="json")


async def publish(
    bus: Bus, settings, event_type: EventType[Any], event: dict[str, Any], msg_id: str | None = None
) -> None:
    await bus.js.publish(
        event_type.subject(settings.bus_namespace, settings.tenant),
        json.dumps(event).encode(),
        headers={"Nats-Msg-Id": msg_id or event["id"]},
    )


# --- the generated year ---------------------------------------------------------------


@dataclass
class Decision:
    decision_id: uuid.UUID
    person_id: uuid.UUID
    district: str
    decision_date: date
    start: date
    end: date | None
    evaluation: date | None
    codes: list[str]  # granted IPLOS codes of the latest version
    ended_on: date | None = None


@dataclass
class City:
    referrals: list[tuple[uuid.UUID, str, date]] = field(default_factory=list)  # person, district, Oslo date
    decisions: list[Decision] = field(default_factory=list)
    # (provider, visit id) -> the latest report: person, district, Oslo date, staff, cancelled
    visits: dict[tuple[str, str], tuple[uuid.UUID, str, date, str | None, bool]] = field(default_factory=dict)
    appeals: list[tuple[str, date, str, str]] = field(default_factory=list)  # district, date, stage, outcome
    assessment_events: list[tuple[EventType[Any], dict[str, Any]]] = field(default_factory=list)
    notification_events: list[tuple[EventType[Any], dict[str, Any]]] = field(default_factory=list)


def day_in_year(rng: random.Random) -> date:
    return YEAR_START + timedelta(days=rng.randrange((RUNNING - YEAR_START).days))


def oslo_moment(day: date, rng: random.Random) -> datetime:
    # Late evening now and then: the Oslo date differs from the UTC date then.
    hour = rng.choice([0, 7, 9, 12, 15, 22, 23])
    return datetime.combine(day, time(hour, rng.randrange(60)), OSLO).astimezone(UTC)


def service(code: str, outcome: str = "granted") -> DecidedService:
    return DecidedService(
        service_code=code, service_name=f"service {code}", hours_per_month="10", outcome=outcome
    )


def generate(seed: int = 7, persons: int = 220) -> City:
    rng = random.Random(seed)

    def new_id() -> uuid.UUID:
        return uuid.UUID(int=rng.getrandbits(128), version=4)

    city = City()
    staff = {(org, d): [f"{org[-2:]}-{d}-{i}" for i in range(14)] for org in PROVIDERS for d in DISTRICTS}
    batches: dict[str, list[ReportedVisit]] = defaultdict(list)
    for _ in range(persons):
        person = new_id()
        district = rng.choice(DISTRICTS)
        referral_days = sorted(day_in_year(rng) for _ in range(rng.choice([0, 1, 1, 1, 2])))
        for day in referral_days:
            rid = new_id()
            at = oslo_moment(day, rng)
            city.referrals.append((person, district, at.astimezone(OSLO).date()))
            data = ReferralReceived(
                referral_id=rid,
                person_id=person,
                district=district,
                source="gp",
                requested_services=["15"],
                received_at=at,
            )
            city.assessment_events.append((REFERRAL_RECEIVED, envelope(REFERRAL_RECEIVED, data, str(rid))))
        # Decisions: one after each referral (mostly), or one from before the year.
        starts = [d + timedelta(days=rng.randrange(0, 40)) for d in referral_days if rng.random() < 0.85]
        if not referral_days:
            starts = [YEAR_START - timedelta(days=365 - rng.randrange(300))]
        for decision_date in starts:
            did = new_id()
            start = decision_date + timedelta(days=rng.randrange(0, 8))
            end = start + timedelta(days=rng.randrange(40, 400)) if rng.random() < 0.5 else None
            evaluation = start + timedelta(days=rng.randrange(30, 200)) if rng.random() < 0.9 else None
            codes = rng.sample(["15", "1", "6"], rng.randint(1, 2))
            services = [service(c) for c in codes]
            if rng.random() < 0.1:
                services.append(service("15" if "15" not in codes else "6", "refused"))
            made = DecisionMade(
                decision_id=did,
                version=1,
                person_id=person,
                district=district,
                decision_date=decision_date,
                start_date=start,
                end_date=end,
                evaluation_date=evaluation,
                services=services,
                made_at=datetime.combine(decision_date, time(10), OSLO),
            )
            city.assessment_events.append((DECISION_MADE, envelope(DECISION_MADE, made, str(did))))
            decision = Decision(did, person, district, decision_date, start, end, evaluation, sorted(codes))
            if rng.random() < 0.3:  # amended: new evaluation date, home nursing added
                evaluation = start + timedelta(days=rng.randrange(60, 300))
                codes = sorted(set(codes) | {"15"})
                amended = DecisionAmended(
                    decision_id=did,
                    version=2,
                    person_id=person,
                    district=district,
                    start_date=start,
                    end_date=end,
                    evaluation_date=evaluation,
                    services=[service(c) for c in codes],
                    changes=["evaluation_date"],
                    amended_at=datetime.combine(start, time(12), OSLO),
                )
                city.assessment_events.append(
                    (DECISION_AMENDED, envelope(DECISION_AMENDED, amended, str(did)))
                )
                decision.evaluation, decision.codes = evaluation, codes
            if rng.random() < 0.3:
                ended_on = max(start, YEAR_START) + timedelta(days=rng.randrange(0, 200))
                ended = DecisionEnded(
                    decision_id=did,
                    version=2,
                    person_id=person,
                    district=district,
                    end_date=ended_on,
                    reason="ended",
                    ended_at=datetime.combine(ended_on, time(9), OSLO),
                )
                city.assessment_events.append((DECISION_ENDED, envelope(DECISION_ENDED, ended, str(did))))
                decision.ended_on = ended_on
            city.decisions.append(decision)
            if rng.random() < 0.2:
                aid = new_id()
                stages = [("municipality", rng.choice(["upheld", "changed", "reversed"]))]
                if stages[0][1] == "upheld" and rng.random() < 0.6:
                    stages.append(("county_governor", rng.choice(["upheld", "changed", "returned"])))
                decided = decision_date + timedelta(days=rng.randrange(10, 90))
                for stage, outcome in stages:
                    decided += timedelta(days=rng.randrange(5, 60))
                    appeal = AppealDecided(
                        appeal_id=aid,
                        decision_id=did,
                        person_id=person,
                        district=district,
                        stage=stage,
                        outcome=outcome,
                        decided_date=decided,
                        forwarded=stage == "municipality" and len(stages) > 1,
                    )
                    city.assessment_events.append(
                        (APPEAL_DECIDED, envelope(APPEAL_DECIDED, appeal, str(aid)))
                    )
                    city.appeals.append((district, decided, stage, outcome))
            # Visits from the start to the end (or a few days past it: late reports happen).
            org = rng.choice(PROVIDERS)
            last = min(decision.ended_on or decision.end or VISITS_UNTIL, VISITS_UNTIL)
            day = max(start, YEAR_START)
            gap = rng.choice([1, 2, 3, 5])
            team = rng.sample(staff[(org, district)], rng.randint(2, 10))
            while day <= last + timedelta(days=rng.choice([0, 0, 3])):
                at = oslo_moment(day, rng)
                cancelled = rng.random() < 0.05
                visit = ReportedVisit(
                    visit_id=f"v-{new_id().hex[:12]}",
                    order_id=did,
                    person_id=person,
                    district=district,
                    planned_start=at,
                    planned_end=at + timedelta(minutes=30),
                    actual_start=None if cancelled else at + timedelta(minutes=rng.randrange(-20, 40)),
                    actual_end=None if cancelled else at + timedelta(minutes=45),
                    staff_id=None if rng.random() < 0.03 else rng.choice(team),
                    cancelled=cancelled,
                    cancel_cause="user_not_home" if cancelled else None,
                )
                batches[org].append(visit)
                actual = visit.actual_start or visit.planned_start
                city.visits[(org, visit.visit_id)] = (
                    person,
                    district,
                    actual.astimezone(OSLO).date(),
                    visit.staff_id,
                    cancelled,
                )
                day += timedelta(days=gap)
    # Visit reports in chunks of up to 1,000; then a later correction batch that cancels some
    # visits and changes the staff of others, published BEFORE the original reports.
    corrections: list[tuple[EventType[Any], dict[str, Any]]] = []
    for org, visits in batches.items():
        rng.shuffle(visits)
        chunks = [visits[i : i + 1000] for i in range(0, len(visits), 1000)]
        for n, chunk in enumerate(chunks, 1):
            report = VisitsReported(
                provider_org=org,
                batch_id=f"b-{org}",
                chunk=n,
                chunks=len(chunks),
                visits=chunk,
                reported_at=NOW - timedelta(days=4),
            )
            city.notification_events.append((VISITS_REPORTED, envelope(VISITS_REPORTED, report, f"b-{org}")))
        changed = []
        for v in rng.sample(visits, 150):
            if rng.random() < 0.5:
                c = v.model_copy(update={"cancelled": True, "cancel_cause": "provider_cancelled"})
            else:
                c = v.model_copy(update={"staff_id": rng.choice(staff[(org, v.district)])})
            changed.append(c)
            person, district, day, _, _ = city.visits[(org, v.visit_id)]
            city.visits[(org, v.visit_id)] = (person, district, day, c.staff_id, c.cancelled)
        report = VisitsReported(
            provider_org=org,
            batch_id=f"c-{org}",
            chunk=1,
            chunks=1,
            visits=changed,
            reported_at=NOW - timedelta(days=2),
        )
        corrections.append((VISITS_REPORTED, envelope(VISITS_REPORTED, report, f"c-{org}")))
    city.notification_events[:0] = corrections
    # Out of order: ends before versions, amendments before the decision, appeals first.
    rng.shuffle(city.assessment_events)
    return city


def pathway_rows(city: City, seed: int = 11) -> list[dict[str, Any]]:
    """The pathways module's rows for some persons (it owns how they open and close)."""
    rng = random.Random(seed)
    rows = []
    persons = {(p, d) for p, d, _ in city.referrals}
    for person, district in sorted(persons, key=lambda x: str(x[0])):
        if rng.random() > 0.5:
            continue
        kind = rng.randint(0, 3)
        opened = day_in_year(rng)
        planned = {
            0: opened + timedelta(days=7),
            1: opened + timedelta(days=14),
            2: opened + timedelta(days=61),
        }.get(kind)
        closed = opened + timedelta(days=rng.randrange(1, 120)) if rng.random() < 0.6 else None
        if closed is not None and closed > TODAY:
            closed = None
        at = datetime.combine(opened, time(9), OSLO)
        rows.append(
            {
                "id": uuid.uuid4(),
                "person_id": person,
                "district": district,
                "kind": kind,
                "status": "closed" if closed else "open",
                "template_version": 1,
                "opened_on": opened,
                "opened_at": at,
                "planned_end": planned,
                "source": "manual",
                "closed_at": None if closed is None else datetime.combine(closed, time(9), OSLO),
                "closed_on": closed,
                "outcome": None
                if closed is None
                else rng.choice(["no_services", "reduced", "unchanged", "increased"]),
                "updated_at": at,
            }
        )
    return [complete(row) for row in rows]


def complete(row: dict[str, Any]) -> dict[str, Any]:
    """Values for the pathways module's other required columns (they do not enter the
    indicators): its model grows as that module does."""
    fillers: dict[str, Any] = {"decision_rule": "none"}
    for column in Pathway.__table__.columns:
        if column.name in row or column.nullable or column.server_default is not None:
            continue
        if column.name in fillers:
            row[column.name] = fillers[column.name]
        else:
            kind = column.type.python_type
            row[column.name] = {str: "test", int: 0, bool: False, date: row["opened_on"]}.get(
                kind, row["opened_at"]
            )
    return row


# --- the same figures, computed here --------------------------------------------------


def month_last(first: date) -> date:
    return (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)


def in_force(d: Decision, a: date, b: date) -> bool:
    last = d.ended_on or d.end
    return d.start <= b and (last is None or last >= a)


def expected(city: City, pathways: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    out: dict[tuple[str, str], dict[str, Any]] = defaultdict(dict)
    for m in MONTHS:
        key_m = f"{m:%Y-%m}"
        last = month_last(m)
        as_of = min(last, TODAY)
        for district in DISTRICTS:
            e = out[(district, key_m)]
            ds = [d for d in city.decisions if d.district == district]
            users = {d.person_id for d in ds if in_force(d, m, last)}
            e["users"] = len(users)
            active = [d for d in ds if d.start <= as_of and in_force(d, as_of, as_of)]
            e["active_decisions"] = len(active)
            e["reassessment_backlog"] = sum(
                1 for d in active if d.evaluation is not None and d.evaluation < as_of
            )
            # Waits.
            to_decision, to_visit, referrals = [], [], 0
            for person, rd, received in city.referrals:
                if rd != district or not (m <= received <= last):
                    continue
                referrals += 1
                dates = [
                    d.decision_date
                    for d in city.decisions
                    if d.person_id == person and d.decision_date >= received
                ]
                if dates:
                    to_decision.append((min(dates) - received).days)
                vdays = [
                    day
                    for (p, _, day, _, c) in city.visits.values()
                    if p == person and not c and day >= received
                ]
                if vdays:
                    to_visit.append((min(vdays) - received).days)
            e["referrals"] = referrals
            e["to_decision"] = to_decision
            e["to_visit"] = to_visit
            # Continuity.
            nursing = {d.person_id for d in ds if "15" in d.codes and in_force(d, m, last)}
            staff: dict[tuple[str | None, uuid.UUID], set[str]] = defaultdict(set)
            for (org, _), (p, vd, day, s, c) in city.visits.items():
                if vd == district and m <= day <= last and not c and s is not None and p in nursing:
                    staff[(None, p)].add(s)
                    staff[(org, p)].add(s)
            e["continuity"] = {
                unit: [len(v) for (u, _), v in staff.items() if u == unit] for unit in [None, *PROVIDERS]
            }
            appeals: dict[tuple[str, str], int] = defaultdict(int)
            for ad, day, stage, outcome in city.appeals:
                if ad == district and m <= day <= last:
                    appeals[(stage, outcome)] += 1
            e["appeals"] = dict(appeals)
            # Pathways.
            ps = [p for p in pathways if p["district"] == district]
            in_pw = {
                p["person_id"]
                for p in ps
                if p["opened_on"] <= last and (p["closed_on"] is None or p["closed_on"] >= m)
            }
            open_ = [
                p
                for p in ps
                if p["opened_on"] <= as_of and (p["closed_on"] is None or p["closed_on"] > as_of)
            ]
            closed = [p for p in ps if p["closed_on"] is not None and m <= p["closed_on"] <= last]
            e["persons_in_pathway"] = len(in_pw)
            e["pathway_share"] = len(in_pw) / len(in_pw | users) if in_pw else None
            e["pathways_open"] = len(open_)
            e["pathways_overdue"] = sum(
                1 for p in open_ if p["planned_end"] is not None and p["planned_end"] < as_of
            )
            e["pathways_closed"] = len(closed)
            e["closed_without_services"] = sum(1 for p in closed if p["outcome"] == "no_services")
    return out


def approx(values: list[int], how: str) -> Any:
    if not values:
        return None
    return pytest.approx(statistics.median(values) if how == "median" else statistics.fmean(values))


async def fact_counts(client) -> dict[str, int]:
    async with client.app.state.ctx.sessionmaker() as s:
        return {
            t: int(await s.scalar(text(f"select count(*) from pathway.{t}")))  # noqa: S608 - fixed names
            for t in ("visit_fact", "referral_fact", "decision_fact", "appeal_fact")
        }


@pytest.mark.parametrize(
    ("seed", "persons"),
    [
        pytest.param(7, 220, id="7"),
        pytest.param(2026, 220, id="2026"),
        # A smaller city for the calendar days (each of them gives it another year): the
        # running month one day old on 1 January, a leap year's February, DST months.
        pytest.param(11, 40, id="11-small", marks=pytest.mark.calendar),
    ],
)
async def test_a_generated_year_gives_the_figures_computed_independently(
    client, issuer, settings, bus, seed, persons
):
    city = generate(seed, persons)
    pathways = pathway_rows(city)
    async with client.app.state.ctx.sessionmaker() as s, s.begin():
        if pathways:
            await s.execute(insert(Pathway), pathways)
    # Every assessment event, shuffled; some of them again (same event id: a redelivery);
    # the visit corrections before the original reports.
    for event_type, event in city.assessment_events:
        await publish(bus, settings, event_type, event)
    for event_type, event in city.notification_events:
        await publish(bus, settings, event_type, event)
    rng = random.Random(3)
    for event_type, event in rng.sample(city.assessment_events, 40) + rng.sample(city.notification_events, 5):
        await publish(bus, settings, event_type, event, msg_id=f"{event['id']}-again")
    # A provider sends whole chunks again as new events (new ids, the first report time):
    # the visits are the same, and the later corrections of them stay.
    for event_type, event in rng.sample(city.notification_events, 4):
        await publish(bus, settings, event_type, {**event, "id": str(uuid.uuid4())})

    want = {
        "visit_fact": len(city.visits),
        "referral_fact": len(city.referrals),
        "decision_fact": len(city.decisions),
        "appeal_fact": len(city.appeals),
    }

    ctx = client.app.state.ctx

    async def all_in() -> None:
        assert await fact_counts(client) == want
        # Every event handled, not only one of each decision's: nothing pending on either stream.
        for producer in ("assessment", "notifications"):
            info = await ctx.bus.js.consumer_info(ctx.bus.stream_for(producer), "pathway")
            assert info.num_pending == 0
            assert info.num_ack_pending == 0

    await eventually(all_in, seconds=120, every=0.5)
    async with client.app.state.ctx.sessionmaker() as s:
        assert await s.scalar(select(func.count()).select_from(T.dead_letter)) == 0

    # Indicators for the year and the running month (stocks on today's date).
    r = await client.get(
        "/v1/indicators",
        params={"from": year_month(0), "to": year_month(12)},
        headers=auth(issuer, Role.manager),
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["today"] == TODAY.isoformat()
    assert (body["from"], body["to"]) == (year_month(0), year_month(12))
    got = {(row["district"], row["month"]): row for row in body["districts"]}
    exp = expected(city, await all_pathways(client))
    checked = 0
    for key, e in exp.items():
        row = got.get(key)
        if row is None:
            assert (e["users"], e["referrals"], e["appeals"], e["persons_in_pathway"]) == (0, 0, {}, 0), key
            continue
        checked += 1
        assert row["as_of"] == min(month_last(date.fromisoformat(key[1] + "-01")), TODAY).isoformat()
        assert row["users"] == e["users"], key
        assert row["active_decisions"] == e["active_decisions"], key
        assert row["reassessment_backlog"] == e["reassessment_backlog"], key
        rd, rv = row["referral_to_decision"], row["referral_to_first_visit"]
        assert (rd["referrals"], rd["reached"]) == (e["referrals"], len(e["to_decision"])), key
        assert rd["median_days"] == approx(e["to_decision"], "median"), key
        assert rd["mean_days"] == approx(e["to_decision"], "mean"), key
        assert (rv["referrals"], rv["reached"]) == (e["referrals"], len(e["to_visit"])), key
        assert rv["median_days"] == approx(e["to_visit"], "median"), key
        assert rv["mean_days"] == approx(e["to_visit"], "mean"), key
        staff = e["continuity"][None]
        assert row["continuity"]["persons"] == len(staff), key
        assert row["continuity"]["mean_distinct_staff"] == approx(staff, "mean"), key
        assert {(a["stage"], a["outcome"]): a["appeals"] for a in row["appeals"]} == e["appeals"], key
        if e["persons_in_pathway"] or e["pathways_closed"] or e["pathways_open"]:
            assert row["persons_in_pathway"] == e["persons_in_pathway"], key
            assert row["pathway_share"] == pytest.approx(e["pathway_share"]), key
            assert row["pathways_open"] == e["pathways_open"], key
            assert row["pathways_overdue"] == e["pathways_overdue"], key
            assert row["pathways_closed"] == e["pathways_closed"], key
            assert row["closed_without_services"] == e["closed_without_services"], key
    assert checked >= 30
    units = {(u["district"], u["unit"], u["month"]): u["continuity"] for u in body["units"]}
    for (district, month), e in exp.items():
        for org in PROVIDERS:
            staff = e["continuity"][org]
            found = units.get((district, org, month))
            if not staff:
                assert found is None
                continue
            assert found is not None
            assert found["persons"] == len(staff)
            assert found["mean_distinct_staff"] == pytest.approx(statistics.fmean(staff))
    # The figures are not trivially empty.
    assert sum(len(e["continuity"][None]) for e in exp.values()) > persons

    # One district and one unit: the same rows, filtered.
    r = await client.get(
        "/v1/indicators",
        params={"from": year_month(2), "to": year_month(3), "district": "nord", "unit": PROVIDERS[0]},
        headers=auth(issuer, Role.service_lead, districts=["nord"]),
    )
    assert r.status_code == 200, r.text
    one = r.json()
    assert {(row["district"], row["month"]) for row in one["districts"]} <= {
        ("nord", year_month(2)),
        ("nord", year_month(3)),
    }
    assert {u["unit"] for u in one["units"]} <= {PROVIDERS[0]}
    for row in one["districts"]:
        assert row["users"] == got[("nord", row["month"])]["users"]
    # A case officer sees only their districts; another district is not there for them.
    r = await client.get(
        "/v1/indicators",
        params={"from": year_month(0), "to": year_month(11)},
        headers=auth(issuer, Role.case_officer, districts=["sor"]),
    )
    assert {row["district"] for row in r.json()["districts"]} == {"sor"}
    r = await client.get(
        "/v1/indicators",
        params={"from": year_month(0), "to": year_month(11), "district": "nord"},
        headers=auth(issuer, Role.case_officer, districts=["sor"]),
    )
    assert r.status_code == 404

    # Pictures of the trends per district.
    r = await client.get(
        "/v1/indicators/pictures/continuity",
        params={"from": year_month(0), "to": year_month(11), "format": "svg"},
        headers=auth(issuer, Role.manager),
    )
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("image/svg+xml")
    svg = ET.fromstring(r.content)  # noqa: S314 - our own service's output
    words = " ".join(t.text or "" for t in svg.iter() if t.tag.endswith("text"))
    assert all(d in words for d in DISTRICTS), words
    r = await client.get(
        "/v1/indicators/pictures/pathway_share",
        params={"from": year_month(0), "to": year_month(11)},
        headers={**auth(issuer, Role.manager), "Accept": "image/png"},
    )
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "image/png"
    assert r.content.startswith(b"\x89PNG\r\n\x1a\n")


async def all_pathways(client) -> list[dict[str, Any]]:
    async with client.app.state.ctx.sessionmaker() as s:
        return [dict(r._mapping) for r in await s.execute(select(Pathway.__table__))]


async def test_out_of_order_decision_versions_and_ends_settle_on_the_same_facts(
    client, issuer, settings, bus
):
    person = uuid.uuid4()
    did = uuid.uuid4()
    decided = TODAY - timedelta(days=300)

    def on(days: int) -> date:
        return decided + timedelta(days=days)

    made = DecisionMade(
        decision_id=did,
        version=1,
        person_id=person,
        district="nord",
        decision_date=decided,
        start_date=on(1),
        evaluation_date=on(91),
        services=[service("1")],
        made_at=datetime.combine(decided, time(10), OSLO),
    )
    amended = DecisionAmended(
        decision_id=did,
        version=2,
        person_id=person,
        district="nord",
        start_date=on(1),
        evaluation_date=on(183),
        services=[service("15")],
        changes=["services"],
        amended_at=datetime.combine(on(31), time(10), OSLO),
    )
    ended = DecisionEnded(
        decision_id=did,
        version=2,
        person_id=person,
        district="nord",
        end_date=on(243),
        reason="ended",
        ended_at=datetime.combine(on(243), time(10), OSLO),
    )
    # The end first, then the amendment, then the decision it amends, then the end again.
    steps: list[tuple[EventType[Any], Any]] = [
        (DECISION_ENDED, ended),
        (DECISION_AMENDED, amended),
        (DECISION_MADE, made),
    ]
    for event_type, data in steps:
        await publish(bus, settings, event_type, envelope(event_type, data, str(did)))
    await publish(bus, settings, DECISION_ENDED, envelope(DECISION_ENDED, ended, str(did)))

    async def settled() -> dict[str, Any]:
        async with client.app.state.ctx.sessionmaker() as s:
            row = (await s.execute(text("select * from pathway.decision_fact"))).mappings().one_or_none()
        assert row is not None
        assert row["decision_date"] is not None
        return dict(row)

    row = await eventually(settled)
    assert row["content_version"] == 2
    assert row["service_codes"] == ["15"]
    assert row["evaluation_date"] == on(183)
    assert row["ended_on"] == on(243)
    assert row["decision_date"] == decided


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"from": "2026-13", "to": "2026-12"}, 422),
        ({"from": "2026-1", "to": "2026-12"}, 422),
        ({"from": "january", "to": "2026-12"}, 422),
        ({"from": "2026-05", "to": "2026-04"}, 422),
        ({"from": "2020-01", "to": "2026-04"}, 422),
        ({"to": "2026-04"}, 422),
        ({"from": "2026-01", "to": "2026-04", "unit": "not-an-org"}, 422),
    ],
)
async def test_bad_periods_are_refused(client, issuer, params, status):
    r = await client.get("/v1/indicators", params=params, headers=auth(issuer, Role.manager))
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["status"] == status


async def test_pictures_negotiate_and_refuse_what_they_cannot_give(client, issuer):
    headers = auth(issuer, Role.manager)
    params = {"from": year_month(0), "to": year_month(2)}
    r = await client.get("/v1/indicators/pictures/overdue_share", params=params, headers=headers)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("image/svg+xml")
    ET.fromstring(r.content)  # noqa: S314 - our own service's output
    r = await client.get(
        "/v1/indicators/pictures/overdue_share", params=params, headers={**headers, "Accept": "text/html"}
    )
    assert r.status_code == 406
    r = await client.get("/v1/indicators/pictures/nonsense", params=params, headers=headers)
    assert r.status_code == 422
    r = await client.get(
        "/v1/indicators/pictures/continuity", params={"from": "2026-04", "to": "2026-01"}, headers=headers
    )
    assert r.status_code == 422
    r = await client.get(
        "/v1/indicators", params=params, headers=auth(issuer, Role.provider, provider_org="911111111")
    )
    assert r.status_code == 403


@pytest.mark.calendar
async def test_the_weekly_quality_board(client, issuer, settings, bus):
    person, other = uuid.uuid4(), uuid.uuid4()
    for p, district in [(person, "nord"), (other, "sor")]:
        did = uuid.uuid4()
        made = DecisionMade(
            decision_id=did,
            version=1,
            person_id=p,
            district=district,
            decision_date=TODAY - timedelta(days=16),
            start_date=TODAY - timedelta(days=15),
            services=[service("15")],
            made_at=datetime.combine(TODAY - timedelta(days=16), time(10), OSLO),
        )
        await publish(bus, settings, DECISION_MADE, envelope(DECISION_MADE, made, str(did)))

    async def known() -> None:
        assert (await fact_counts(client))["decision_fact"] == 2

    await eventually(known)
    # This week on the clock: the ISO week's year is not always the date's (1 January 2027,
    # a Friday, is in 2026-W53).
    iso_year, iso_week, _ = TODAY.isocalendar()
    week = f"{iso_year:04d}-W{iso_week:02d}"
    lead = auth(issuer, Role.service_lead, districts=["nord"], subject="lead-nord")
    r = await client.put(
        f"/v1/persons/{person}/quality-board/{week}",
        json={
            "right_of_access_informed": True,
            "care_plan_updated": True,
            "nutrition": True,
            "vital_signs": True,
        },
        headers=lead,
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "red"
    assert r.json()["missing"] == ["fall_assessment"]
    board = (await client.get("/v1/quality-board", params={"week": week}, headers=lead)).json()
    assert [(p["person_id"], p["status"]) for p in board["persons"]] == [(str(person), "red")]
    # The whole week's record again, now complete: green.
    full = dict.fromkeys(
        ["right_of_access_informed", "care_plan_updated", "nutrition", "vital_signs", "fall_assessment"], True
    )
    r = await client.put(f"/v1/persons/{person}/quality-board/{week}", json=full, headers=lead)
    assert r.json()["status"] == "green"
    assert r.json()["missing"] == []
    # The default week is this week; the integration sees every district; unrecorded is red.
    board = (await client.get("/v1/quality-board", headers=auth(issuer, Role.integration))).json()
    assert board["week"] == week
    assert {(p["person_id"], p["status"], len(p["missing"])) for p in board["persons"]} == {
        (str(person), "green", 0),
        (str(other), "red", 5),
    }
    # Another district's lead can neither record nor see the person; a provider may not record.
    r = await client.put(f"/v1/persons/{other}/quality-board/{week}", json=full, headers=lead)
    assert r.status_code == 404
    r = await client.get("/v1/quality-board", params={"week": week, "district": "sor"}, headers=lead)
    assert r.status_code == 404
    r = await client.put(
        f"/v1/persons/{person}/quality-board/{week}", json=full, headers=auth(issuer, Role.manager)
    )
    assert r.status_code == 403
    for bad in ("2027-3", "2027-W54", "2027-W53"):
        r = await client.get("/v1/quality-board", params={"week": bad}, headers=lead)
        assert r.status_code == 422, bad
        assert r.headers["content-type"].startswith("application/problem+json")
    # Every read and write of the board is in the access log, per person.
    async with client.app.state.ctx.sessionmaker() as s:
        rows = [dict(r._mapping) for r in await s.execute(select(T.access_log))]
    seen = {(r["actor"], r["action"], r["person_id"]) for r in rows if r["resource"] == "quality-board"}
    assert ("lead-nord", "update", person) in seen
    assert ("lead-nord", "read", person) in seen
    assert ("dev-integration", "read", other) in seen
    assert not any(r["actor"] == "lead-nord" and r["person_id"] == other for r in rows)
