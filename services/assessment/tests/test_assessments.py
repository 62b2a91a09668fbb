"""Assessments (kartlegging): a draft built up over PATCHes with If-Match, completion with its
completeness check and event, the code list, applications, district scoping, the access log.

Every refused request is checked for its problem+json and for leaving nothing behind: no
assessment or goal changed, no outbox row, no access-log row, no idempotency row.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import uuid
from datetime import timedelta

import pytest
from identity_corpus import VALID_NUMBERS
from sqlalchemy import func, select, text

from hjemflyt.assessment import main
from hjemflyt.assessment.assessments import rules
from hjemflyt.assessment.assessments.endpoints import router as assessments_router
from hjemflyt.assessment.db import platform_tables
from hjemflyt.assessment.referrals.models import Application
from hjemflyt.shared.contracts.events import ASSESSMENT_COMPLETED
from hjemflyt.shared.contracts.iplos import code_list
from hjemflyt.shared.platform.app import create_service_app
from hjemflyt.shared.platform.auth import Role
from hjemflyt.shared.testing import auth, eventually, running_service

NUMBERS = [n for n, cls in VALID_NUMBERS if cls.startswith("tenor")]
VARIABLES = code_list().keys


def create_app(settings, clock=None):
    """The service as main builds it, with this module's router until main registers it."""
    spec = main.SPEC
    if assessments_router not in spec.routers:
        spec = dataclasses.replace(spec, routers=[*spec.routers, assessments_router])
    return create_service_app(spec, settings, clock)


@pytest.fixture
async def client(settings, issuer):
    integration = auth(issuer, Role.integration)
    async with running_service(create_app, settings) as client:
        for code in ("frogner", "gamle-oslo"):
            r = await client.put(
                f"/v1/districts/{code}",
                json={
                    "name": code.title(),
                    "organisation_model": "trust_model",
                    "case_office": "Forvaltning",
                },
                headers=integration,
            )
            assert r.status_code == 200, r.text
        yield client
        relay = client.app.state.relay

        async def drained():
            assert await relay.pending_count() == 0

        await eventually(drained)
        await asyncio.sleep(0.05)


@pytest.fixture
def officer(issuer):
    return auth(issuer, Role.case_officer, districts=["frogner"], subject="officer-kari")


@pytest.fixture
def today(client):
    return client.app.state.ctx.clock.today()


async def register(client, issuer, district: str = "frogner", number: str = NUMBERS[0]) -> str:
    r = await client.post(
        "/v1/persons",
        json={"identity_number": number, "name": "Ola Nordmann", "address": "Gata 2", "district": district},
        headers=auth(issuer, Role.integration),
    )
    assert r.status_code == 201, r.text
    return r.json()["id"]


def full(person_id: str, today, **fields: object) -> dict:
    """Everything a completed assessment needs."""
    return {
        "person_id": person_id,
        "visit_date": str(today),
        "participants": [
            {"role": "person"},
            {"role": "next_of_kin", "name": "Per Nordmann"},
            {"role": "occupational_therapist", "name": "Ergo Terapeut"},
        ],
        "home_situation": "Bor alene i 3. etasje uten heis.",
        "what_matters": "Å klare å gå på butikken selv igjen.",
        "goals": [
            {"text": "Gå til butikken alene", "follow_up_date": str(today + timedelta(weeks=6))},
            {"text": "Dusje selv"},
        ],
        "scores": {key: (9 if key in ("vision", "hearing") else 3) for key in VARIABLES},
        **fields,
    }


def assert_problem(r, status: int, slug: str) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json"), r.headers
    body = r.json()
    assert body["type"].endswith("/" + slug), body
    assert body["status"] == status
    assert body["title"]
    assert body["detail"]
    return body


async def stored(client) -> dict[str, object]:
    """Everything a request could have left behind or changed."""
    ctx = client.app.state.ctx
    t = platform_tables
    async with ctx.sessionmaker() as s:
        return {
            "assessments": (
                await s.execute(
                    text(
                        "select id, version, status, scores, participants, visit_date, what_matters "
                        "from assessment.assessment order by id"
                    )
                )
            ).all(),
            "goals": (
                await s.execute(
                    text("select id, text, follow_up_date from assessment.assessment_goal order by id")
                )
            ).all(),
            "applications": (
                await s.execute(text("select id, status from assessment.application order by id"))
            ).all(),
            "outbox": await s.scalar(select(func.count()).select_from(t.outbox)),
            "access_log": await s.scalar(select(func.count()).select_from(t.access_log)),
            "idempotency": await s.scalar(select(func.count()).select_from(t.idempotency)),
        }


