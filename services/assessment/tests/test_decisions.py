"""Decisions (vedtak): completeness, scope by organisation model, the lifecycle, ETag and
If-Match, amendments and § 35, superseding, provider choice, versions, the worklist.

A refused request leaves nothing behind: no decision change, no outbox row (no event).
Gamle Oslo runs the trust model (hours per month); Frogner is set to purchaser-provider
(minutes per measure).
"""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import date, timedelta
from decimal import Decimal

import pytest
from identity_corpus import VALID_NUMBERS
from sqlalchemy import select, text

from hjemflyt.assessment.db import platform_tables
from hjemflyt.assessment.decisions import lifecycle, sweep
from hjemflyt.assessment.main import create_app
from hjemflyt.shared.demo import decision_body
from hjemflyt.shared.identity import synthetic_identity_number
from hjemflyt.shared.platform.auth import Role
from hjemflyt.shared.testing import (
    auth,
    eventually,
    move_clock_to,
    publish_provider,
    running_service,
    suite_today,
)

PROVIDER = "320000009"  # approved for services 1 and 15 in frogner
OTHER_PROVIDER = "974760673"  # never registered
NUMBERS = [n for n, cls in VALID_NUMBERS if cls.startswith("tenor")]


@pytest.fixture
async def client(settings, issuer):
    integration = auth(issuer, Role.integration)
    async with running_service(create_app, settings) as client:
        assert (await client.post("/v1/config/presets/oslo", headers=integration)).status_code == 200
        r = await client.put(
            "/v1/districts/frogner",
            json={
                "name": "Bydel Frogner",
                "organisation_model": "purchaser_provider",
                "case_office": "Forvaltning",
            },
            headers=integration,
        )
        assert r.status_code == 200, r.text
        await publish_provider(settings, PROVIDER, ["1", "15"], ["frogner", "gamle-oslo"])

        async def provider_known():
            r = await client.get("/v1/providers", headers=integration)
            assert [p["provider_org"] for p in r.json()] == [PROVIDER]

        await eventually(provider_known)
        yield client
        await drain_outbox(client)


async def drain_outbox(client) -> None:
    """Let the relay publish everything before shutdown. A NOTIFY that arrives as the app
    shuts down can hang the relay on Python 3.11 (see shared/tests/test_platform_lifecycle.py)."""
    relay = client.app.state.relay

    async def drained():
        assert await relay.pending_count() == 0

    await eventually(drained)
    await asyncio.sleep(0.05)


async def register(client, issuer, district: str = "frogner", number: str = NUMBERS[0]) -> str:
    r = await client.post(
        "/v1/persons",
        json={"identity_number": number, "name": "Ola Nordmann", "address": "Gata 2", "district": district},
        headers=auth(issuer, Role.integration),
    )
    assert r.status_code == 201, r.text
    return r.json()["id"]


# The suite's day (HJEMFLYT_TEST_TODAY), the day the services live on; decisions start a week later.
TODAY = suite_today()
START = TODAY + timedelta(days=7)
INFORMED = str(TODAY - timedelta(days=2))  # the person was told they may choose a provider


def assert_problem(r, status: int, slug: str) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json"), r.headers
    body = r.json()
    assert body["type"].endswith("/" + slug), body
    return body


async def stored(client) -> dict[str, int]:
    async with client.app.state.ctx.sessionmaker() as s:
        return {
            table: await s.scalar(text(f"select count(*) from assessment.{table}"))  # noqa: S608 - fixed names
            for table in ("decision", "decision_service", "measure", "decision_version", "outbox")
        }


async def outbox_types(client) -> list[str]:
    async with client.app.state.ctx.sessionmaker() as s:
        rows = await s.execute(select(platform_tables.outbox.c.type).order_by(platform_tables.outbox.c.seq))
        return [t.removeprefix("no.hjemflyt.assessment.") for (t,) in rows]


async def made(client, issuer, *, district="gamle-oslo", number=NUMBERS[0], services=None, **extra) -> dict:
    person_id = await register(client, issuer, district, number)
    model = "purchaser_provider" if district == "frogner" else "trust_model"
    body = decision_body(
        person_id,
        services or [("home-nursing", "20", PROVIDER)],
        start=START,
        organisation_model=model,
        **extra,
    )
    r = await client.post("/v1/decisions", json=body, headers=auth(issuer, Role.integration))
    assert r.status_code == 201, r.text
    return r.json()


def tag(decision: dict) -> dict[str, str]:
    return {"If-Match": f'"{decision["version"]}"'}


