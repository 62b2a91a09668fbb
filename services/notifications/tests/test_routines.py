"""The district routine registry: templates and district overrides, draft -> comment period
-> published, pushed to the providers concerned, acknowledged, reminded, escalated.

Providers: A works in frogner and gamle-oslo, B in grorud, C in frogner only.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, time, timedelta

import pytest
from identity_corpus import make_org_number
from sqlalchemy import select

from hjemflyt.notifications.db import platform_tables
from hjemflyt.notifications.main import create_app
from hjemflyt.notifications.messages.sweep import sweep_once
from hjemflyt.notifications.routines.rules import ack_deadline, effective
from hjemflyt.notifications.routines.service import routines_reference
from hjemflyt.notifications.routines.worker import sweep_reminders
from hjemflyt.shared.contracts.routines import ROUTINE_ACKNOWLEDGED, ROUTINE_PUBLISHED
from hjemflyt.shared.platform.auth import Role
from hjemflyt.shared.platform.clock import OSLO
from hjemflyt.shared.testing import auth, move_clock_to, running_service

A = make_org_number("81234567")
B = make_org_number("90000000")
C = make_org_number("97476067")
T = platform_tables


@pytest.fixture
async def client(settings):
    async with running_service(create_app, settings) as client:
        for org, districts in ((A, ["frogner", "gamle-oslo"]), (B, ["grorud"]), (C, ["frogner"])):
            r = await client.put(
                f"/v1/providers/{org}",
                json={
                    "name": f"Leverandør {org}",
                    "kind": "private",
                    "service_codes": ["15"],
                    "districts": districts,
                },
                headers=writer_headers(),
            )
            assert r.status_code == 201, r.text
        yield client


# The helpers below make tokens with the session's development issuer (set per test).
_ISSUER: dict = {}


@pytest.fixture(autouse=True)
def _remember_issuer(issuer):
    _ISSUER["issuer"] = issuer


def writer_headers() -> dict[str, str]:
    return auth(_ISSUER["issuer"], Role.integration)


def manager() -> dict[str, str]:
    return auth(_ISSUER["issuer"], Role.manager, subject="contract-owner")


def provider(org: str) -> dict[str, str]:
    return auth(_ISSUER["issuer"], Role.provider, provider_org=org, subject=f"user-{org}")


def case_officer(district: str = "frogner") -> dict[str, str]:
    return auth(_ISSUER["issuer"], Role.case_officer, districts=[district])


def assert_problem(r, status: int, slug: str) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["type"].endswith("/" + slug), r.json()
    return r.json()


async def create(
    client, *, key="on-call-numbers", kind="on_call", district=None, title="Vakttelefoner", body="Ring 1"
):
    r = await client.post(
        "/v1/routines",
        json={"kind": kind, "key": key, "district": district, "title": title, "body": body},
        headers=manager(),
    )
    assert r.status_code == 201, r.text
    return r.json()


async def publish(client, routine_id: str, number: int):
    return await client.post(f"/v1/routines/{routine_id}/versions/{number}/publish", headers=manager())


async def inbox(client, org: str, kind: str | None = None) -> list[dict]:
    r = await client.get("/v1/inbox", headers=provider(org))
    assert r.status_code == 200, r.text
    return [m for m in r.json()["items"] if kind is None or m["kind"] == kind]


async def outbox(client, event_type) -> list[dict]:
    async with client.app.state.ctx.sessionmaker() as s:
        rows = await s.scalars(
            select(T.outbox.c.envelope).where(T.outbox.c.type == event_type.name).order_by(T.outbox.c.seq)
        )
        return [json.loads(e)["data"] for e in rows]


async def reference(client, district: str):
    async with client.app.state.ctx.sessionmaker() as s:
        return await routines_reference(s, district)


def test_effective_set_prefers_the_districts_override():
    latest = {("a", None): "template-a", ("a", "frogner"): "frogner-a", ("b", None): "template-b"}
    assert effective("frogner", latest) == {"a": "frogner-a", "b": "template-b"}
    assert effective("frogner", dict(reversed(list(latest.items())))) == {"a": "frogner-a", "b": "template-b"}
    assert effective("grorud", {k: v for k, v in latest.items() if k[1] is None}) == {
        "a": "template-a",
        "b": "template-b",
    }


@pytest.mark.parametrize(
    ("published", "days", "deadline"),
    [
        # Summer time ends on 31 October 2027 at 03:00: a week from 00:20 that morning is 00:20
        # on 7 November, not 23:20 on the 6th (7 x 24 hours).
        (datetime(2027, 10, 31, 0, 20, tzinfo=OSLO), 7, datetime(2027, 11, 7, 0, 20, tzinfo=OSLO)),
        # Summer time starts on 28 March 2027: a week from 23:30 on the 27th is 23:30 on
        # 3 April, not 00:30 on the 4th.
        (datetime(2027, 3, 27, 23, 30, tzinfo=OSLO), 7, datetime(2027, 4, 3, 23, 30, tzinfo=OSLO)),
        (datetime(2027, 3, 28, 0, 20, tzinfo=OSLO), 1, datetime(2027, 3, 29, 0, 20, tzinfo=OSLO)),
        (datetime(2026, 12, 31, 0, 20, tzinfo=OSLO), 7, datetime(2027, 1, 7, 0, 20, tzinfo=OSLO)),
        (datetime(2028, 2, 28, 0, 20, tzinfo=OSLO), 1, datetime(2028, 2, 29, 0, 20, tzinfo=OSLO)),
        (datetime(2028, 2, 29, 0, 20, tzinfo=OSLO), 7, datetime(2028, 3, 7, 0, 20, tzinfo=OSLO)),
    ],
)
def test_the_acknowledgement_deadline_is_days_on_norways_calendar(published, days, deadline):
    got = ack_deadline(published.astimezone(UTC), days)  # the service's clock is in UTC
    assert got == deadline
    assert got.astimezone(OSLO).date() == deadline.date()


@pytest.mark.calendar
async def test_a_template_from_draft_through_comments_to_publication(client, settings):
    clock = client.app.state.clock
    routine = await create(client)
    rid = routine["id"]
    assert routine["district"] is None
    assert [(v["number"], v["status"]) for v in routine["versions"]] == [(1, "draft")]
    assert await reference(client, "frogner") is None
    r = await client.get("/v1/routines", params={"district": "frogner"}, headers=case_officer())
    assert r.json() == {"district": "frogner", "version": 0, "published_at": None, "routines": []}
    # Providers see no drafts.
    assert_problem(await client.get(f"/v1/routines/{rid}", headers=provider(A)), 404, "not-found")

    # A draft can change; then it goes out for comments to every provider (a template).
    r = await client.patch(
        f"/v1/routines/{rid}/versions/1", json={"body": "Ring 915 55 555"}, headers=manager()
    )
    assert r.status_code == 200
    assert r.json()["body"] == "Ring 915 55 555"
    until = clock.today() + timedelta(days=7)
    r = await client.post(
        f"/v1/routines/{rid}/versions/1/comment-period", json={"until": until.isoformat()}, headers=manager()
    )
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["comment_until"]) == ("comment", until.isoformat())
    for org in (A, B, C):
        [message] = await inbox(client, org, "routine.comment_requested")
        assert message["data"]["routine_id"] == rid
        assert message["data"]["body"] == "Ring 915 55 555"
        assert message["data"]["comment_until"] == until.isoformat()
        assert message["ack"]["required"] is False
    assert (await inbox(client, A, "routine.comment_requested"))[0]["data"]["districts"] == [
        "frogner",
        "gamle-oslo",
    ]

    # Providers comment; each sees its own, the author sees all.
    for org, text in ((A, "Legg til nattnummer"), (B, "Greit for oss")):
        r = await client.post(
            f"/v1/routines/{rid}/versions/1/comments", json={"text": text}, headers=provider(org)
        )
        assert r.status_code == 201, r.text
    r = await client.get(f"/v1/routines/{rid}/versions/1/comments", headers=provider(A))
    assert [(c["provider_org"], c["text"]) for c in r.json()] == [(A, "Legg til nattnummer")]
    r = await client.get(f"/v1/routines/{rid}/versions/1/comments", headers=manager())
    assert [c["provider_org"] for c in r.json()] == [A, B]
    # The provider sees the version under comment, not yet published.
    r = await client.get(f"/v1/routines/{rid}", headers=provider(C))
    assert [(v["number"], v["status"]) for v in r.json()["versions"]] == [(1, "comment")]

    # Not published while the period is open; no comments once it closed.
    assert_problem(await publish(client, rid, 1), 409, "comment-period-open")
    move_clock_to(clock, until + timedelta(days=1), time(12))
    r = await client.post(
        f"/v1/routines/{rid}/versions/1/comments", json={"text": "Sent"}, headers=provider(C)
    )
    assert_problem(r, 409, "comment-period-closed")

    r = await publish(client, rid, 1)
    assert r.status_code == 200, r.text
    published = r.json()
    assert published["status"] == "published"
    assert sorted(a["provider_org"] for a in published["acknowledgements"]) == sorted([A, B, C])
    assert_problem(await publish(client, rid, 1), 409, "routine-version-published")
    r = await client.patch(f"/v1/routines/{rid}/versions/1", json={"title": "Endret"}, headers=manager())
    assert_problem(r, 409, "routine-version-published")

    now = clock.now()
    for org in (A, B, C):
        [message] = await inbox(client, org, "routine.published")
        assert message["reference_id"] == published["id"]
        assert message["ack"]["required"] is True
        assert message["ack"]["status"] == "awaiting"
        deadline = _parse(message["ack"]["deadline"])
        # The same time of day in Norway, `routine_ack_days` calendar days later.
        expected = now.astimezone(OSLO) + timedelta(days=settings.routine_ack_days)
        assert abs(deadline - expected) < timedelta(minutes=1)
        assert deadline.astimezone(OSLO).date() == expected.date()
        assert deadline > now
    [event] = await outbox(client, ROUTINE_PUBLISHED)
    assert event["routine_id"] == rid
    assert event["number"] == 1
    assert event["district"] is None
    assert event["districts"] == ["frogner", "gamle-oslo", "grorud"]
    assert sorted(event["provider_orgs"]) == sorted([A, B, C])

    r = await client.get("/v1/routines", params={"district": "grorud"}, headers=provider(B))
    effective_set = r.json()
    assert effective_set["version"] == 1
    assert [(x["key"], x["district"], x["number"], x["body"]) for x in effective_set["routines"]] == [
        ("on-call-numbers", None, 1, "Ring 915 55 555")
    ]
    ref = await reference(client, "grorud")
    assert ref is not None
    assert ref["version"] == 1
    assert ref["district"] == "grorud"


def _parse(value: str) -> datetime:
    return datetime.fromisoformat(value)


async def test_overrides_and_the_district_version(client):
    template = await create(client, body="Ring sentralen")
    assert (await publish(client, template["id"], 1)).status_code == 200
    assert [(await reference(client, d))["version"] for d in ("frogner", "gamle-oslo", "grorud")] == [1, 1, 1]  # type: ignore[index]

    # Frogner's own on-call numbers: pushed to A and C (they work there), not B.
    override = await create(client, district="frogner", body="Ring Frogner")
    assert (await publish(client, override["id"], 1)).status_code == 200
    assert len(await inbox(client, A, "routine.published")) == 2
    assert len(await inbox(client, C, "routine.published")) == 2
    assert len(await inbox(client, B, "routine.published")) == 1
    r = await client.get("/v1/routines", params={"district": "frogner"}, headers=case_officer("grorud"))
    assert [(x["district"], x["body"]) for x in r.json()["routines"]] == [("frogner", "Ring Frogner")]
    r = await client.get("/v1/routines", params={"district": "grorud"}, headers=case_officer())
    assert [(x["district"], x["body"]) for x in r.json()["routines"]] == [(None, "Ring sentralen")]
    frogner = await reference(client, "frogner")
    assert frogner is not None
    assert frogner["version"] == 2

    # A new template version concerns the districts without an override: A (for gamle-oslo)
    # and B, not C. Frogner's version does not move; the others' do.
    r = await client.post(
        f"/v1/routines/{template['id']}/versions",
        json={"title": "Vakttelefoner", "body": "Ring ny sentral"},
        headers=manager(),
    )
    assert r.status_code == 201
    assert r.json()["number"] == 2
    r = await publish(client, template["id"], 2)
    assert sorted(a["provider_org"] for a in r.json()["acknowledgements"]) == sorted([A, B])
    assert (await inbox(client, A, "routine.published"))[-1]["data"]["districts"] == ["gamle-oslo"]
    assert len(await inbox(client, C, "routine.published")) == 2
    versions = {d: (await reference(client, d))["version"] for d in ("frogner", "gamle-oslo", "grorud")}  # type: ignore[index]
    assert versions == {"frogner": 2, "gamle-oslo": 2, "grorud": 2}
    assert await reference(client, "alna") is not None  # a district without providers still has the templates
    r = await client.get(f"/v1/routines/{template['id']}", headers=manager())
    assert [(v["number"], v["status"]) for v in r.json()["versions"]] == [(1, "superseded"), (2, "published")]
    r = await client.get("/v1/routines", headers=case_officer())
    assert [(x["key"], x["district"], x["published_number"]) for x in r.json()] == [
        ("on-call-numbers", None, 2),
        ("on-call-numbers", "frogner", 1),
    ]


@pytest.mark.calendar
async def test_acknowledgements_reminders_and_escalation(client, settings):
    clock = client.app.state.clock
    routine = await create(client)
    rid = routine["id"]
    assert (await publish(client, rid, 1)).status_code == 200
    message = {org: (await inbox(client, org, "routine.published"))[0] for org in (A, B, C)}
    # Due `routine_ack_days` later on Norway's calendar (published on the night summer time
    # ends, 7 x 24 hours would be due the evening before).
    for m in message.values():
        deadline = _parse(m["ack"]["deadline"]).astimezone(OSLO)
        assert deadline.date() == clock.today() + timedelta(days=settings.routine_ack_days)

    # A accepts, B rejects with a reason (a task for the case office), C stays silent.
    r = await client.post(
        f"/v1/messages/{message[A]['id']}/acknowledgement", json={"accepted": True}, headers=provider(A)
    )
    assert r.status_code == 201, r.text
    r = await client.post(
        f"/v1/messages/{message[B]['id']}/acknowledgement",
        json={"accepted": False, "reason": "Vi mangler nattbemanning"},
        headers=provider(B),
    )
    assert r.status_code == 201, r.text
    events = await outbox(client, ROUTINE_ACKNOWLEDGED)
    assert [(e["provider_org"], e["accepted"]) for e in events] == [(A, True), (B, False)]
    assert "nattbemanning" not in json.dumps(events)
    tasks = (await client.get("/v1/tasks", headers=auth(_ISSUER["issuer"], Role.integration))).json()["items"]
    assert [(t["kind"], t["provider_org"], t["details"]["reason"]) for t in tasks] == [
        ("routine_unacknowledged", B, "Vi mangler nattbemanning")
    ]

    # Acknowledgement status for the case office; a provider sees only its own.
    r = await client.get(f"/v1/routines/{rid}", headers=case_officer("grorud"))
    status = {a["provider_org"]: a["status"] for a in r.json()["versions"][0]["acknowledgements"]}
    assert status == {A: "accepted", B: "rejected", C: "awaiting"}
    r = await client.get(f"/v1/routines/{rid}", headers=provider(A))
    assert [a["provider_org"] for a in r.json()["versions"][0]["acknowledgements"]] == [A]
    r = await client.get(f"/v1/routines/{rid}/acknowledgements/{A}", headers=provider(A))
    assert r.status_code == 200
    assert r.json()[0]["status"] == "accepted"
    assert_problem(
        await client.get(f"/v1/routines/{rid}/acknowledgements/{B}", headers=provider(A)), 404, "not-found"
    )
    r = await client.get(f"/v1/routines/{rid}/acknowledgements/{C}", headers=case_officer())
    assert r.json()[0]["status"] == "awaiting"

    # Reminders: none before N days, then one per interval to the silent provider only.
    assert await sweep_reminders(client.app.state.ctx) == 0
    clock.advance(timedelta(days=settings.routine_reminder_after_days))
    assert await sweep_reminders(client.app.state.ctx) == 1
    assert await sweep_reminders(client.app.state.ctx) == 0
    clock.advance(timedelta(days=1))
    assert await sweep_reminders(client.app.state.ctx) == 0
    clock.advance(timedelta(days=1))
    assert await sweep_reminders(client.app.state.ctx) == 1
    reminders = await inbox(client, C, "routine.reminder")
    assert [m["data"]["reminder"] for m in reminders] == [1, 2]
    assert reminders[0]["data"]["message_id"] == message[C]["id"]
    assert await inbox(client, A, "routine.reminder") == []

    # Past the deadline: the acknowledgement sweep escalates (task + one more reminder).
    clock.advance(timedelta(days=settings.routine_ack_days))
    assert await sweep_once(client.app.state.ctx) >= 1
    assert len(await inbox(client, C, "routine.reminder")) == 3
    tasks = (await client.get("/v1/tasks", headers=auth(_ISSUER["issuer"], Role.integration))).json()["items"]
    assert sorted(t["provider_org"] for t in tasks) == sorted([B, C])
    # A late answer closes the escalation.
    r = await client.post(
        f"/v1/messages/{message[C]['id']}/acknowledgement", json={"accepted": True}, headers=provider(C)
    )
    assert r.status_code == 201, r.text
    tasks = (await client.get("/v1/tasks", headers=auth(_ISSUER["issuer"], Role.integration))).json()["items"]
    assert [t["provider_org"] for t in tasks] == [B]
    clock.advance(timedelta(days=10))
    assert await sweep_reminders(client.app.state.ctx) == 0


async def test_a_newer_publication_supersedes_an_unanswered_one(client, settings):
    routine = await create(client)
    rid = routine["id"]
    assert (await publish(client, rid, 1)).status_code == 200
    first = (await inbox(client, B, "routine.published"))[0]
    r = await client.post(
        f"/v1/routines/{rid}/versions", json={"title": "V2", "body": "Ring 2"}, headers=manager()
    )
    assert r.status_code == 201
    assert (await publish(client, rid, 2)).status_code == 200
    r = await client.post(
        f"/v1/messages/{first['id']}/acknowledgement", json={"accepted": True}, headers=provider(B)
    )
    assert_problem(r, 409, "acknowledgement-superseded")
    r = await client.get(f"/v1/routines/{rid}/acknowledgements/{B}", headers=provider(B))
    assert [a["status"] for a in r.json()] == ["superseded", "awaiting"]
    # Neither reminders nor escalation for the superseded one.
    client.app.state.clock.advance(timedelta(days=settings.routine_ack_days + 1))
    await sweep_once(client.app.state.ctx)
    tasks = (await client.get("/v1/tasks", headers=auth(_ISSUER["issuer"], Role.integration))).json()["items"]
    assert {t["details"]["number"] for t in tasks} == {2}


async def test_bad_input_and_who_may_do_what(client):
    clock = client.app.state.clock
    template = await create(client)
    rid = template["id"]

    # Same key and place twice; an override of another kind; malformed bodies.
    r = await client.post(
        "/v1/routines",
        json={"kind": "on_call", "key": "on-call-numbers", "title": "x", "body": "y"},
        headers=manager(),
    )
    assert assert_problem(r, 409, "routine-exists")["routine_id"] == rid
    r = await client.post(
        "/v1/routines",
        json={"kind": "routine", "key": "on-call-numbers", "district": "frogner", "title": "x", "body": "y"},
        headers=manager(),
    )
    assert_problem(r, 409, "routine-kind-mismatch")
    for bad in (
        {"kind": "memo", "key": "k", "title": "x", "body": "y"},
        {"kind": "routine", "key": "Not A Key", "title": "x", "body": "y"},
        {"kind": "routine", "key": "k", "district": "Frogner!", "title": "x", "body": "y"},
        {"kind": "routine", "key": "k", "title": "", "body": "y"},
        {"kind": "routine", "key": "k", "title": "x", "body": "y", "status": "published"},
    ):
        assert_problem(
            await client.post("/v1/routines", json=bad, headers=manager()), 422, "validation-error"
        )

    # One version in the making at a time; comment periods end in the future.
    r = await client.post(f"/v1/routines/{rid}/versions", json={"title": "x", "body": "y"}, headers=manager())
    assert_problem(r, 409, "routine-version-open")
    r = await client.post(
        f"/v1/routines/{rid}/versions/1/comment-period",
        json={"until": clock.today().isoformat()},
        headers=manager(),
    )
    assert_problem(r, 422, "comment-period-in-past")
    # Comments only in a comment period (a draft is not open to providers at all).
    r = await client.post(f"/v1/routines/{rid}/versions/1/comments", json={"text": "x"}, headers=provider(A))
    assert_problem(r, 404, "not-found")

    # Writes are the contract owner's; providers and case officers only read.
    for headers in (provider(A), case_officer()):
        r = await client.post(f"/v1/routines/{rid}/versions/1/publish", headers=headers)
        assert_problem(r, 403, "forbidden")
        r = await client.patch(f"/v1/routines/{rid}/versions/1", json={"title": "x"}, headers=headers)
        assert_problem(r, 403, "forbidden")
    assert_problem(await client.get("/v1/routines", params={"district": "frogner"}), 401, "unauthorized")

    # Unknown ids and versions.
    assert_problem(await publish(client, "00000000-0000-0000-0000-000000000000", 1), 404, "not-found")
    assert_problem(await publish(client, rid, 2), 404, "not-found")
    r = await client.get("/v1/routines/not-a-uuid", headers=manager())
    assert r.status_code == 422

    # A Frogner override in its comment period: B (grorud only) may neither see nor comment.
    override = await create(client, district="frogner")
    until = (clock.today() + timedelta(days=3)).isoformat()
    r = await client.post(
        f"/v1/routines/{override['id']}/versions/1/comment-period", json={"until": until}, headers=manager()
    )
    assert r.status_code == 200
    assert await inbox(client, B, "routine.comment_requested") == []
    assert len(await inbox(client, C, "routine.comment_requested")) == 1
    r = await client.post(
        f"/v1/routines/{override['id']}/versions/1/comments", json={"text": "x"}, headers=provider(B)
    )
    assert_problem(r, 404, "not-found")
    assert_problem(await client.get(f"/v1/routines/{override['id']}", headers=provider(B)), 404, "not-found")
    r = await client.get(f"/v1/routines/{override['id']}/versions/1/comments", headers=provider(B))
    assert_problem(r, 404, "not-found")
    r = await client.post(
        f"/v1/routines/{override['id']}/versions/1/comments", json={"text": "x"}, headers=case_officer()
    )
    assert_problem(r, 403, "forbidden")
    r = await client.post(
        f"/v1/routines/{override['id']}/versions/1/comments", json={"text": "x" * 10_001}, headers=provider(C)
    )
    assert_problem(r, 422, "validation-error")
    # Opening the period twice is a conflict.
    r = await client.post(
        f"/v1/routines/{override['id']}/versions/1/comment-period", json={"until": until}, headers=manager()
    )
    assert_problem(r, 409, "routine-version-not-draft")