async def access_rows(client, person_id: str) -> list[tuple]:
    ctx = client.app.state.ctx
    log = platform_tables.access_log
    async with ctx.sessionmaker() as s:
        rows = await s.execute(
            select(log.c.actor, log.c.action, log.c.resource, log.c.purpose)
            .where(log.c.person_id == uuid.UUID(person_id), log.c.resource.like("assessment%"))
            .order_by(log.c.id)
        )
        return [tuple(r) for r in rows]


async def completed_events(client) -> list[dict]:
    ctx = client.app.state.ctx
    outbox = platform_tables.outbox
    async with ctx.sessionmaker() as s:
        rows = (
            await s.scalars(
                select(outbox.c.envelope)
                .where(outbox.c.type == ASSESSMENT_COMPLETED.name)
                .order_by(outbox.c.seq)
            )
        ).all()
    return [json.loads(bytes(r)) for r in rows]


async def add_application(client, person_id: str, status: str = "received", district: str = "frogner") -> str:
    """Applications belong to the referrals module; a row is enough here."""
    ctx = client.app.state.ctx
    today = ctx.clock.today()
    application = Application(
        id=uuid.uuid4(),
        person_id=uuid.UUID(person_id),
        district=district,
        received_date=today,
        deadline_date=today + timedelta(days=30),
        services=["15"],
        description="Trenger hjelp med dusj",
        status=status,
        registered_by="test",
        created_at=ctx.clock.now(),
    )
    async with ctx.sessionmaker() as s, s.begin():
        s.add(application)
    return str(application.id)


async def application_status(client, application_id: str) -> str:
    async with client.app.state.ctx.sessionmaker() as s:
        return await s.scalar(select(Application.status).where(Application.id == uuid.UUID(application_id)))


# --- the happy path --------------------------------------------------------------------