async def test_a_complete_decision_is_made_with_its_events(client, issuer):
    out = await made(
        client,
        issuer,
        services=[("home-nursing", "20", PROVIDER), ("practical-help", "3", None)],
        household_income_g="2.5",
    )
    assert out["status"] == "made"
    assert out["decision_date"] is not None
    assert "fire uker" in out["appeal_text"] or "4 uker" in out["appeal_text"]
    assert "Statsforvalteren i Oslo og Akershus" in out["appeal_text"]
    services = {s["service_type"]: s for s in out["services"]}
    assert services["home-nursing"]["copayment"]["chargeable"] is False
    assert services["practical-help"]["copayment"]["monthly_ore"] == 3 * 30_000  # under the band's cap
    assert out["legal_basis"] == ["hol-3-2-6a", "hol-3-2-6b"]
    # decision.made for everyone; one order, for the one provider chosen so far.
    assert await outbox_types(client) == ["decision.made.v1", "order.issued.v1"]
    async with client.app.state.ctx.sessionmaker() as s:
        envelope = (await s.execute(select(platform_tables.outbox.c.envelope).limit(1))).scalar_one()
    assert NUMBERS[0] not in envelope.decode()
    assert "Ola" not in envelope.decode()


async def test_an_incomplete_decision_lists_everything_missing_and_stays_a_draft(client, issuer):
    integration = auth(issuer, Role.integration)
    person_id = await register(client, issuer, "gamle-oslo")
    r = await client.post(
        "/v1/decisions",
        json={"person_id": person_id, "services": [{"service_type": "home-nursing", "measures": []}]},
        headers=integration,
    )
    assert r.status_code == 201, r.text
    draft = r.json()
    assert draft["status"] == "draft"
    missing = (await client.get(f"/v1/decisions/{draft['id']}/completeness", headers=integration)).json()
    rules = {m["rule"] for m in missing["missing"]}
    assert missing["complete"] is False
    assert {
        "justification-missing",
        "user-goal-missing",
        "start-date-missing",
        "evaluation-date-missing",
        "measures-missing",
        "hours-out-of-range",
    } <= rules
    body = assert_problem(
        await client.post(f"/v1/decisions/{draft['id']}/make", headers=integration),
        422,
        "decision-incomplete",
    )
    assert {m["rule"] for m in body["missing"]} == rules
    again = (await client.get(f"/v1/decisions/{draft['id']}", headers=integration)).json()
    assert again["status"] == "draft"
    assert await outbox_types(client) == []


async def test_scope_follows_the_districts_organisation_model(client, issuer):
    integration = auth(issuer, Role.integration)
    person_id = await register(client, issuer, "frogner")
    hours_only = decision_body(person_id, [("home-nursing", "20", PROVIDER)], start=START)
    assert_problem(
        await client.post("/v1/decisions", json=hours_only, headers=integration),
        422,
        "scope-kind-not-for-district",
    )
    with_minutes = decision_body(
        person_id, [("home-nursing", "0", PROVIDER)], start=START, organisation_model="purchaser_provider"
    )
    r = await client.post("/v1/decisions", json=with_minutes, headers=integration)
    assert r.status_code == 201, r.text
    service = r.json()["services"][0]
    assert service["scope_kind"] == "minutes_per_measure"
    # twice 10 min a day and twice 20 min a week: ≈ 10.14 + 2.90 hours a month.
    assert service["hours_per_month"] == "13.04"


@pytest.mark.calendar
async def test_lifecycle_transitions_and_conflicts(client, issuer):
    integration = auth(issuer, Role.integration)
    out = await made(client, issuer)
    url = f"/v1/decisions/{out['id']}"
    assert_problem(await client.post(f"{url}/make", headers=integration), 409, "invalid-transition")
    assert_problem(await client.post(f"{url}/activate", headers=integration), 409, "invalid-transition")
    assert_problem(
        await client.post(f"{url}/send", headers={**integration, "If-Match": '"1"'}),
        412,
        "precondition-failed",
    )
    sent = await client.post(f"{url}/send", headers={**integration, **tag(out)})
    assert sent.status_code == 200, sent.text
    today = client.app.state.clock.today()
    assert today == TODAY
    assert out["decision_date"] == today.isoformat()  # Norway's date, also just after midnight
    assert sent.json()["appeal_deadline"] == (today + timedelta(weeks=4)).isoformat()
    assert sent.headers["etag"] == f'"{sent.json()["version"]}"'
    # Not before its start date: the day before it is refused, on the day it becomes active.
    move_clock_to(client.app.state.clock, START - timedelta(days=1))
    assert_problem(await client.post(f"{url}/activate", headers=integration), 409, "not-started")
    move_clock_to(client.app.state.clock, START)
    active = await client.post(f"{url}/activate", headers=integration)
    assert active.status_code == 200, active.text
    assert active.json()["status"] == "active"
    end_date = str(START + timedelta(days=60))
    ended = await client.post(
        f"{url}/end", json={"end_date": end_date, "reason": "masters_daily_life"}, headers=integration
    )
    assert ended.json()["status"] == "ended"
    assert ended.json()["end_date"] == end_date
    assert_problem(
        await client.post(f"{url}/end", json={"end_date": end_date}, headers=integration),
        409,
        "invalid-transition",
    )
    assert_problem(
        await client.patch(url, json={"purpose": "x"}, headers={**integration, **tag(ended.json())}),
        409,
        "decision-ended",
    )
    assert (await outbox_types(client))[-2:] == ["decision.ended.v1", "order.issued.v1"]
    actions = [v["action"] for v in (await client.get(f"{url}/versions", headers=integration)).json()]
    assert actions == ["created", "made", "sent", "activated", "ended"]


