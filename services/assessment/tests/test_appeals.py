"""Appeals (klage): the deadline and the late flag, the lifecycle received → reassessing →
closed or forwarded → closed, ETag/If-Match, events, district scoping, the worklist.

A refused request leaves nothing behind: no appeal, no event, no access-log row.
Gamle Oslo runs the trust model (the Oslo preset); decisions are made at once (make=true).
"""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import date, timedelta

import pytest
from identity_corpus import VALID_NUMBERS
from sqlalchemy import func, select, text

from hjemflyt.assessment.appeals import rules
from hjemflyt.assessment.db import platform_tables
from hjemflyt.assessment.main import create_app
from hjemflyt.shared.demo import decision_body
from hjemflyt.shared.platform.auth import Role
from hjemflyt.shared.testing import auth, eventually, move_clock_to, running_service

NUMBERS = [n for n, cls in VALID_NUMBERS if cls.startswith("tenor")]
APPEAL_BODY = "Statsforvalteren i Oslo og Akershus"
GROUNDS = "Jeg trenger hjelp til dusj tre ganger i uken, ikke to."


# --- rules (no IO) ----------------------------------------------------------------------


def test_the_deadline_is_the_sent_letters_or_the_decision_date_plus_the_weeks():
    made = date(2026, 11, 2)
    assert rules.deadline(appeal_deadline=date(2026, 12, 7), decision_date=made) == date(2026, 12, 7)
    assert rules.deadline(appeal_deadline=None, decision_date=made, weeks=4) == date(2026, 11, 30)
    assert rules.deadline(appeal_deadline=None, decision_date=made, weeks=6) == date(2026, 12, 14)
    assert rules.deadline(appeal_deadline=None, decision_date=None) is None


@pytest.mark.parametrize(
    ("made", "expected"),
    [
        (date(2026, 12, 3), date(2026, 12, 31)),
        (date(2026, 12, 4), date(2027, 1, 1)),  # over the year end
        (date(2028, 2, 1), date(2028, 2, 29)),  # onto the leap day
        (date(2028, 2, 29), date(2028, 3, 28)),  # from the leap day
        (date(2027, 2, 1), date(2027, 3, 1)),  # no 29 February in 2027
        (date(2027, 3, 28), date(2027, 4, 25)),  # made the day summer time starts: 28 days, not 672 hours
        (date(2027, 10, 3), date(2027, 10, 31)),  # due the day summer time ends
    ],
)
def test_four_weeks_are_28_calendar_days_across_the_calendars_edges(made, expected):
    assert rules.deadline(appeal_deadline=None, decision_date=made, weeks=4) == expected
    assert rules.is_late(expected, expected) is False
    assert rules.is_late(expected + timedelta(days=1), expected) is True


def test_an_appeal_on_the_deadline_is_in_time_and_one_day_after_is_late():
    deadline = date(2026, 11, 30)
    assert rules.is_late(deadline, deadline) is False
    assert rules.is_late(deadline + timedelta(days=1), deadline) is True
    assert rules.is_late(date(2030, 1, 1), None) is False


def test_steps_follow_the_lifecycle():
    S, step = rules.AppealStatus, rules.Step
    assert [s for s in S if rules.can_take(step.reassess, s)] == [S.received]
    assert [s for s in S if rules.can_take(step.municipality_decision, s)] == [S.reassessing]
    assert [s for s in S if rules.can_take(step.final_outcome, s)] == [S.forwarded]
    assert rules.after_municipality(rules.MunicipalityOutcome.upheld) == S.forwarded
    assert rules.after_municipality(rules.MunicipalityOutcome.changed) == S.closed
    assert rules.after_municipality(rules.MunicipalityOutcome.reversed) == S.closed
    assert rules.AWAITING[S.closed] is None


def test_decided_dates_are_legal_dates():
    today = date(2026, 12, 10)
    assert rules.check_decided(today, today=today, not_before=today, since="received") == []
    broken = rules.check_decided(today + timedelta(days=1), today=today, not_before=None, since="received")
    assert [v.rule for v in broken] == ["decided-date-in-future"]
    broken = rules.check_decided(
        date(2026, 12, 1), today=today, not_before=date(2026, 12, 2), since="forwarded"
    )
    assert [v.rule for v in broken] == ["decided-before-forwarded"]


