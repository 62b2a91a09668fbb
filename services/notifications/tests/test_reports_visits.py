"""Visit reports in idempotent batches: whole batch or nothing, rows named, replays answered
with the original receipt, another provider's orders invisible, events in chunks."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import date, datetime, time, timedelta

import pytest
from identity_corpus import VALID_NUMBERS, make_org_number
from sqlalchemy import func, select, text

from hjemflyt.notifications.db import platform_tables
from hjemflyt.notifications.main import create_app
from hjemflyt.notifications.visits.models import Visit, VisitBatch
from hjemflyt.shared.contracts.events import ORDER_ISSUED, DecidedService, OrderIssued, OrderRecipient
from hjemflyt.shared.contracts.reports import VISITS_REPORTED
from hjemflyt.shared.platform.auth import Role
from hjemflyt.shared.platform.clock import OSLO
from hjemflyt.shared.testing import auth, eventually, publish_event, running_service, suite_now, suite_today

PROVIDER = make_org_number("81234567")
OTHER = make_org_number("90000000")
RECIPIENT_NUMBER = next(n for n, cls in VALID_NUMBERS if cls == "tenor_birth_number")
T = platform_tables
TODAY = suite_today()  # the suite's pinned day, Norway's legal date (the services' too)


@pytest.fixture
async def client(settings):
    async with running_service(create_app, settings) as client:
        yield client
        relay = client.app.state.relay

        async def drained():
            assert await relay.pending_count() == 0

        await eventually(drained)
        await asyncio.sleep(0.05)


async def register(client, issuer, org: str = PROVIDER) -> None:
    r = await client.put(
        f"/v1/providers/{org}",
        json={
            "name": f"Leverandør {org}",
            "kind": "private",
            "service_codes": ["15"],
            "districts": ["frogner"],
        },
        headers=auth(issuer, Role.integration),
    )
    assert r.status_code in (200, 201), r.text


async def issue(
    client,
    settings,
    org: str = PROVIDER,
    *,
    decision_id: uuid.UUID | None = None,
    version: int = 1,
    kind: str = "new",
    start: date | None = None,
    end: date | None = None,
    person_id: uuid.UUID | None = None,
) -> uuid.UUID:
    """Publish `order.issued` as assessment would; the order's id once it is stored."""
    decision_id = decision_id or uuid.uuid4()
    data = OrderIssued(
        kind=kind,
        decision_id=decision_id,
        decision_version=version,
        person_id=person_id or uuid.uuid4(),
        district="frogner",
        provider_org=org,
        recipient=OrderRecipient(
            identity_number=RECIPIENT_NUMBER, name="Kari Nordmann", address="Eksempelveien 1"
        ),
        services=[
            DecidedService(
                service_code="15",
                service_name="Helsetjenester i hjemmet",
                hours_per_month="12",
                provider_org=org,
            )
        ],
        start_date=start or TODAY - timedelta(days=60),
        end_date=end,
        issued_at=suite_now(),
    )
    await publish_event(settings, ORDER_ISSUED, data, subject=f"{decision_id}/{org}")

    async def stored():
        async with client.app.state.ctx.sessionmaker() as s:
            row = (
                await s.execute(
                    text(
                        "select id, decision_version from notifications.provider_order "
                        "where decision_id = :d and provider_org = :o"
                    ),
                    {"d": decision_id, "o": org},
                )
            ).first()
        assert row is not None
        assert row[1] == version
        return row[0]

    return await eventually(stored)


def visit(
    order_id: uuid.UUID, n: int, *, day: date | None = None, at: time = time(8), **changes: object
) -> dict:
    """Visit `n`, planned on `day` (Norway's date) from `at` Oslo time, plus n minutes."""
    day = day or TODAY - timedelta(days=3)
    start = datetime.combine(day, at, OSLO) + timedelta(minutes=n % 600)
    out = {
        "visit_id": f"v-{n}",
        "order_id": str(order_id),
        "planned_start": start.isoformat(),
        "planned_end": (start + timedelta(minutes=30)).isoformat(),
        "actual_start": (start + timedelta(minutes=5)).isoformat(),
        "actual_end": (start + timedelta(minutes=40)).isoformat(),
        "staff_id": f"staff-{n % 7}",
        "measures_done": ["morning_care", "medication"],
        "cancelled": False,
        "cancel_cause": None,
    }
    out.update(changes)
    return out