async def test_edits_need_the_current_etag(client, issuer):
    integration = auth(issuer, Role.integration)
    person_id = await register(client, issuer, "gamle-oslo")
    draft = (await client.post("/v1/decisions", json={"person_id": person_id}, headers=integration)).json()
    url = f"/v1/decisions/{draft['id']}"
    assert_problem(
        await client.patch(url, json={"purpose": "Mer selvhjulpen"}, headers=integration),
        428,
        "precondition-required",
    )
    r = await client.patch(url, json={"purpose": "Mer selvhjulpen"}, headers={**integration, **tag(draft)})
    assert r.status_code == 200
    assert r.json()["version"] == draft["version"] + 1
    assert_problem(
        await client.patch(url, json={"purpose": "Noe annet"}, headers={**integration, **tag(draft)}),
        412,
        "precondition-failed",
    )
    assert (await client.get(url, headers=integration)).json()["purpose"] == "Mer selvhjulpen"


async def test_a_running_decision_is_amended_only_in_the_persons_favour(client, issuer):
    integration = auth(issuer, Role.integration)
    out = await made(client, issuer)
    url = f"/v1/decisions/{out['id']}"
    services = decision_body(out["person_id"], [("home-nursing", "25", PROVIDER)], start=START)["services"]
    more = await client.patch(url, json={"services": services}, headers={**integration, **tag(out)})
    assert more.status_code == 200, more.text
    assert more.json()["services"][0]["hours_per_month"] == "25.00"
    assert (await outbox_types(client))[-2:] == ["decision.amended.v1", "order.issued.v1"]
    before = await stored(client)
    for change in (
        {
            "services": decision_body(out["person_id"], [("home-nursing", "10", PROVIDER)], start=START)[
                "services"
            ]
        },
        {"services": [{**services[0], "measures": services[0]["measures"][:1]}]},
        {"end_date": str(START + timedelta(days=90))},
        {"services": []},
    ):
        body = assert_problem(
            await client.patch(url, json=change, headers={**integration, **tag(more.json())}),
            409,
            "reduction-requires-new-decision",
        )
        assert body["detriments"]
    assert await stored(client) == before
    changes = (await client.get(f"{url}/versions", headers=integration)).json()[-1]["changes"]
    assert "services.home-nursing.hours_per_month" in {c["field"] for c in changes}


async def test_a_reduction_is_made_as_a_new_decision_that_supersedes_the_old(client, issuer):
    integration = auth(issuer, Role.integration)
    old = await made(client, issuer)
    body = decision_body(
        old["person_id"],
        [("home-nursing", "8", PROVIDER)],
        start=START + timedelta(days=31),
        supersedes_id=old["id"],
    )
    r = await client.post("/v1/decisions", json=body, headers=integration)
    assert r.status_code == 201, r.text
    previous = (await client.get(f"/v1/decisions/{old['id']}", headers=integration)).json()
    assert previous["status"] == "ended"
    assert previous["end_reason"] == "superseded"
    assert "decision.ended.v1" in await outbox_types(client)
    again = await client.post("/v1/decisions", json=body, headers=integration)
    assert_problem(again, 409, "cannot-supersede")