# --- service tests (real PostgreSQL and NATS) --------------------------------------------


@pytest.fixture
async def client(settings, issuer):
    integration = auth(issuer, Role.integration)
    async with running_service(create_app, settings) as client:
        assert (await client.post("/v1/config/presets/oslo", headers=integration)).status_code == 200
        yield client
        await drain_outbox(client)


async def drain_outbox(client) -> None:
    relay = client.app.state.relay

    async def drained():
        assert await relay.pending_count() == 0

    await eventually(drained)
    await asyncio.sleep(0.05)


def assert_problem(r, status: int, slug: str) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json"), r.headers
    body = r.json()
    assert body["type"].endswith("/" + slug), body
    return body


def tag(resource: dict) -> dict[str, str]:
    return {"If-Match": f'"{resource["version"]}"'}


async def register_person(client, issuer, *, district="gamle-oslo", number=NUMBERS[0]) -> str:
    r = await client.post(
        "/v1/persons",
        json={"identity_number": number, "name": "Ola Nordmann", "address": "Gata 2", "district": district},
        headers=auth(issuer, Role.integration),
    )
    assert r.status_code == 201, r.text
    return r.json()["id"]


async def decision(client, issuer, person_id: str, *, make: bool = True) -> dict:
    """A decision starting today, on the service's (the suite's) clock."""
    start = client.app.state.clock.today()
    body = decision_body(person_id, [("home-nursing", "20", None)], start=start, make=make)
    r = await client.post("/v1/decisions", json=body, headers=auth(issuer, Role.integration))
    assert r.status_code == 201, r.text
    return r.json()


async def made(client, issuer, *, district="gamle-oslo", number=NUMBERS[0]) -> dict:
    return await decision(
        client, issuer, await register_person(client, issuer, district=district, number=number)
    )


async def appeal(client, issuer, decision_id: str, **fields) -> dict:
    r = await client.post(
        "/v1/appeals",
        json={"decision_id": decision_id, "grounds": GROUNDS, **fields},
        headers=auth(issuer, Role.integration),
    )
    assert r.status_code == 201, r.text
    assert r.headers["etag"] == f'"{r.json()["version"]}"'
    assert r.headers["location"] == f"/v1/appeals/{r.json()['id']}"
    return r.json()


async def appeal_events(client) -> list[dict]:
    """The appeal events in the outbox, in order: (type, data)."""
    outbox = platform_tables.outbox
    async with client.app.state.ctx.sessionmaker() as s:
        rows = await s.execute(
            select(outbox.c.type, outbox.c.envelope)
            .where(outbox.c.type.like("%appeal%"))
            .order_by(outbox.c.seq)
        )
        return [
            {"type": t.removeprefix("no.hjemflyt.assessment."), **json.loads(e)["data"]}
            | {"_raw": e.decode()}
            for t, e in rows
        ]


async def count(client, table: str) -> int:
    async with client.app.state.ctx.sessionmaker() as s:
        return int(await s.scalar(text(f"select count(*) from assessment.{table}")))  # noqa: S608 - fixed names


async def access_rows(client, resource: str) -> list[tuple[str, str, str]]:
    log = platform_tables.access_log
    async with client.app.state.ctx.sessionmaker() as s:
        rows = await s.execute(
            select(log.c.action, log.c.purpose, log.c.person_id)
            .where(log.c.resource == resource)
            .order_by(log.c.id)
        )
        return [(a, p, str(person)) for a, p, person in rows]