async def test_a_draft_is_completed_and_published(client, issuer, officer, today):
    person_id = await register(client, issuer)
    application_id = await add_application(client, person_id)
    body = full(person_id, today, application_id=application_id)

    r = await client.post("/v1/assessments", json=body, headers={**officer, "Idempotency-Key": "visit-1"})
    assert r.status_code == 201, r.text
    created = r.json()
    assessment_id = created["id"]
    assert r.headers["location"] == f"/v1/assessments/{assessment_id}"
    assert r.headers["etag"] == '"1"'
    assert created["status"] == "draft"
    assert created["version"] == 1
    assert created["district"] == "frogner"
    assert created["iplos_version"] == "2018"
    assert created["application_id"] == application_id
    assert created["participants"][1] == {"role": "next_of_kin", "name": "Per Nordmann"}
    assert created["participants"][0] == {"role": "person", "name": None}
    assert [(g["position"], g["text"]) for g in created["goals"]] == [
        (1, "Gå til butikken alene"),
        (2, "Dusje selv"),
    ]
    assert created["goals"][1]["follow_up_date"] is None
    assert created["scores"] == body["scores"]
    assert created["average_function_level"] == "3.00"  # the two 9s are left out
    assert created["missing"] == []
    assert created["completed_at"] is None
    assert created["created_by"] == "officer-kari"
    # A received application is now being assessed.
    assert await application_status(client, application_id) == "assessing"
    assert await completed_events(client) == []

    # A retry with the same key gets the same draft; nothing new is stored but the read.
    before = await stored(client)
    r = await client.post("/v1/assessments", json=body, headers={**officer, "Idempotency-Key": "visit-1"})
    assert r.status_code == 201
    assert r.headers["idempotency-replayed"] == "true"
    assert r.json()["id"] == assessment_id
    after = await stored(client)
    assert after == before | {"access_log": before["access_log"] + 1}

    r = await client.get(f"/v1/assessments/{assessment_id}", headers=officer)
    assert r.status_code == 200, r.text
    assert r.headers["etag"] == '"1"'
    assert r.json() == created

    r = await client.patch(
        f"/v1/assessments/{assessment_id}",
        json={"scores": {"personal_hygiene": 4}},
        headers={**officer, "If-Match": '"1"'},
    )
    assert r.status_code == 200, r.text
    assert r.headers["etag"] == '"2"'
    assert r.json()["scores"]["personal_hygiene"] == 4
    assert r.json()["scores"]["eating"] == 3

    r = await client.post(f"/v1/assessments/{assessment_id}/complete", headers={**officer, "If-Match": '"2"'})
    assert r.status_code == 200, r.text
    done = r.json()
    assert done["status"] == "completed"
    assert done["version"] == 3
    assert r.headers["etag"] == '"3"'
    assert done["completed_at"] is not None
    assert done["missing"] == []

    [event] = await completed_events(client)
    assert event["type"] == "no.hjemflyt.assessment.assessment.completed.v1"
    assert event["subject"] == assessment_id
    data = event["data"]
    assert data == {
        "assessment_id": assessment_id,
        "person_id": person_id,
        "district": "frogner",
        "application_id": application_id,
        "visit_date": str(today),
        "iplos_version": "2018",
        "scores": done["scores"],
        "goals": 2,
        "completed_at": data["completed_at"],
    }
    # Pseudonymous: none of the person's words or participants' names travel.
    raw = json.dumps(event, ensure_ascii=False)
    for words in ("butikken", "Per Nordmann", "Ergo", "heis", "Ola Nordmann"):
        assert words not in raw

    r = await client.get(f"/v1/persons/{person_id}/assessments", headers=officer)
    assert r.status_code == 200, r.text
    assert [a["id"] for a in r.json()] == [assessment_id]
    assert r.json()[0]["status"] == "completed"

    assert await access_rows(client, person_id) == [
        ("officer-kari", "create", "assessment", "registering an assessment"),
        ("officer-kari", "read", "assessment", "idempotent retry"),
        ("officer-kari", "read", "assessment", "case handling"),
        ("officer-kari", "update", "assessment", "updating an assessment"),
        ("officer-kari", "update", "assessment", "completing an assessment"),
        ("officer-kari", "read", "assessment-list", "case handling"),
    ]


async def test_a_draft_grows_by_merge_patches_and_shows_what_is_missing(client, issuer, officer, today):
    person_id = await register(client, issuer)
    r = await client.post("/v1/assessments", json={"person_id": person_id}, headers=officer)
    assert r.status_code == 201, r.text
    draft = r.json()
    url = f"/v1/assessments/{draft['id']}"
    assert draft["scores"] == {}
    assert draft["average_function_level"] is None
    rule_names = [m["rule"] for m in draft["missing"]]
    assert rule_names == [
        "visit-date-missing",
        "participants-missing",
        "what-matters-missing",
        *["variable-not-scored"] * len(VARIABLES),
        "goal-with-follow-up-missing",
    ]
    assert [m["field"] for m in draft["missing"] if m["rule"] == "variable-not-scored"] == [
        f"scores.{k}" for k in VARIABLES
    ]

    version = 1

    async def patch(body: dict) -> dict:
        nonlocal version
        r = await client.patch(url, json=body, headers={**officer, "If-Match": f'"{version}"'})
        assert r.status_code == 200, r.text
        version = r.json()["version"]
        assert r.headers["etag"] == f'"{version}"'
        return r.json()

    half = dict.fromkeys(VARIABLES[:8], 2)
    out = await patch({"visit_date": str(today), "scores": half, "what_matters": "  Å bo hjemme  "})
    assert out["version"] == 2
    assert out["what_matters"] == "Å bo hjemme"
    assert out["scores"] == half
    out = await patch({"scores": {**dict.fromkeys(VARIABLES[8:], 5), VARIABLES[0]: None}})
    assert set(out["scores"]) == set(VARIABLES[1:])
    assert [m["field"] for m in out["missing"] if m["rule"] == "variable-not-scored"] == [
        f"scores.{VARIABLES[0]}"
    ]
    out = await patch(
        {"participants": [{"role": "nurse"}], "goals": [{"text": "Lage middag", "follow_up_date": None}]}
    )
    assert [m["rule"] for m in out["missing"]] == ["variable-not-scored", "goal-with-follow-up-missing"]
    # Goals are replaced as a whole.
    later = str(today + timedelta(days=30))
    out = await patch({"goals": [{"text": "Lage middag selv", "follow_up_date": later}]})
    assert [(g["position"], g["text"], g["follow_up_date"]) for g in out["goals"]] == [
        (1, "Lage middag selv", later)
    ]
    # A blank answer is no answer; null clears.
    out = await patch({"what_matters": "   ", "home_situation": "Bor med ektefelle"})
    assert out["what_matters"] is None
    out = await patch({"home_situation": None, "what_matters": "Å bo hjemme"})
    assert out["home_situation"] is None

    # A patch that changes nothing leaves the version alone.
    before = await stored(client)
    out = await patch({"what_matters": "Å bo hjemme", "scores": {}})
    assert out["version"] == version == before["assessments"][0].version
    after = await stored(client)
    assert after == before | {"access_log": before["access_log"] + 1}

    async with client.app.state.ctx.sessionmaker() as s:
        assert await s.scalar(text("select count(*) from assessment.assessment_goal")) == 1

    # The body may be sent as what it is, a JSON merge patch.
    r = await client.patch(
        url,
        content=json.dumps({"scores": {VARIABLES[0]: 1}}),
        headers={**officer, "If-Match": f'"{version}"', "Content-Type": "application/merge-patch+json"},
    )
    assert r.status_code == 200, r.text
    assert r.json()["missing"] == []
    r = await client.post(f"{url}/complete", headers=officer)  # If-Match is optional here
    assert r.status_code == 200, r.text
    assert r.json()["average_function_level"] is not None