async def test_provider_choice_is_recorded_and_orders_the_chosen_provider(client, issuer):
    integration = auth(issuer, Role.integration)
    out = await made(client, issuer, services=[("home-nursing", "20", None)])
    url = f"/v1/decisions/{out['id']}/provider-choices"
    assert await outbox_types(client) == ["decision.made.v1"]
    informed = await client.post(
        url, json={"service_type": "home-nursing", "informed_date": INFORMED}, headers=integration
    )
    assert informed.status_code == 200, informed.text
    assert_problem(
        await client.post(
            url,
            json={
                "service_type": "home-nursing",
                "informed_date": INFORMED,
                "provider_org": OTHER_PROVIDER,
            },
            headers=integration,
        ),
        422,
        "unknown-provider",
    )
    assert_problem(
        await client.post(url, json={"service_type": "bpa", "informed_date": INFORMED}, headers=integration),
        422,
        "service-not-granted",
    )
    chosen = await client.post(
        url,
        json={
            "service_type": "home-nursing",
            "informed_date": INFORMED,
            "provider_org": PROVIDER,
            "chosen_by": "person",
        },
        headers=integration,
    )
    assert chosen.json()["services"][0]["provider_org"] == PROVIDER
    assert await outbox_types(client) == [
        "decision.made.v1",
        "provider.chosen.v1",
        "provider.chosen.v1",
        "order.issued.v1",
    ]
    choices = (await client.get(url, headers=integration)).json()
    assert [(c["provider_org"], c["chosen_by"]) for c in choices] == [(PROVIDER, "person")]


async def test_a_new_provider_choice_ends_the_order_of_the_provider_it_replaces(client, issuer):
    second = "923609016"
    await publish_provider(client.app.state.ctx.settings, second, ["1", "15"], ["gamle-oslo"])
    integration = auth(issuer, Role.integration)

    async def both_known():
        r = await client.get("/v1/providers", headers=integration)
        assert {p["provider_org"] for p in r.json()} == {PROVIDER, second}

    await eventually(both_known)
    out = await made(
        client, issuer, services=[("home-nursing", "20", PROVIDER), ("practical-help", "4", PROVIDER)]
    )
    url = f"/v1/decisions/{out['id']}/provider-choices"

    async def choose(service_type: str, org: str) -> None:
        r = await client.post(
            url,
            json={
                "service_type": service_type,
                "informed_date": INFORMED,
                "chosen_date": str(TODAY),
                "provider_org": org,
                "chosen_by": "person",
            },
            headers=integration,
        )
        assert r.status_code == 200, r.text

    await choose("home-nursing", second)
    # The new provider gets home nursing; the old one keeps practical help only.
    orders = await orders_after(client, out["version"])
    assert orders == {
        second: ("new", ["home-nursing"], None),
        PROVIDER: ("changed", ["practical-help"], None),
    }
    version = max(o["decision_version"] for o in await issued_orders(client))
    await choose("practical-help", second)
    # Now the old provider has nothing left: its order ends on the day of the choice.
    orders = await orders_after(client, version)
    assert orders == {
        second: ("new", ["home-nursing", "practical-help"], None),
        PROVIDER: ("ended", ["practical-help"], str(TODAY)),
    }


async def issued_orders(client) -> list[dict]:
    async with client.app.state.ctx.sessionmaker() as s:
        rows = await s.execute(
            select(platform_tables.outbox.c.envelope)
            .where(platform_tables.outbox.c.type == "no.hjemflyt.assessment.order.issued.v1")
            .order_by(platform_tables.outbox.c.seq)
        )
        return [json.loads(payload)["data"] for (payload,) in rows]


async def orders_after(client, version: int) -> dict[str, tuple]:
    """The orders issued after a decision version: provider -> (kind, service types, end date)."""
    return {
        o["provider_org"]: (o["kind"], sorted(s["service_type"] for s in o["services"]), o["end_date"])
        for o in await issued_orders(client)
        if o["decision_version"] > version
    }


async def test_case_officers_see_only_their_districts(client, issuer):
    out = await made(client, issuer)
    other = auth(issuer, Role.case_officer, districts=["frogner"])
    assert_problem(await client.get(f"/v1/decisions/{out['id']}", headers=other), 404, "not-found")
    assert_problem(await client.post(f"/v1/decisions/{out['id']}/send", headers=other), 404, "not-found")
    mine = auth(issuer, Role.case_officer, districts=["gamle-oslo"])
    assert (await client.get(f"/v1/decisions/{out['id']}", headers=mine)).status_code == 200


async def test_retried_creation_with_an_idempotency_key_makes_one_decision(client, issuer):
    integration = auth(issuer, Role.integration)
    person_id = await register(client, issuer, "gamle-oslo")
    body = decision_body(person_id, [("home-nursing", "20", PROVIDER)], start=START)
    headers = {**integration, "Idempotency-Key": "vedtak-0001"}
    first = await client.post("/v1/decisions", json=body, headers=headers)
    second = await client.post("/v1/decisions", json=body, headers=headers)
    assert second.headers["idempotency-replayed"] == "true"
    assert second.json()["id"] == first.json()["id"]
    assert await outbox_types(client) == ["decision.made.v1", "order.issued.v1"]
    assert_problem(
        await client.post("/v1/decisions", json={**body, "user_goal": "x"}, headers=headers),
        409,
        "idempotency-key-reused",
    )