@pytest.mark.calendar
async def test_an_upheld_appeal_is_forwarded_and_the_appeal_bodys_outcome_closes_it(client, issuer):
    integration = auth(issuer, Role.integration)
    out = await made(client, issuer)
    today = client.app.state.clock.today()
    assert out["decision_date"] == today.isoformat()  # Norway's date, also just after midnight
    registered = await appeal(client, issuer, out["id"])
    assert registered["status"] == "received"
    assert registered["awaiting"] == "reassess"
    assert registered["received_date"] == today.isoformat()  # default: today, Norway
    # Made but not sent: the deadline runs from the decision date.
    assert (
        registered["deadline_date"]
        == (date.fromisoformat(out["decision_date"]) + timedelta(weeks=4)).isoformat()
    )
    assert registered["late"] is False
    assert registered["person_id"] == out["person_id"]
    url = f"/v1/appeals/{registered['id']}"

    r = await client.post(f"{url}/reassess", headers={**integration, **tag(registered)})
    assert r.status_code == 200, r.text
    reassessing = r.json()
    assert (reassessing["status"], reassessing["awaiting"]) == ("reassessing", "decide")
    assert r.headers["etag"] == f'"{reassessing["version"]}"'

    r = await client.post(
        f"{url}/municipality-decision",
        json={
            "outcome": "upheld",
            "reasoning": "Behovet er dekket med to ganger i uken.",
            "decided_date": str(today),
        },
        headers={**integration, **tag(reassessing)},
    )
    assert r.status_code == 200, r.text
    forwarded = r.json()
    assert forwarded["status"] == "forwarded"
    assert forwarded["awaiting"] == "appeal_body"
    assert forwarded["appeal_body"] == APPEAL_BODY
    assert forwarded["forwarded_date"] == str(today)
    assert forwarded["municipality_outcome"] == "upheld"
    assert forwarded["answered_date"] is None

    client.app.state.clock.advance(timedelta(days=40))
    final_day = client.app.state.clock.today()
    r = await client.post(
        f"{url}/final-outcome",
        json={"outcome": "returned", "decided_date": str(final_day)},
        headers=integration,
    )
    assert r.status_code == 200, r.text
    closed = r.json()
    assert (closed["status"], closed["awaiting"]) == ("closed", None)
    assert (closed["final_outcome"], closed["final_date"]) == ("returned", str(final_day))
    assert closed["answered_date"] == str(final_day)  # IPLOS: received and answered

    got = await client.get(url, headers=integration)
    assert got.json() == closed
    assert got.headers["etag"] == f'"{closed["version"]}"'
    listed = (await client.get(f"/v1/decisions/{out['id']}/appeals", headers=integration)).json()
    assert [a["id"] for a in listed] == [closed["id"]]

    events = await appeal_events(client)
    assert [(e["type"], e.get("stage"), e.get("outcome"), e.get("forwarded")) for e in events] == [
        ("appeal.received.v1", None, None, None),
        ("appeal.decided.v1", "municipality", "upheld", True),
        ("appeal.decided.v1", "county_governor", "returned", False),
    ]
    assert events[0]["late"] is False
    assert events[2]["decided_date"] == str(final_day)
    assert all(GROUNDS not in e["_raw"] and "Ola" not in e["_raw"] for e in events)  # pseudonymous
    # Every read and write is in the access log, about the person.
    assert await access_rows(client, "appeal") == [
        ("create", "appeal handling", out["person_id"]),
        ("update", "appeal handling", out["person_id"]),
        ("update", "appeal handling", out["person_id"]),
        ("update", "appeal handling", out["person_id"]),
        ("read", "appeal handling", out["person_id"]),
    ]