def provider(issuer, org: str = PROVIDER) -> dict[str, str]:
    return auth(issuer, Role.provider, provider_org=org, subject=f"system-{org}")


async def put(client, headers, batch_id: str, visits: list[dict]):
    return await client.put(f"/v1/visit-batches/{batch_id}", json={"visits": visits}, headers=headers)


def assert_problem(r, status: int, slug: str) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json"), r.headers
    body = r.json()
    assert body["type"].endswith("/" + slug), body
    return body


async def scalar(client, stmt):
    async with client.app.state.ctx.sessionmaker() as s:
        return await s.scalar(stmt)


async def stored_visits(client) -> int:
    return int(await scalar(client, select(func.count()).select_from(Visit)) or 0)


async def visit_events(client) -> list[dict]:
    async with client.app.state.ctx.sessionmaker() as s:
        rows = await s.scalars(
            select(T.outbox.c.envelope)
            .where(T.outbox.c.type == VISITS_REPORTED.name)
            .order_by(T.outbox.c.seq)
        )
        return [json.loads(e) for e in rows]


@pytest.fixture
async def orders(client, issuer, settings):
    await register(client, issuer)
    await register(client, issuer, OTHER)
    mine = await issue(client, settings)
    second = await issue(client, settings)
    theirs = await issue(client, settings, OTHER)
    return mine, second, theirs


async def test_a_batch_is_stored_once_and_announced_in_chunks(client, issuer, orders, monkeypatch):
    from hjemflyt.notifications.visits import service

    monkeypatch.setattr(service, "VISITS_PER_EVENT", 4)
    mine, second, _ = orders
    visits = [visit(mine, n) for n in range(6)] + [visit(second, n) for n in range(6, 9)]
    visits.append(
        visit(
            second,
            9,
            actual_start=None,
            actual_end=None,
            staff_id=None,
            measures_done=[],
            cancelled=True,
            cancel_cause="user_not_home",
        )
    )
    batch_id = f"{TODAY:%Y-%m}-batch-1"
    r = await put(client, provider(issuer), batch_id, visits)
    assert r.status_code == 201, r.text
    receipt = r.json()
    assert receipt["visits"] == 10
    assert receipt["cancelled"] == 1
    assert receipt["orders"] == 2
    assert receipt["persons"] == 2
    assert receipt["events"] == 3
    assert r.headers["location"] == f"/v1/visit-batches/{batch_id}"
    assert await stored_visits(client) == 10

    # The same batch again (also with the JSON written differently): the receipt, nothing more.
    again = await client.put(
        f"/v1/visit-batches/{batch_id}",
        content=json.dumps({"visits": visits}, indent=2).encode(),
        headers={**provider(issuer), "content-type": "application/json"},
    )
    assert again.status_code == 200, again.text
    assert again.json() == receipt
    assert await stored_visits(client) == 10
    r = await client.get(f"/v1/visit-batches/{batch_id}", headers=provider(issuer))
    assert r.status_code == 200
    assert r.json() == receipt

    events = await visit_events(client)
    assert [e["data"]["chunk"] for e in events] == [1, 2, 3]
    assert {e["data"]["chunks"] for e in events} == {3}
    sent = [v for e in events for v in e["data"]["visits"]]
    assert [v["visit_id"] for v in sent] == [v["visit_id"] for v in visits]
    assert sent[0]["person_id"]
    assert sent[0]["district"] == "frogner"
    assert sent[-1]["cancelled"] is True
    assert sent[-1]["cancel_cause"] == "user_not_home"
    text_of_events = json.dumps(events)
    assert RECIPIENT_NUMBER not in text_of_events
    assert "Kari" not in text_of_events

    # Stored with the order's person and district; pseudonymous staff ids only.
    async with client.app.state.ctx.sessionmaker() as s:
        row = await s.scalar(select(Visit).where(Visit.visit_id == "v-0"))
    assert row is not None
    assert row.order_id == mine
    assert row.staff_id == "staff-0"
    assert row.measures_done == ["morning_care", "medication"]

    # Reading an order's visits: the provider, and the case office of the district.
    r = await client.get(f"/v1/orders/{mine}/visits", params={"limit": 4}, headers=provider(issuer))
    assert r.status_code == 200, r.text
    page = r.json()
    assert len(page["items"]) == 4
    assert page["next_cursor"]
    r = await client.get(
        f"/v1/orders/{mine}/visits", params={"cursor": page["next_cursor"]}, headers=provider(issuer)
    )
    assert [v["visit_id"] for v in r.json()["items"]] == ["v-4", "v-5"]
    officer = auth(issuer, Role.case_officer, districts=["frogner"])
    r = await client.get(f"/v1/orders/{mine}/visits", headers=officer)
    assert r.status_code == 200
    assert len(r.json()["items"]) == 6