async def test_a_configuration_change_applies_to_the_next_decision_whoever_made_it(client, issuer):
    """The catalogue is cached per process; a change through the API, or by another replica
    (here: straight in the database), must apply to the very next decision."""
    integration = auth(issuer, Role.integration)
    first = await made(client, issuer, number=NUMBERS[0])  # the catalogue is now cached
    assert "4 uker" in first["appeal_text"] or "fire uker" in first["appeal_text"]

    # Another replica takes home nursing out of the catalogue.
    async with client.app.state.ctx.sessionmaker() as s, s.begin():
        await s.execute(text("update assessment.service_type set active = false where code = 'home-nursing'"))
    person_id = await register(client, issuer, "gamle-oslo", NUMBERS[1])
    body = decision_body(person_id, [("home-nursing", "20", PROVIDER)], start=START)
    assert_problem(await client.post("/v1/decisions", json=body, headers=integration), 422, "unknown-service")
    before = await stored(client)

    # Back in, and a longer appeal deadline through the API: both apply at once.
    async with client.app.state.ctx.sessionmaker() as s, s.begin():
        await s.execute(text("update assessment.service_type set active = true where code = 'home-nursing'"))
    r = await client.get("/v1/config", headers=integration)
    municipality = r.json()["municipality"]
    municipality.pop("preset", None)
    municipality.pop("tenant", None)
    municipality.pop("updated_at", None)
    changed = {**municipality, "appeal_weeks": 6}
    r = await client.put("/v1/config/municipality", json=changed, headers=integration)
    assert r.status_code == 204, r.text
    r = await client.post("/v1/decisions", json=body, headers=integration)
    assert r.status_code == 201, r.text
    assert "6 uker" in r.json()["appeal_text"]
    assert (await stored(client))["decision"] == before["decision"] + 1


@pytest.mark.calendar
async def test_evaluations_due_is_the_reassessment_backlog(client, issuer):
    integration = auth(issuer, Role.integration)
    out = await made(client, issuer)
    due = await client.get("/v1/worklists/evaluations-due", headers=integration)
    assert due.json()["items"] == []
    evaluation = date.fromisoformat(out["evaluation_date"])
    assert evaluation == START + timedelta(days=60)
    # Due within a week: listed when asked for a week ahead, not before.
    move_clock_to(client.app.state.clock, evaluation - timedelta(days=7))
    due = await client.get("/v1/worklists/evaluations-due?within_days=6", headers=integration)
    assert due.json()["items"] == []
    due = await client.get("/v1/worklists/evaluations-due?within_days=7", headers=integration)
    assert [d["id"] for d in due.json()["items"]] == [out["id"]]
    # On the evaluation date itself it is due.
    move_clock_to(client.app.state.clock, evaluation)
    due = await client.get("/v1/worklists/evaluations-due", headers=integration)
    assert [d["id"] for d in due.json()["items"]] == [out["id"]]
    assert_problem(
        await client.get("/v1/worklists/evaluations-due?cursor=bad", headers=integration),
        400,
        "invalid-cursor",
    )


def _born(birth: date) -> str:
    """A synthetic identity number of someone born on `birth`."""
    for individual in range(500):
        try:
            return synthetic_identity_number(birth, individual)
        except ValueError:
            continue  # a check digit of 10
    raise AssertionError("no number")


@pytest.mark.calendar
async def test_decision_made_and_amended_carry_the_age_band_at_the_decision_date(client, issuer):
    """Budget's KOSTRA figures count users per age band; the event says the band, not the birth date."""
    integration = auth(issuer, Role.integration)
    today = client.app.state.ctx.clock.today()
    tomorrow = today + timedelta(days=1)
    cases = [
        (date(today.year - 85, 1, 1), "80+"),
        (date(today.year - 70, 1, 1), "67-79"),
        # 80 years back is a leap year when this one is: 29 February exists there too.
        (date(today.year - 80, today.month, today.day), "80+"),  # 80 today, Norway's date
        (date(tomorrow.year - 80, tomorrow.month, tomorrow.day), "67-79"),  # 80 tomorrow
        (date(today.year - 66, 12, 31), "0-66"),
    ]
    for birth, _ in cases:
        out = await made(client, issuer, number=_born(birth))
    async with client.app.state.ctx.sessionmaker() as s:
        rows = await s.execute(
            select(platform_tables.outbox.c.envelope)
            .where(platform_tables.outbox.c.type.like("%decision.made%"))
            .order_by(platform_tables.outbox.c.seq)
        )
        data = [json.loads(envelope)["data"] for (envelope,) in rows]
    assert [d["age_band"] for d in data] == [band for _, band in cases]
    assert {d["decision_date"] for d in data} == {today.isoformat()}

    # An amendment carries it too (at the decision's date, not the amendment's).
    services = decision_body(out["person_id"], [("home-nursing", "25", PROVIDER)], start=START)["services"]
    r = await client.patch(
        f"/v1/decisions/{out['id']}", json={"services": services}, headers={**integration, **tag(out)}
    )
    assert r.status_code == 200, r.text
    async with client.app.state.ctx.sessionmaker() as s:
        amended = (
            await s.execute(
                select(platform_tables.outbox.c.envelope).where(
                    platform_tables.outbox.c.type.like("%decision.amended%")
                )
            )
        ).scalar_one()
    assert json.loads(amended)["data"]["age_band"] == "0-66"