async def test_the_municipality_gives_the_person_what_they_asked_and_links_the_new_decision(client, issuer):
    integration = auth(issuer, Role.integration)
    out = await made(client, issuer)
    other = await made(client, issuer, number=NUMBERS[1])
    registered = await appeal(client, issuer, out["id"])
    url = f"/v1/appeals/{registered['id']}"
    await client.post(f"{url}/reassess", headers=integration)
    today = str(client.app.state.clock.today())
    decide = {
        "outcome": "changed",
        "reasoning": "Du får hjelp til dusj tre ganger i uken.",
        "decided_date": today,
    }

    assert_problem(
        await client.post(
            f"{url}/municipality-decision",
            json={**decide, "new_decision_id": other["id"]},
            headers=integration,
        ),
        422,
        "new-decision-other-person",
    )
    assert_problem(
        await client.post(
            f"{url}/municipality-decision",
            json={**decide, "outcome": "upheld", "new_decision_id": other["id"]},
            headers=integration,
        ),
        422,
        "new-decision-when-upheld",
    )
    assert_problem(
        await client.post(
            f"{url}/municipality-decision",
            json={**decide, "new_decision_id": str(uuid.uuid4())},
            headers=integration,
        ),
        422,
        "unknown-new-decision",
    )
    assert [e["type"] for e in await appeal_events(client)] == ["appeal.received.v1"]  # nothing half stored

    new = await decision(client, issuer, out["person_id"])
    r = await client.post(
        f"{url}/municipality-decision", json={**decide, "new_decision_id": new["id"]}, headers=integration
    )
    assert r.status_code == 200, r.text
    closed = r.json()
    assert (closed["status"], closed["municipality_outcome"]) == ("closed", "changed")
    assert closed["new_decision_id"] == new["id"]
    assert closed["forwarded_date"] is None
    assert closed["appeal_body"] is None
    assert closed["answered_date"] == today
    decided = (await appeal_events(client))[-1]
    assert (decided["stage"], decided["outcome"], decided["forwarded"]) == ("municipality", "changed", False)
    assert decided["new_decision_id"] == new["id"]
    # A closed appeal takes no more steps; the person may appeal the decision again.
    assert_problem(await client.post(f"{url}/reassess", headers=integration), 409, "invalid-transition")
    assert (
        await client.post(
            "/v1/appeals", json={"decision_id": out["id"], "grounds": "Igjen."}, headers=integration
        )
    ).status_code == 201


@pytest.mark.calendar
async def test_a_late_appeal_is_flagged_never_refused(client, issuer):
    integration = auth(issuer, Role.integration)
    late_one = await made(client, issuer)
    in_time_one = await made(client, issuer, number=NUMBERS[1])
    sent_on = client.app.state.clock.today()
    deadlines = []
    for out in (late_one, in_time_one):
        sent = await client.post(f"/v1/decisions/{out['id']}/send", headers=integration)
        deadlines.append(sent.json()["appeal_deadline"])
    assert deadlines == [str(sent_on + timedelta(weeks=4))] * 2  # four weeks from the day it was sent
    client.app.state.clock.advance(timedelta(weeks=5))

    late = await appeal(client, issuer, late_one["id"])
    assert late["deadline_date"] == deadlines[0]  # the deadline set when the letter was sent
    assert late["late"] is True
    assert late["status"] == "received"
    assert (await appeal_events(client))[0]["late"] is True
    # Received on the deadline day, registered a week later: in time.
    in_time = await appeal(client, issuer, in_time_one["id"], received_date=deadlines[1])
    assert (in_time["received_date"], in_time["late"]) == (deadlines[1], False)


async def test_refused_registrations_leave_nothing_behind(client, issuer):
    integration = auth(issuer, Role.integration)
    person_id = await register_person(client, issuer)
    draft = await decision(client, issuer, person_id, make=False)
    out = await decision(client, issuer, person_id)
    today = client.app.state.clock.today()
    url = "/v1/appeals"

    assert_problem(
        await client.post(url, json={"decision_id": draft["id"], "grounds": GROUNDS}, headers=integration),
        409,
        "decision-not-made",
    )
    assert_problem(
        await client.post(
            url,
            json={
                "decision_id": out["id"],
                "grounds": GROUNDS,
                "received_date": str(today + timedelta(days=1)),
            },
            headers=integration,
        ),
        422,
        "received-date-in-future",
    )
    assert_problem(
        await client.post(
            url,
            json={
                "decision_id": out["id"],
                "grounds": GROUNDS,
                "received_date": str(today - timedelta(days=1)),
            },
            headers=integration,
        ),
        422,
        "received-before-decision",
    )
    assert_problem(
        await client.post(
            url, json={"decision_id": str(uuid.uuid4()), "grounds": GROUNDS}, headers=integration
        ),
        404,
        "not-found",
    )
    assert_problem(
        await client.post(url, json={"decision_id": out["id"], "grounds": ""}, headers=integration),
        422,
        "validation-error",
    )
    assert await count(client, "appeal") == 0
    assert await appeal_events(client) == []
    assert await access_rows(client, "appeal") == []

    first = await appeal(client, issuer, out["id"])
    body = assert_problem(
        await client.post(
            url, json={"decision_id": out["id"], "grounds": "En gang til."}, headers=integration
        ),
        409,
        "appeal-already-open",
    )
    assert body["appeal_id"] == first["id"]
    assert await count(client, "appeal") == 1