# --- bad input -------------------------------------------------------------------------


async def test_bad_scores_and_versions_are_refused_and_nothing_is_stored(client, issuer, officer, today):
    person_id = await register(client, issuer)
    r = await client.post("/v1/assessments", json={"person_id": person_id}, headers=officer)
    assert r.status_code == 201
    url = f"/v1/assessments/{r.json()['id']}"
    before = await stored(client)

    rule_cases = [
        ({"shoe_size": 3}, "unknown-iplos-variable", ["scores.shoe_size"]),
        ({"eating": 6}, "invalid-iplos-score", ["scores.eating"]),
        ({"eating": 0}, "invalid-iplos-score", ["scores.eating"]),
        ({"eating": 8, "vision": -1}, "invalid-iplos-score", ["scores.eating", "scores.vision"]),
        ({"eating": 7, "shoe_size": 3}, "invalid-assessment", ["scores.eating", "scores.shoe_size"]),
    ]
    for scores, slug, fields in rule_cases:
        r = await client.post(
            "/v1/assessments", json={"person_id": person_id, "scores": scores}, headers=officer
        )
        body = assert_problem(r, 422, slug)
        assert [v["field"] for v in body["violations"]] == fields, body
        assert all(v["rule"] and v["message"] for v in body["violations"])
        r = await client.patch(url, json={"scores": scores}, headers={**officer, "If-Match": '"1"'})
        assert_problem(r, 422, slug)

    r = await client.post(
        "/v1/assessments", json={"person_id": person_id, "iplos_version": "1999"}, headers=officer
    )
    assert_problem(r, 422, "unknown-iplos-version")
    r = await client.patch(url, json={"iplos_version": "1999"}, headers={**officer, "If-Match": '"1"'})
    assert_problem(r, 422, "unknown-iplos-version")
    r = await client.patch(url, json={"participants": None}, headers={**officer, "If-Match": '"1"'})
    assert_problem(r, 422, "not-nullable")

    # Not a score at all, or not the shape of the payload: schema validation.
    validation_cases = [
        {"scores": {"eating": "x"}},
        {"scores": {"eating": "3"}},
        {"scores": {"eating": 3.5}},
        {"scores": {"eating": True}},
        {"scores": [3, 3]},
        {"participants": [{"role": "neighbour"}]},
        {"participants": [{"role": "nurse", "shoe_size": 42}]},
        {"goals": [{"text": ""}]},
        {"goals": [{"text": "Gå tur", "follow_up_date": "soon"}]},
        {"visit_date": "yesterday"},
        {"what_matters": "x" * 4001},
        {"status": "completed"},
    ]
    for fields in validation_cases:
        r = await client.post("/v1/assessments", json={"person_id": person_id, **fields}, headers=officer)
        body = assert_problem(r, 422, "validation-error")
        assert body["errors"], fields
        r = await client.patch(url, json=fields, headers={**officer, "If-Match": '"1"'})
        assert_problem(r, 422, "validation-error")
    r = await client.post("/v1/assessments", json={"scores": {}}, headers=officer)
    assert_problem(r, 422, "validation-error")

    assert await stored(client) == before