# --- § 35 and the legal edges of a running decision -------------------------------------


async def outbox_data(client, event_type: str) -> list[dict]:
    async with client.app.state.ctx.sessionmaker() as s:
        rows = await s.execute(
            select(platform_tables.outbox.c.envelope)
            .where(platform_tables.outbox.c.type == f"no.hjemflyt.assessment.{event_type}")
            .order_by(platform_tables.outbox.c.seq)
        )
        return [json.loads(envelope)["data"] for (envelope,) in rows]


async def test_a_detrimental_edit_of_a_running_decision_is_refused_naming_each_detriment(client, issuer):
    integration = auth(issuer, Role.integration)
    out = await made(
        client,
        issuer,
        services=[("home-nursing", "20", PROVIDER), ("practical-help", "3", None)],
        household_income_g="2.5",
    )
    url = f"/v1/decisions/{out['id']}"
    services = decision_body(
        out["person_id"], [("home-nursing", "20", PROVIDER), ("practical-help", "3", None)], start=START
    )["services"]
    nursing, practical = services
    frame = {**nursing, "scope_kind": "frame", "frame_min_hours": "0.5", "frame_max_hours": "20"}
    frame.pop("hours_per_month")
    before = await stored(client)
    for change, expected in (
        # A fixed 20 hours turned into a frame of 0.5-20: decided hours stay 20, the minimum drops.
        ({"services": [frame, practical]}, ["scope_kind hours_per_month → frame", "minimum hours is lower"]),
        # The same help at a higher price: the household income moves the co-payment band.
        ({"household_income_g": "5.5"}, ["services[practical-help].copayment is higher"]),
        # One measure fewer.
        (
            {"services": [{**nursing, "measures": nursing["measures"][:1]}, practical]},
            ["is removed"],
        ),
    ):
        body = assert_problem(
            await client.patch(url, json=change, headers={**integration, **tag(out)}),
            409,
            "reduction-requires-new-decision",
        )
        for words in expected:
            assert any(words in d for d in body["detriments"]), (words, body["detriments"])
        assert all(d in body["detail"] for d in body["detriments"])
    assert await stored(client) == before
    # In the person's favour: a frame from the 20 hours up to 30 is an amendment.
    wider = {**frame, "frame_min_hours": "20", "frame_max_hours": "30"}
    r = await client.patch(url, json={"services": [wider, practical]}, headers={**integration, **tag(out)})
    assert r.status_code == 200, r.text
    service = next(s for s in r.json()["services"] if s["service_type"] == "home-nursing")
    assert service["scope_kind"] == "frame"
    assert (Decimal(service["frame_min_hours"]), Decimal(service["frame_max_hours"])) == (20, 30)


@pytest.mark.calendar
async def test_ending_early_needs_a_reason_the_law_allows_and_tells_the_provider_why(client, issuer):
    integration = auth(issuer, Role.integration)
    out = await made(client, issuer)  # indefinite
    url = f"/v1/decisions/{out['id']}"
    end_date = str(START + timedelta(days=30))
    before = await stored(client)
    for reason in ("ended", "expired"):
        body = assert_problem(
            await client.post(
                f"{url}/end", json={"end_date": end_date, "reason": reason}, headers=integration
            ),
            422,
            "end-reason-not-allowed",
        )
        assert "deceased" in body["allowed"]
        assert "ended" not in body["allowed"]
    assert await stored(client) == before
    ended = await client.post(
        f"{url}/end", json={"end_date": end_date, "reason": "deceased"}, headers=integration
    )
    assert ended.status_code == 200, ended.text
    assert (ended.json()["status"], ended.json()["end_reason"]) == ("ended", "deceased")
    assert (await outbox_data(client, "decision.ended.v1"))[-1]["reason"] == "deceased"
    order = (await outbox_data(client, "order.issued.v1"))[-1]
    assert (order["kind"], order["provider_org"], order["end_reason"], order["end_date"]) == (
        "ended",
        PROVIDER,
        "deceased",
        end_date,
    )

    # A decision with its own end date ends on it for the generic reason; before it, not;
    # after it is no end but an amendment of the end date.
    other = await made(client, issuer, number=NUMBERS[1], end_date=str(START + timedelta(days=90)))
    other_url = f"/v1/decisions/{other['id']}"
    assert_problem(
        await client.post(
            f"{other_url}/end", json={"end_date": end_date, "reason": "ended"}, headers=integration
        ),
        422,
        "end-reason-not-allowed",
    )
    later = {"end_date": str(START + timedelta(days=91)), "reason": "moved"}
    assert_problem(
        await client.post(f"{other_url}/end", json=later, headers=integration), 422, "end-after-end-date"
    )
    r = await client.post(
        f"{other_url}/end",
        json={"end_date": str(START + timedelta(days=90)), "reason": "ended"},
        headers=integration,
    )
    assert r.status_code == 200, r.text