async def test_wrong_steps_are_invalid_transitions_and_stale_etags_are_refused(client, issuer):
    integration = auth(issuer, Role.integration)
    out = await made(client, issuer)
    registered = await appeal(client, issuer, out["id"])
    url = f"/v1/appeals/{registered['id']}"
    today = client.app.state.clock.today()
    decide = {"outcome": "upheld", "reasoning": "Vedtaket står.", "decided_date": str(today)}
    final = {"outcome": "upheld", "decided_date": str(today)}

    body = assert_problem(
        await client.post(f"{url}/municipality-decision", json=decide, headers=integration),
        409,
        "invalid-transition",
    )
    assert (body["appeal_status"], body["awaiting"]) == ("received", "reassess")
    assert_problem(
        await client.post(f"{url}/final-outcome", json=final, headers=integration), 409, "invalid-transition"
    )
    assert_problem(
        await client.post(f"{url}/reassess", headers={**integration, "If-Match": '"7"'}),
        412,
        "precondition-failed",
    )
    r = await client.post(
        f"{url}/reassess", headers={**integration, "If-Match": f'W/"{registered["version"]}"'}
    )
    assert r.status_code == 200, r.text
    assert_problem(await client.post(f"{url}/reassess", headers=integration), 409, "invalid-transition")
    assert_problem(
        await client.post(
            f"{url}/municipality-decision", json=decide, headers={**integration, **tag(registered)}
        ),
        412,
        "precondition-failed",
    )
    assert_problem(
        await client.post(
            f"{url}/municipality-decision",
            json={**decide, "decided_date": str(today + timedelta(days=1))},
            headers=integration,
        ),
        422,
        "decided-date-in-future",
    )
    assert_problem(
        await client.post(
            f"{url}/municipality-decision",
            json={**decide, "decided_date": str(today - timedelta(days=1))},
            headers=integration,
        ),
        422,
        "decided-before-received",
    )
    assert_problem(
        await client.post(
            f"{url}/municipality-decision", json={**decide, "outcome": "granted"}, headers=integration
        ),
        422,
        "validation-error",
    )
    forwarded = (await client.post(f"{url}/municipality-decision", json=decide, headers=integration)).json()
    assert forwarded["status"] == "forwarded"
    assert_problem(
        await client.post(
            f"{url}/final-outcome",
            json={**final, "decided_date": str(today - timedelta(days=1))},
            headers=integration,
        ),
        422,
        "decided-before-forwarded",
    )
    assert (await client.get(url, headers=integration)).json()["version"] == forwarded["version"]
    assert [e["type"] for e in await appeal_events(client)] == ["appeal.received.v1", "appeal.decided.v1"]


async def test_case_officers_see_only_appeals_in_their_districts(client, issuer):
    out = await made(client, issuer)
    registered = await appeal(client, issuer, out["id"])
    other = auth(issuer, Role.case_officer, districts=["frogner"])
    mine = auth(issuer, Role.case_officer, districts=["gamle-oslo"])
    url = f"/v1/appeals/{registered['id']}"
    assert_problem(await client.get(url, headers=other), 404, "not-found")
    assert_problem(await client.post(f"{url}/reassess", headers=other), 404, "not-found")
    assert_problem(await client.get(f"/v1/decisions/{out['id']}/appeals", headers=other), 404, "not-found")
    second = await made(client, issuer, number=NUMBERS[1])
    assert_problem(
        await client.post(
            "/v1/appeals", json={"decision_id": second["id"], "grounds": GROUNDS}, headers=other
        ),
        404,
        "not-found",
    )
    assert (await client.get("/v1/worklists/appeals-awaiting", headers=other)).json()["items"] == []
    assert (await client.get(url, headers=mine)).status_code == 200
    assert [
        a["id"] for a in (await client.get("/v1/worklists/appeals-awaiting", headers=mine)).json()["items"]
    ] == [registered["id"]]
    service_lead = auth(issuer, Role.service_lead, districts=["gamle-oslo"])
    assert_problem(await client.post(f"{url}/reassess", headers=service_lead), 403, "forbidden")