async def test_the_same_batch_id_with_other_visits_is_refused(client, issuer, orders):
    mine, _, _ = orders
    assert (await put(client, provider(issuer), "b1", [visit(mine, 1)])).status_code == 201
    r = await put(client, provider(issuer), "b1", [visit(mine, 1, staff_id="staff-9")])
    assert_problem(r, 409, "batch-id-reused")
    # A visit id reported in another batch is named.
    r = await put(client, provider(issuer), "b2", [visit(mine, 2), visit(mine, 1)])
    body = assert_problem(r, 409, "visit-already-reported")
    assert body["rows"] == [{"index": 1, "visit_id": "v-1", "batch_id": "b1"}]
    assert await stored_visits(client) == 1
    # Another provider's batch ids and visit ids are its own: no clash, no leak.
    r = await client.get("/v1/visit-batches/b1", headers=provider(issuer, OTHER))
    assert_problem(r, 404, "not-found")


async def test_concurrent_identical_batches_store_once(client, issuer, orders):
    mine, _, _ = orders
    visits = [visit(mine, n) for n in range(50)]
    results = await asyncio.gather(*(put(client, provider(issuer), "same", visits) for _ in range(3)))
    assert sorted(r.status_code for r in results) == [200, 200, 201]
    assert len({json.dumps(r.json(), sort_keys=True) for r in results}) == 1
    assert await stored_visits(client) == 50


async def test_malformed_visits_are_named_by_index_and_nothing_is_stored(client, issuer, orders):
    mine, _, _ = orders
    good = visit(mine, 0)
    bad = [
        good,
        visit(mine, 1, planned_start="tomorrow"),
        {k: v for k, v in visit(mine, 2).items() if k != "order_id"},
        visit(mine, 3, cancel_cause="bored", cancelled=True),
        visit(mine, 4, planned_start=datetime.combine(TODAY, time(8)).isoformat()),  # no timezone
        visit(mine, 5, surprise=True),
        visit(mine, 6, staff_id="Ola Nordmann"),
    ]
    r = await put(client, provider(issuer), "bad-1", bad)
    body = assert_problem(r, 422, "invalid-visits")
    assert [row["index"] for row in body["rows"]] == [1, 2, 3, 4, 5, 6]
    assert body["rows_total"] == 6
    assert body["rows"][1]["errors"][0]["field"] == "order_id"

    start = datetime.combine(TODAY - timedelta(days=2), time(9), OSLO)
    rules = [
        visit(
            mine, 10, planned_end=(start - timedelta(hours=1)).isoformat(), planned_start=start.isoformat()
        ),
        visit(
            mine, 11, actual_start=start.isoformat(), actual_end=(start - timedelta(minutes=1)).isoformat()
        ),
        visit(
            mine, 12, cancelled=True, cancel_cause=None, measures_done=[], actual_start=None, actual_end=None
        ),
        visit(mine, 13, cancel_cause="other"),
        visit(mine, 14, actual_start=None),
        visit(mine, 15, staff_id=None),
        visit(mine, 16, day=TODAY + timedelta(days=3)),
        visit(mine, 0),  # the first v-0 here; the next two repeat its visit id
        visit(mine, 0),
        good,
    ]
    r = await put(client, provider(issuer), "bad-2", rules)
    body = assert_problem(r, 422, "invalid-visits")
    found = {row["index"]: {e["rule"] for e in row["errors"]} for row in body["rows"]}
    assert found == {
        0: {"planned-end-before-start"},
        1: {"actual-end-before-start"},
        2: {"cancel-cause-required"},
        3: {"cancel-cause-without-cancel"},
        4: {"actual-end-without-start", "actual-times-required"},
        5: {"staff-required"},
        6: {"visit-in-future"},
        8: {"duplicate-visit-id"},
        9: {"duplicate-visit-id"},
    }
    assert await stored_visits(client) == 0
    assert await visit_events(client) == []
    assert await scalar(client, select(func.count()).select_from(VisitBatch)) == 0