@pytest.mark.calendar
async def test_decisions_start_and_end_on_their_own_by_the_clock(client, issuer, settings):
    """The sweep of a second replica (a fast one) moves the decisions: a sent decision becomes
    active on its start date, and ends (expired) the day after its end date; a made decision
    that was never sent does not start (the person must have the letter)."""
    integration = auth(issuer, Role.integration)
    last_day = START + timedelta(days=30)
    out = await made(client, issuer, end_date=str(last_day), evaluation_days=14)
    sent = await client.post(f"/v1/decisions/{out['id']}/send", headers={**integration, **tag(out)})
    assert sent.status_code == 200, sent.text
    unsent = await made(client, issuer, number=NUMBERS[1])
    fast = settings.model_copy(update={"decision_sweep_seconds": 0.1})
    async with running_service(create_app, fast) as replica:
        assert "assessment-decision-sweep" in {t.get_name() for t in replica.app.state.tasks}
        move_clock_to(replica.app.state.clock, START - timedelta(days=1))

        async def status(decision: dict) -> dict:
            return (await client.get(f"/v1/decisions/{decision['id']}", headers=integration)).json()

        await asyncio.sleep(0.3)
        assert (await status(out))["status"] == "sent"  # not before its start date
        move_clock_to(replica.app.state.clock, START)

        async def active():
            assert (await status(out))["status"] == "active"

        await eventually(active)
        activated = (await outbox_data(client, "decision.activated.v1"))[-1]
        assert (activated["decision_id"], activated["start_date"]) == (out["id"], str(START))
        assert (await status(unsent))["status"] == "made"

        move_clock_to(replica.app.state.clock, last_day)
        await asyncio.sleep(0.3)
        assert (await status(out))["status"] == "active"  # its last day is still in it
        move_clock_to(replica.app.state.clock, last_day + timedelta(days=1))

        async def expired():
            current = await status(out)
            assert (current["status"], current["end_reason"], current["end_date"]) == (
                "ended",
                "expired",
                str(last_day),
            )

        await eventually(expired)
        assert (await outbox_data(client, "decision.ended.v1"))[-1]["reason"] == "expired"
        order = (await outbox_data(client, "order.issued.v1"))[-1]
        assert (order["kind"], order["end_reason"], order["decision_id"]) == ("ended", "expired", out["id"])
        assert (await status(unsent))["status"] == "made"  # indefinite: it runs on
        versions = (await client.get(f"/v1/decisions/{out['id']}/versions", headers=integration)).json()
        assert [(v["action"], v["changed_by"]) for v in versions][-2:] == [
            ("activated", "system:decision-sweep"),
            ("ended", "system:decision-sweep"),
        ]
        await drain_outbox(replica)


async def test_a_decision_the_sweep_cannot_move_does_not_hold_back_the_others(client, issuer, monkeypatch):
    integration = auth(issuer, Role.integration)
    sent = []
    for number in NUMBERS[:3]:
        out = await made(client, issuer, number=number)
        r = await client.post(f"/v1/decisions/{out['id']}/send", headers={**integration, **tag(out)})
        assert r.status_code == 200, r.text
        sent.append(r.json())
    poison = sent[1]["id"]
    activate = lifecycle._activate

    async def failing(ctx, session, principal, decision, catalogue):
        if str(decision.id) == poison:
            raise RuntimeError("cannot move this one")
        return await activate(ctx, session, principal, decision, catalogue)

    monkeypatch.setattr(lifecycle, "_activate", failing)
    ctx = client.app.state.ctx
    move_clock_to(client.app.state.clock, START)
    assert await sweep.sweep_once(ctx) == {"expired": 0, "activated": 2}

    async def status(decision: dict) -> str:
        return (await client.get(f"/v1/decisions/{decision['id']}", headers=integration)).json()["status"]

    assert [await status(d) for d in sent] == ["active", "sent", "active"]
    monkeypatch.setattr(lifecycle, "_activate", activate)
    assert await sweep.sweep_once(ctx) == {"expired": 0, "activated": 1}  # the next sweep moves it
    assert [await status(d) for d in sent] == ["active", "active", "active"]
    assert await sweep.sweep_once(ctx) == {"expired": 0, "activated": 0}