async def test_completion_lists_everything_missing_at_once(client, issuer, officer, today):
    person_id = await register(client, issuer)
    scores = dict.fromkeys(VARIABLES[2:], 1)
    body = {
        "person_id": person_id,
        "visit_date": str(today + timedelta(days=2)),  # planned, not yet made
        "what_matters": "",
        "goals": [
            {"text": "Gå tur", "follow_up_date": str(today + timedelta(days=1))},
            {"text": "Lese avisen"},
        ],
        "scores": scores,
    }
    r = await client.post("/v1/assessments", json=body, headers=officer)
    assert r.status_code == 201, r.text
    url = f"/v1/assessments/{r.json()['id']}"
    before = await stored(client)

    r = await client.post(f"{url}/complete", headers=officer)
    problem = assert_problem(r, 422, "assessment-incomplete")
    assert [(m["rule"], m["field"]) for m in problem["missing"]] == [
        ("visit-date-in-future", "visit_date"),
        ("participants-missing", "participants"),
        ("what-matters-missing", "what_matters"),
        ("variable-not-scored", f"scores.{VARIABLES[0]}"),
        ("variable-not-scored", f"scores.{VARIABLES[1]}"),
        ("follow-up-before-visit", "goals[0].follow_up_date"),
    ]
    assert all(m["message"] for m in problem["missing"])
    assert await stored(client) == before
    assert await completed_events(client) == []

    r = await client.patch(
        url, json={"visit_date": None, "goals": []}, headers={**officer, "If-Match": '"1"'}
    )
    assert r.status_code == 200
    r = await client.post(f"{url}/complete", headers=officer)
    problem = assert_problem(r, 422, "assessment-incomplete")
    rule_names = [m["rule"] for m in problem["missing"]]
    assert rule_names[0] == "visit-date-missing"
    assert rule_names[-1] == "goal-with-follow-up-missing"


# --- conflicts -------------------------------------------------------------------------


async def test_if_match_guards_changes_and_completed_assessments_are_fixed(client, issuer, officer, today):
    person_id = await register(client, issuer)
    r = await client.post("/v1/assessments", json=full(person_id, today), headers=officer)
    assert r.status_code == 201
    url = f"/v1/assessments/{r.json()['id']}"
    r = await client.patch(
        url, json={"home_situation": "Bor med datter"}, headers={**officer, "If-Match": '"1"'}
    )
    assert r.status_code == 200
    before = await stored(client)

    change = {"home_situation": "Bor alene"}
    assert_problem(await client.patch(url, json=change, headers=officer), 428, "precondition-required")
    r = await client.patch(url, json=change, headers={**officer, "If-Match": "*"})
    assert_problem(r, 428, "precondition-required")
    for stale in ('"1"', 'W/"2"', "2", '"x"', '"3"', '"1", "3"', ""):
        r = await client.patch(url, json=change, headers={**officer, "If-Match": stale})
        body = assert_problem(r, 412, "precondition-failed")
        assert body["current_etag"] == '"2"', stale
    r = await client.post(f"{url}/complete", headers={**officer, "If-Match": '"1"'})
    assert_problem(r, 412, "precondition-failed")
    assert await stored(client) == before

    # A list that holds the current version matches.
    r = await client.patch(url, json=change, headers={**officer, "If-Match": '"1", "2"'})
    assert r.status_code == 200, r.text
    r = await client.post(f"{url}/complete", headers={**officer, "If-Match": "*"})
    assert r.status_code == 200, r.text
    assert r.json()["version"] == 4
    before = await stored(client)

    r = await client.post(f"{url}/complete", headers=officer)
    assert_problem(r, 409, "assessment-completed")
    r = await client.patch(url, json=change, headers={**officer, "If-Match": '"4"'})
    assert_problem(r, 409, "assessment-completed")
    r = await client.patch(url, json={"scores": {"eating": 6}}, headers={**officer, "If-Match": '"4"'})
    assert_problem(r, 409, "assessment-completed")
    assert await stored(client) == before
    assert len(await completed_events(client)) == 1