async def test_the_body_must_be_a_batch(client, issuer, orders):
    headers = {**provider(issuer), "content-type": "application/json"}
    for content in (b"not json", b"[]", b'{"visits": []}', b'{"visits": "x"}', b'{"items": []}'):
        r = await client.put("/v1/visit-batches/x1", content=content, headers=headers)
        assert_problem(r, 422, "validation-error")
    r = await client.put("/v1/visit-batches/bad id!", json={"visits": []}, headers=provider(issuer))
    assert r.status_code == 422
    r = await client.put("/v1/visit-batches/" + "x" * 101, json={"visits": []}, headers=provider(issuer))
    assert r.status_code == 422


async def test_oversized_batches_are_refused(client, issuer, orders, monkeypatch):
    from hjemflyt.notifications.visits import schemas

    mine, _, _ = orders
    # Too many visits: 413 naming the limit (the limit is lowered for the test's sake).
    monkeypatch.setattr(schemas, "MAX_VISITS", 3)
    from pydantic import TypeAdapter

    from hjemflyt.notifications.visits import service

    class Small(schemas.VisitBatchIn):
        visits: list[schemas.VisitIn] = schemas.Field(min_length=1, max_length=3)  # type: ignore[assignment]

    monkeypatch.setattr(service, "BATCH", TypeAdapter(Small))
    r = await put(client, provider(issuer), "big", [visit(mine, n) for n in range(4)])
    assert_problem(r, 413, "batch-too-large")
    # More bytes than the route allows: refused from the Content-Length alone.
    headers = {
        **provider(issuer),
        "content-type": "application/json",
        "content-length": str(65 * 1024 * 1024),
    }
    r = await client.put("/v1/visit-batches/huge", content=b"{}", headers=headers)
    assert_problem(r, 413, "payload-too-large")
    # Above the platform's default 1 MiB, within the route's limit: accepted.
    many = [visit(mine, n, measures_done=["m" * 40] * 10) for n in range(3)]
    padded = json.dumps({"visits": many}).encode() + b" " * (2 * 1024 * 1024)
    r = await client.put(
        "/v1/visit-batches/padded",
        content=padded,
        headers={**provider(issuer), "content-type": "application/json"},
    )
    assert r.status_code == 201, r.text


async def test_another_providers_orders_are_unknown_orders(client, issuer, orders):
    mine, _, theirs = orders
    never = uuid.uuid4()
    r = await put(client, provider(issuer), "mixed", [visit(mine, 1), visit(theirs, 2), visit(never, 3)])
    body = assert_problem(r, 404, "unknown-order")
    # The same answer for an order of another provider and one that does not exist.
    assert body["rows"] == [
        {"index": 1, "visit_id": "v-2", "order_id": str(theirs)},
        {"index": 2, "visit_id": "v-3", "order_id": str(never)},
    ]
    assert await stored_visits(client) == 0
    # The other provider cannot read this provider's order's visits either, nor a case officer elsewhere.
    assert (await put(client, provider(issuer), "ok", [visit(mine, 1)])).status_code == 201
    r = await client.get(f"/v1/orders/{mine}/visits", headers=provider(issuer, OTHER))
    assert_problem(r, 404, "not-found")
    r = await client.get(
        f"/v1/orders/{mine}/visits", headers=auth(issuer, Role.case_officer, districts=["grorud"])
    )
    assert_problem(r, 404, "not-found")
    r = await client.get("/v1/visit-batches/ok", headers=provider(issuer, OTHER))
    assert_problem(r, 404, "not-found")
    # Only providers upload visits.
    for headers in (auth(issuer, Role.case_officer, districts=["frogner"]), auth(issuer, Role.integration)):
        r = await put(client, headers, "ok2", [visit(mine, 9)])
        assert_problem(r, 403, "forbidden")
    r = await client.put("/v1/visit-batches/ok3", json={"visits": [visit(mine, 9)]})
    assert_problem(r, 401, "unauthorized")