async def test_a_decision_superseded_by_one_starting_after_it_ends_keeps_its_end_date(client, issuer):
    integration = auth(issuer, Role.integration)
    own_end = START + timedelta(days=20)
    old = await made(client, issuer, end_date=str(own_end), evaluation_days=14)
    body = decision_body(
        old["person_id"],
        [("home-nursing", "8", PROVIDER)],
        start=START + timedelta(days=31),
        supersedes_id=old["id"],
    )
    assert (await client.post("/v1/decisions", json=body, headers=integration)).status_code == 201
    previous = (await client.get(f"/v1/decisions/{old['id']}", headers=integration)).json()
    assert (previous["status"], previous["end_reason"], previous["end_date"]) == (
        "ended",
        "superseded",
        str(own_end),
    )


async def decision_reads(client, person_id: str) -> list[tuple[str, str, str]]:
    ctx = client.app.state.ctx
    log = platform_tables.access_log
    async with ctx.sessionmaker() as s:
        rows = await s.execute(
            select(log.c.action, log.c.resource, log.c.purpose)
            .where(
                log.c.person_id == uuid.UUID(person_id), log.c.action == "read", log.c.resource != "person"
            )
            .order_by(log.c.id)
        )
        return [tuple(r) for r in rows]


async def test_every_read_of_a_decision_is_logged_with_the_stated_purpose(client, issuer):
    """Versions, provider choices, completeness, the person's list and the evaluations-due
    worklist log a read of the person, with the `Hjemflyt-Purpose` header's purpose."""
    out = await made(client, issuer)
    url = f"/v1/decisions/{out['id']}"
    officer = auth(issuer, Role.case_officer, districts=["gamle-oslo"])
    for path, purpose in (
        (f"{url}/versions", "klage"),
        (f"{url}/provider-choices", "brukervalg"),
        (f"{url}/completeness", "kontroll"),
        (f"/v1/persons/{out['person_id']}/decisions", "oversikt"),
        (url, "lesing"),
    ):
        r = await client.get(path, headers={**officer, "Hjemflyt-Purpose": purpose})
        assert r.status_code == 200, r.text
    move_clock_to(client.app.state.clock, date.fromisoformat(out["evaluation_date"]))
    r = await client.get(
        "/v1/worklists/evaluations-due", headers={**officer, "Hjemflyt-Purpose": "revurdering"}
    )
    assert [d["id"] for d in r.json()["items"]] == [out["id"]]
    assert await decision_reads(client, out["person_id"]) == [
        ("read", "decision-versions", "klage"),
        # No provider choice recorded: an empty answer shows nothing and logs nothing.
        ("read", "decision-completeness", "kontroll"),
        ("read", "decision-list", "oversikt"),
        ("read", "decision", "lesing"),
        ("read", "evaluations-due", "revurdering"),
    ]
    # Another district's officer sees nothing and leaves no row.
    other = auth(issuer, Role.case_officer, districts=["frogner"])
    assert (await client.get(f"{url}/versions", headers=other)).status_code == 404
    assert (await client.get("/v1/worklists/evaluations-due", headers=other)).json()["items"] == []
    assert len(await decision_reads(client, out["person_id"])) == 5


async def test_an_amendment_sends_new_to_a_provider_it_names_for_the_first_time(client, issuer):
    """An amendment in the person's favour that adds a service with another provider: that
    provider gets a `new` order (it had none to change), the first one `changed`, as the bulk
    import does."""
    second = "923609016"
    await publish_provider(client.app.state.ctx.settings, second, ["1", "15"], ["gamle-oslo"])
    integration = auth(issuer, Role.integration)

    async def both_known():
        r = await client.get("/v1/providers", headers=integration)
        assert {p["provider_org"] for p in r.json()} == {PROVIDER, second}

    await eventually(both_known)
    out = await made(client, issuer)
    services = decision_body(
        out["person_id"], [("home-nursing", "25", PROVIDER), ("practical-help", "4", second)], start=START
    )["services"]
    r = await client.patch(
        f"/v1/decisions/{out['id']}", json={"services": services}, headers={**integration, **tag(out)}
    )
    assert r.status_code == 200, r.text
    assert await orders_after(client, out["version"]) == {
        PROVIDER: ("changed", ["home-nursing"], None),
        second: ("new", ["practical-help"], None),
    }