async def test_concurrent_completions_make_one_event(client, issuer, officer, today):
    person_id = await register(client, issuer)
    r = await client.post("/v1/assessments", json=full(person_id, today), headers=officer)
    url = f"/v1/assessments/{r.json()['id']}/complete"
    results = await asyncio.gather(*(client.post(url, headers=officer) for _ in range(4)))
    assert sorted(r.status_code for r in results) == [200, 409, 409, 409]
    assert len(await completed_events(client)) == 1

    # Concurrent changes at one version: one wins, the rest are told it changed.
    r = await client.post("/v1/assessments", json={"person_id": person_id}, headers=officer)
    url = f"/v1/assessments/{r.json()['id']}"
    results = await asyncio.gather(
        *(
            client.patch(url, json={"home_situation": f"Variant {i}"}, headers={**officer, "If-Match": '"1"'})
            for i in range(4)
        )
    )
    assert sorted(r.status_code for r in results) == [200, 412, 412, 412]


async def test_idempotent_completion_is_replayed(client, issuer, officer, today):
    person_id = await register(client, issuer)
    r = await client.post("/v1/assessments", json=full(person_id, today), headers=officer)
    url = f"/v1/assessments/{r.json()['id']}/complete"
    headers = {**officer, "Idempotency-Key": "complete-1"}
    first = await client.post(url, headers=headers)
    assert first.status_code == 200, first.text
    again = await client.post(url, headers=headers)
    assert again.status_code == 200
    assert again.headers["idempotency-replayed"] == "true"
    assert again.json() == first.json()
    assert len(await completed_events(client)) == 1
    # Without the key a retry is told it is already done.
    assert_problem(await client.post(url, headers=officer), 409, "assessment-completed")


# --- applications ----------------------------------------------------------------------


async def test_the_application_must_be_the_persons_and_open(client, issuer, officer, today):
    person_id = await register(client, issuer)
    other_id = await register(client, issuer, number=NUMBERS[1])
    others = await add_application(client, other_id)
    withdrawn = await add_application(client, person_id, status="withdrawn")
    decided = await add_application(client, person_id, status="decided")
    elsewhere = await add_application(client, person_id, district="gamle-oslo")
    before = await stored(client)

    cases = [
        (str(uuid.uuid4()), 422, "unknown-application"),
        (elsewhere, 422, "unknown-application"),  # in a district the officer does not work in
        (others, 422, "application-not-for-person"),
        (withdrawn, 409, "application-closed"),
        (decided, 409, "application-closed"),
    ]
    for application_id, status, slug in cases:
        r = await client.post(
            "/v1/assessments",
            json={"person_id": person_id, "application_id": application_id},
            headers=officer,
        )
        assert_problem(r, status, slug)
    assert await stored(client) == before

    # An application already being assessed stays so; a second assessment may be made for it.
    assessing = await add_application(client, person_id, status="assessing")
    for _ in range(2):
        r = await client.post(
            "/v1/assessments", json={"person_id": person_id, "application_id": assessing}, headers=officer
        )
        assert r.status_code == 201, r.text
    assert await application_status(client, assessing) == "assessing"


# --- scoping and authorisation ---------------------------------------------------------