@pytest.mark.calendar
async def test_the_worklist_lists_open_appeals_oldest_first_with_what_each_awaits(client, issuer):
    integration = auth(issuer, Role.integration)
    decisions = [await made(client, issuer, number=NUMBERS[i]) for i in range(4)]
    first_day = client.app.state.clock.today()
    move_clock_to(client.app.state.clock, first_day + timedelta(days=3))
    # Registered in another order than received.
    received = {2: 0, 0: 1, 3: 2, 1: 3}  # decision index -> days after the decisions were made
    appeals = {
        i: await appeal(client, issuer, decisions[i]["id"], received_date=str(first_day + timedelta(days=d)))
        for i, d in received.items()
    }
    today = str(client.app.state.clock.today())
    await client.post(f"/v1/appeals/{appeals[0]['id']}/reassess", headers=integration)
    await client.post(f"/v1/appeals/{appeals[3]['id']}/reassess", headers=integration)
    await client.post(
        f"/v1/appeals/{appeals[3]['id']}/municipality-decision",
        json={"outcome": "upheld", "reasoning": "Vedtaket står.", "decided_date": today},
        headers=integration,
    )
    await client.post(f"/v1/appeals/{appeals[1]['id']}/reassess", headers=integration)
    await client.post(
        f"/v1/appeals/{appeals[1]['id']}/municipality-decision",
        json={"outcome": "reversed", "reasoning": "Du får det du ba om.", "decided_date": today},
        headers=integration,
    )

    r = await client.get("/v1/worklists/appeals-awaiting", headers=integration)
    items = r.json()["items"]
    assert [(a["id"], a["awaiting"]) for a in items] == [
        (appeals[2]["id"], "reassess"),
        (appeals[0]["id"], "decide"),
        (appeals[3]["id"], "appeal_body"),
    ]  # the closed one (1) is not there
    page1 = (await client.get("/v1/worklists/appeals-awaiting?limit=2", headers=integration)).json()
    assert [a["id"] for a in page1["items"]] == [appeals[2]["id"], appeals[0]["id"]]
    page2 = (
        await client.get(
            f"/v1/worklists/appeals-awaiting?limit=2&cursor={page1['next_cursor']}", headers=integration
        )
    ).json()
    assert [a["id"] for a in page2["items"]] == [appeals[3]["id"]]
    assert page2["next_cursor"] is None
    only = (await client.get("/v1/worklists/appeals-awaiting?awaiting=decide", headers=integration)).json()
    assert [a["id"] for a in only["items"]] == [appeals[0]["id"]]
    assert_problem(
        await client.get("/v1/worklists/appeals-awaiting?cursor=bad", headers=integration),
        400,
        "invalid-cursor",
    )
    worklist_reads = [row for row in await access_rows(client, "appeal-list") if row[1] == "appeal worklist"]
    assert {person for _, _, person in worklist_reads} >= {decisions[i]["person_id"] for i in (0, 2, 3)}


async def test_a_retried_registration_with_an_idempotency_key_registers_one_appeal(client, issuer):
    integration = auth(issuer, Role.integration)
    out = await made(client, issuer)
    headers = {**integration, "Idempotency-Key": "klage-0001"}
    body = {"decision_id": out["id"], "grounds": GROUNDS}
    first = await client.post("/v1/appeals", json=body, headers=headers)
    second = await client.post("/v1/appeals", json=body, headers=headers)
    assert first.status_code == second.status_code == 201
    assert second.headers["idempotency-replayed"] == "true"
    assert second.json()["id"] == first.json()["id"]
    assert await count(client, "appeal") == 1
    assert [e["type"] for e in await appeal_events(client)] == ["appeal.received.v1"]
    assert [a for a, _, _ in await access_rows(client, "appeal")] == [
        "create",
        "read",
    ]  # the replay is a read
    log = platform_tables.access_log
    async with client.app.state.ctx.sessionmaker() as s:
        replays = await s.scalar(
            select(func.count())
            .select_from(log)
            .where(log.c.purpose == "idempotent retry of an appeal registration")
        )
    assert replays == 1