async def test_visits_after_the_order_ended_are_refused(client, issuer, settings, orders):
    decision_id, person_id = uuid.uuid4(), uuid.uuid4()
    order_id = await issue(client, settings, decision_id=decision_id, person_id=person_id)
    end = TODAY - timedelta(days=5)
    same = await issue(
        client, settings, decision_id=decision_id, person_id=person_id, version=2, kind="ended", end=end
    )
    assert same == order_id
    # A visit belongs to the day it was planned on in Norway: late on the last day is in time,
    # just after midnight the day after is not (though in UTC that is still the last day).
    before = visit(order_id, 1, day=end, at=time(23, 30))
    after = visit(order_id, 2, day=end + timedelta(days=1), at=time(0, 20))
    r = await put(client, provider(issuer), "late", [before, after])
    body = assert_problem(r, 422, "invalid-visits")
    assert body["rows"][0]["index"] == 1
    assert body["rows"][0]["errors"][0]["rule"] == "order-ended"
    assert (await put(client, provider(issuer), "in-time", [before])).status_code == 201


async def test_a_visit_names_one_of_its_orders_service_types(client, issuer, settings):
    await register(client, issuer)

    async def order_with(*service_types: str) -> uuid.UUID:
        decision_id = uuid.uuid4()
        data = OrderIssued(
            kind="new",
            decision_id=decision_id,
            decision_version=1,
            person_id=uuid.uuid4(),
            district="frogner",
            provider_org=PROVIDER,
            recipient=OrderRecipient(
                identity_number=RECIPIENT_NUMBER, name="Kari Nordmann", address="Eksempelveien 1"
            ),
            services=[
                DecidedService(
                    service_code="15",
                    service_name=t,
                    service_type=t,
                    hours_per_month="6",
                    provider_org=PROVIDER,
                )
                for t in service_types
            ],
            start_date=TODAY - timedelta(days=60),
            issued_at=suite_now(),
        )
        await publish_event(settings, ORDER_ISSUED, data, subject=f"{decision_id}/{PROVIDER}")

        async def stored():
            row = await scalar(
                client,
                text("select id from notifications.provider_order where decision_id = :d").bindparams(
                    d=decision_id
                ),
            )
            assert row is not None
            return row

        return await eventually(stored)

    single = await order_with("home-nursing")
    several = await order_with("home-nursing", "practical-help")

    # A service type the order does not hold: 422 naming the visit, nothing stored.
    r = await put(
        client,
        provider(issuer),
        "types-bad",
        [visit(several, 1, service_type="practical-help"), visit(single, 2, service_type="practical-help")],
    )
    body = assert_problem(r, 422, "invalid-visits")
    assert [(row["index"], row["visit_id"]) for row in body["rows"]] == [(1, "v-2")]
    assert body["rows"][0]["errors"][0]["rule"] == "service-type-not-in-order"
    assert body["rows"][0]["errors"][0]["field"] == "service_type"
    assert await stored_visits(client) == 0

    r = await put(
        client,
        provider(issuer),
        "types-good",
        [
            visit(several, 1, service_type="practical-help"),
            visit(several, 2),  # ambiguous: left unknown
            visit(single, 3),  # the order's only type
            visit(single, 4, service_type="home-nursing"),
        ],
    )
    assert r.status_code == 201, r.text
    sent = [v for e in await visit_events(client) for v in e["data"]["visits"]]
    assert [(v["visit_id"], v["service_type"]) for v in sent] == [
        ("v-1", "practical-help"),
        ("v-2", None),
        ("v-3", "home-nursing"),
        ("v-4", "home-nursing"),
    ]