async def test_other_districts_see_nothing_and_the_person_moving_moves_access(client, issuer, officer, today):
    person_id = await register(client, issuer)
    r = await client.post("/v1/assessments", json=full(person_id, today), headers=officer)
    assert r.status_code == 201
    url = f"/v1/assessments/{r.json()['id']}"
    gamle_oslo = auth(issuer, Role.case_officer, districts=["gamle-oslo"], subject="officer-per")
    before = await stored(client)

    assert_problem(await client.get(url, headers=gamle_oslo), 404, "not-found")
    r = await client.patch(url, json={"what_matters": "x"}, headers={**gamle_oslo, "If-Match": '"1"'})
    assert_problem(r, 404, "not-found")
    assert_problem(await client.post(f"{url}/complete", headers=gamle_oslo), 404, "not-found")
    r = await client.get(f"/v1/persons/{person_id}/assessments", headers=gamle_oslo)
    assert_problem(r, 404, "not-found")
    r = await client.post("/v1/assessments", json=full(person_id, today), headers=gamle_oslo)
    assert_problem(r, 404, "not-found")
    r = await client.post("/v1/assessments", json=full(str(uuid.uuid4()), today), headers=officer)
    assert_problem(r, 404, "not-found")
    assert_problem(await client.get(f"/v1/assessments/{uuid.uuid4()}", headers=officer), 404, "not-found")
    nobody = auth(issuer, Role.case_officer, districts=[])
    assert_problem(await client.get(url, headers=nobody), 404, "not-found")

    # Roles without the case-handling scopes are refused before anything is looked up.
    lead = auth(issuer, Role.service_lead, districts=["frogner"])
    r = await client.patch(url, json={"what_matters": "x"}, headers={**lead, "If-Match": '"1"'})
    assert_problem(r, 403, "forbidden")
    assert_problem(await client.post(f"{url}/complete", headers=lead), 403, "forbidden")
    for role, claims in (
        (Role.provider, {"provider_org": "320000009"}),
        (Role.manager, {}),
        (Role.auditor, {}),
    ):
        headers = auth(issuer, role, **claims)
        assert_problem(await client.get(url, headers=headers), 403, "forbidden")
        assert_problem(
            await client.post("/v1/assessments", json=full(person_id, today), headers=headers),
            403,
            "forbidden",
        )
    assert_problem(await client.get(url), 401, "unauthorized")
    assert await stored(client) == before

    # A service lead of the district may read.
    r = await client.get(url, headers=lead)
    assert r.status_code == 200, r.text

    # The person moves to Gamle Oslo: the assessment goes with them.
    async with client.app.state.ctx.sessionmaker() as s, s.begin():
        await s.execute(
            text("update assessment.person set district = 'gamle-oslo' where id = :id"),
            {"id": uuid.UUID(person_id)},
        )
    assert_problem(await client.get(url, headers=officer), 404, "not-found")
    r = await client.post(f"{url}/complete", headers=gamle_oslo)
    assert r.status_code == 200, r.text
    assert r.json()["district"] == "gamle-oslo"
    [event] = await completed_events(client)
    assert event["data"]["district"] == "gamle-oslo"


# --- the code list ---------------------------------------------------------------------


async def test_the_code_list_is_served_by_version(client, officer):
    r = await client.get("/v1/iplos/function-variables", headers=officer)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["version"] == "2018"
    assert body["current"] is True
    assert [s["score"] for s in body["scores"]] == [1, 2, 3, 4, 5, 9]
    assert [v["key"] for v in body["variables"]] == list(VARIABLES)
    assert all(v["name_nb"] and v["group"] and v["register_code"] is None for v in body["variables"])
    r = await client.get("/v1/iplos/function-variables", params={"version": "2018"}, headers=officer)
    assert r.json() == body
    r = await client.get("/v1/iplos/function-variables", params={"version": "1999"}, headers=officer)
    assert_problem(r, 404, "not-found")
    assert_problem(await client.get("/v1/iplos/function-variables"), 401, "unauthorized")


# --- pure rules ------------------------------------------------------------------------


def test_if_match_names_strong_versions_only():
    assert rules.if_match_versions('"3"') == {3}
    assert rules.if_match_versions(' "3" , "12"') == {3, 12}
    assert rules.if_match_versions("*") is None
    assert rules.if_match_versions('"3", *') is None
    for unreadable in ('W/"3"', "3", '"-3"', '"3', '""', '"³"', ""):
        assert rules.if_match_versions(unreadable) == frozenset(), unreadable
    assert rules.etag(7) == '"7"'


def test_scores_merge_like_a_json_merge_patch():
    assert rules.merge_scores({"eating": 3, "toilet": 2}, {"eating": 4, "toilet": None, "vision": 9}) == {
        "eating": 4,
        "vision": 9,
    }
    assert rules.merge_scores({"eating": 3}, {}) == {"eating": 3}
    assert rules.merge_scores({}, {"eating": None}) == {}
