"""The provider's adjustment log: a provider logs adjustments to its order inside the
decision's bounds (refused outside them, nothing stored), repeats return the same record,
the case office reads the log per person and decision and overrules one, which reaches the
provider as a message to acknowledge."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import date, timedelta

import pytest
from identity_corpus import VALID_NUMBERS, make_org_number
from sqlalchemy import select, text

from hjemflyt.notifications.db import platform_tables
from hjemflyt.notifications.main import create_app
from hjemflyt.shared.contracts.events import (
    ORDER_ISSUED,
    DecidedService,
    OrderedMeasure,
    OrderIssued,
    OrderRecipient,
)
from hjemflyt.shared.contracts.orders import ADJUSTMENT_OVERRULED, ORDER_ADJUSTED
from hjemflyt.shared.contracts.registry import EventType
from hjemflyt.shared.platform.auth import Role
from hjemflyt.shared.testing import auth, eventually, publish_event, running_service, suite_now, suite_today

PROVIDER = make_org_number("81234567")
OTHER = make_org_number("90000000")
RECIPIENT_NUMBER = next(n for n, cls in VALID_NUMBERS if cls == "tenor_birth_number")
T = platform_tables
TODAY = suite_today()


@pytest.fixture
async def client(settings):
    async with running_service(create_app, settings) as client:
        yield client
        relay = client.app.state.relay

        async def drained():
            assert await relay.pending_count() == 0

        await eventually(drained)
        await asyncio.sleep(0.05)


async def register(client, issuer, org: str) -> None:
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


def nursing(org: str, *, scope_kind: str = "frame") -> DecidedService:
    return DecidedService(
        service_code="15",
        service_name="Helsetjenester i hjemmet",
        service_type="hjemmesykepleie",
        hours_per_month="20",
        scope_kind=scope_kind,
        frame_min_hours="8" if scope_kind == "frame" else None,
        frame_max_hours="20" if scope_kind == "frame" else None,
        provider_org=org,
        measures=[
            OrderedMeasure(code="SAR", description="Sårstell", times=3, per="week", minutes=30),
            OrderedMeasure(description="Oppfølging av faste medisiner", times=1, per="day", minutes=15),
        ],
    )


async def issue(
    client,
    settings,
    org: str = PROVIDER,
    *,
    model: str = "professional_freedom",
    kind: str = "new",
    decision_id: uuid.UUID | None = None,
    version: int = 1,
    person_id: uuid.UUID | None = None,
    end: date | None = None,
) -> uuid.UUID:
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
        services=[nursing(org)],
        start_date=TODAY - timedelta(days=30),
        end_date=end,
        organisation_model=model,
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
            # The order's content names the district's organisation model once the structured
            # order stores it (issue 12, area "order"); until then the test puts it there.
            await s.execute(
                text(
                    "update notifications.provider_order set content = content || "
                    "jsonb_build_object('organisation_model', cast(:m as text)) "
                    "where id = :id and content->>'organisation_model' is null"
                ),
                {"id": row[0], "m": model},
            )
            await s.commit()
        return row[0]

    return await eventually(stored)


def provider(issuer, org: str = PROVIDER) -> dict[str, str]:
    return auth(issuer, Role.provider, provider_org=org, subject=f"system-{org}")


def officer(issuer, district: str = "frogner", role: Role = Role.case_officer) -> dict[str, str]:
    return auth(issuer, role, districts=[district], subject=f"officer-{district}")


def assert_problem(r, status: int, slug: str) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json"), r.headers
    body = r.json()
    assert body["type"].endswith("/" + slug), body
    return body


async def events(client, event_type: EventType) -> list[dict]:
    async with client.app.state.ctx.sessionmaker() as s:
        rows = await s.scalars(
            select(T.outbox.c.envelope).where(T.outbox.c.type == event_type.name).order_by(T.outbox.c.seq)
        )
        return [json.loads(e)["data"] for e in rows]


async def count(client) -> int:
    async with client.app.state.ctx.sessionmaker() as s:
        return int((await s.execute(text("select count(*) from notifications.adjustment"))).scalar_one())


def cut_wound_care(**extra: object) -> dict:
    return {
        "service_type": "hjemmesykepleie",
        "measure": {"code": "SAR"},
        "from": {"times": 3, "per": "week"},
        "to": {"times": 2},
        "reason": "Såret gror godt; to besøk i uken holder.",
        **extra,
    }


@pytest.fixture
async def order(client, issuer, settings):
    await register(client, issuer, PROVIDER)
    await register(client, issuer, OTHER)
    return await issue(client, settings)


async def test_an_adjustment_inside_the_frame_is_logged_and_published(client, issuer, order):
    r = await client.post(f"/v1/orders/{order}/adjustments", json=cut_wound_care(), headers=provider(issuer))
    assert r.status_code == 201, r.text
    body = r.json()
    assert r.headers["location"] == f"/v1/adjustments/{body['id']}"
    assert body["status"] == "in_force"
    assert body["before"] == {
        "code": "SAR",
        "description": "Sårstell",
        "times": 3,
        "per": "week",
        "minutes": 30,
    }
    assert body["after"]["times"] == 2
    assert (body["planned_hours_before"], body["planned_hours_after"]) == ("14.13", "11.96")
    assert body["bounds"] == {"scope_kind": "frame", "min_hours": "8.00", "max_hours": "20.00"}
    assert body["overrule"] is None

    (event,) = await events(client, ORDER_ADJUSTED)
    assert event["adjustment_id"] == body["id"]
    assert event["order_id"] == str(order)
    assert event["measure_code"] == "SAR"
    assert event["change"]["times_from"] == 3
    assert event["change"]["times_to"] == 2
    assert event["reason"].startswith("Såret gror")
    dumped = json.dumps(event)
    for secret in (RECIPIENT_NUMBER, "Kari", "Nordmann"):
        assert secret not in dumped

    # The next adjustment starts from the plan in force: 2 a week now.
    stale = cut_wound_care(to={"times": 1})
    assert_problem(
        await client.post(f"/v1/orders/{order}/adjustments", json=stale, headers=provider(issuer)),
        409,
        "adjustment-from-mismatch",
    )
    # A content change and a new measure inside the frame are adjustments too.
    content = {
        "service_type": "15",
        "measure": {"description": "oppfølging av faste medisiner"},
        "content": "Medisinene gis nå ved frokost.",
        "reason": "Bedre rytme for brukeren.",
    }
    r = await client.post(f"/v1/orders/{order}/adjustments", json=content, headers=provider(issuer))
    assert r.status_code == 201, r.text
    assert r.json()["service_type"] == "hjemmesykepleie"
    new = {
        "service_type": "hjemmesykepleie",
        "measure": {"description": "Hjelp til dusj"},
        "new_measure": True,
        "to": {"times": 1, "per": "week", "minutes": 30},
        "reason": "Trenger hjelp med dusj etter operasjonen.",
    }
    r = await client.post(f"/v1/orders/{order}/adjustments", json=new, headers=provider(issuer))
    assert r.status_code == 201, r.text
    assert r.json()["before"] is None
    assert r.json()["planned_hours_after"] == "14.13"
    assert await count(client) == 3


async def test_outside_the_decision_is_refused_and_pointed_to_change_of_need(client, issuer, settings, order):
    above = cut_wound_care(**{"from": None, "to": {"times": 7, "minutes": 45}})
    r = await client.post(f"/v1/orders/{order}/adjustments", json=above, headers=provider(issuer))
    body = assert_problem(r, 422, "adjustment-outside-decision")
    assert body["change_of_need"] == f"/v1/orders/{order}/change-of-need"
    unknown = cut_wound_care(service_type="praktisk-bistand")
    r = await client.post(f"/v1/orders/{order}/adjustments", json=unknown, headers=provider(issuer))
    assert_problem(r, 422, "service-not-ordered")
    # In a purchaser-provider district every change needs a change notice.
    strict = await issue(client, settings, model="purchaser_provider")
    r = await client.post(f"/v1/orders/{strict}/adjustments", json=cut_wound_care(), headers=provider(issuer))
    assert_problem(r, 422, "change-notice-required")
    # Without a reason, nothing at all.
    r = await client.post(
        f"/v1/orders/{order}/adjustments", json={**cut_wound_care(), "reason": ""}, headers=provider(issuer)
    )
    assert r.status_code == 422
    assert await count(client) == 0
    assert await events(client, ORDER_ADJUSTED) == []


async def test_another_providers_order_is_not_found_and_the_case_office_cannot_adjust(client, issuer, order):
    r = await client.post(
        f"/v1/orders/{order}/adjustments", json=cut_wound_care(), headers=provider(issuer, OTHER)
    )
    assert_problem(r, 404, "not-found")
    r = await client.post(f"/v1/orders/{order}/adjustments", json=cut_wound_care(), headers=officer(issuer))
    assert r.status_code == 403
    assert await count(client) == 0


async def test_an_ended_or_rejected_order_is_not_adjusted(client, issuer, settings, order):
    decision_id, person_id = uuid.uuid4(), uuid.uuid4()
    ending = await issue(client, settings, decision_id=decision_id, person_id=person_id)
    await issue(
        client, settings, decision_id=decision_id, person_id=person_id, version=2, kind="ended", end=TODAY
    )

    async def ended():
        r = await client.get(f"/v1/orders/{ending}", headers=provider(issuer))
        assert r.json()["status"] == "ended"

    await eventually(ended)
    r = await client.post(f"/v1/orders/{ending}/adjustments", json=cut_wound_care(), headers=provider(issuer))
    assert_problem(r, 409, "order-ended")

    async with client.app.state.ctx.sessionmaker() as s:
        await s.execute(
            text("update notifications.provider_order set status = 'rejected' where id = :id"), {"id": order}
        )
        await s.commit()
    r = await client.post(f"/v1/orders/{order}/adjustments", json=cut_wound_care(), headers=provider(issuer))
    assert_problem(r, 409, "order-rejected")
    assert await count(client) == 0


async def test_a_repeated_adjustment_is_stored_once(client, issuer, settings, order):
    body = cut_wound_care(adjustment_id="adj-2026-0001")
    first = await client.post(f"/v1/orders/{order}/adjustments", json=body, headers=provider(issuer))
    assert first.status_code == 201, first.text
    again = await client.post(f"/v1/orders/{order}/adjustments", json=body, headers=provider(issuer))
    assert again.status_code == 200, again.text
    assert again.json() == first.json()
    assert again.json()["adjustment_id"] == "adj-2026-0001"
    other = {**body, "to": {"times": 1}}
    r = await client.post(f"/v1/orders/{order}/adjustments", json=other, headers=provider(issuer))
    assert_problem(r, 409, "adjustment-id-reused")
    second = await issue(client, settings)
    r = await client.post(f"/v1/orders/{second}/adjustments", json=body, headers=provider(issuer))
    assert_problem(r, 409, "adjustment-id-reused")
    # Another provider's ids are its own.
    mine = await issue(client, settings, OTHER)
    r = await client.post(f"/v1/orders/{mine}/adjustments", json=body, headers=provider(issuer, OTHER))
    assert r.status_code == 201, r.text

    # With an Idempotency-Key the retry is the first answer, replayed.
    keyed = {**provider(issuer), "Idempotency-Key": "retry-1"}
    body = {**cut_wound_care(), "from": {"times": 2}, "to": {"times": 1}}
    first = await client.post(f"/v1/orders/{order}/adjustments", json=body, headers=keyed)
    assert first.status_code == 201, first.text
    again = await client.post(f"/v1/orders/{order}/adjustments", json=body, headers=keyed)
    assert again.status_code == 201
    assert again.headers["idempotency-replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    assert await count(client) == 3
    assert len(await events(client, ORDER_ADJUSTED)) == 3


async def test_the_case_office_reads_the_log_and_overrules_once(client, issuer, settings, order):
    r = await client.post(f"/v1/orders/{order}/adjustments", json=cut_wound_care(), headers=provider(issuer))
    adjustment = r.json()
    person_id = adjustment["person_id"]
    await register(client, issuer, OTHER)
    elsewhere = await issue(client, settings, OTHER)
    r = await client.post(
        f"/v1/orders/{elsewhere}/adjustments", json=cut_wound_care(), headers=provider(issuer, OTHER)
    )
    assert r.status_code == 201, r.text

    r = await client.get("/v1/adjustments", params={"person_id": person_id}, headers=officer(issuer))
    assert r.status_code == 200, r.text
    assert [a["id"] for a in r.json()["items"]] == [adjustment["id"]]
    r = await client.get(
        "/v1/adjustments", params={"decision_id": adjustment["decision_id"]}, headers=officer(issuer)
    )
    assert [a["id"] for a in r.json()["items"]] == [adjustment["id"]]
    r = await client.get(f"/v1/orders/{order}/adjustments", headers=officer(issuer))
    assert [a["id"] for a in r.json()["items"]] == [adjustment["id"]]
    r = await client.get("/v1/adjustments", params={"district": "frogner"}, headers=officer(issuer))
    assert len(r.json()["items"]) == 2
    # Other districts see nothing; a provider only its own.
    r = await client.get("/v1/adjustments", headers=officer(issuer, "gamle-oslo"))
    assert r.json()["items"] == []
    r = await client.get("/v1/adjustments", headers=provider(issuer, OTHER))
    assert [a["provider_org"] for a in r.json()["items"]] == [OTHER]
    r = await client.get(f"/v1/adjustments/{adjustment['id']}", headers=provider(issuer, OTHER))
    assert_problem(r, 404, "not-found")
    async with client.app.state.ctx.sessionmaker() as s:
        logged = (
            await s.execute(
                select(T.access_log.c.resource).where(
                    T.access_log.c.resource.in_(["adjustment-list", "adjustment"])
                )
            )
        ).all()
    assert len(logged) >= 5

    overrule = {
        "reason": "Sårstell tre ganger i uken til såret er lukket; avklart med enhetsleder.",
        "decided_by": "head_of_services",
        "escalation_path": ["unit_head", "head_of_services"],
    }
    url = f"/v1/adjustments/{adjustment['id']}/overrule"
    assert (await client.post(url, json=overrule, headers=provider(issuer))).status_code == 403
    assert_problem(
        await client.post(url, json=overrule, headers=officer(issuer, "gamle-oslo")), 404, "not-found"
    )
    bad = {**overrule, "escalation_path": ["head_of_services", "unit_head"]}
    assert_problem(await client.post(url, json=bad, headers=officer(issuer)), 422, "invalid-escalation-path")
    r = await client.post(url, json=overrule, headers=officer(issuer, role=Role.service_lead))
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "overruled"
    assert r.json()["overrule"]["escalation_path"] == ["unit_head", "head_of_services"]
    assert_problem(
        await client.post(url, json=overrule, headers=officer(issuer)), 409, "adjustment-already-overruled"
    )

    (event,) = await events(client, ADJUSTMENT_OVERRULED)
    assert event["adjustment_id"] == adjustment["id"]
    assert event["decided_by"] == "head_of_services"
    inbox = (await client.get("/v1/inbox", headers=provider(issuer))).json()["items"]
    (message,) = [m for m in inbox if m["kind"] == "adjustment.overruled"]
    assert message["ack"]["required"] is True
    assert message["order_id"] == str(order)
    assert message["data"]["adjustment_id"] == adjustment["id"]
    assert message["data"]["before"]["times"] == 3
    assert message["data"]["instruction"] == "The measure runs as before your adjustment."
    assert r.json()["overrule"]["message_id"] == message["id"]
    # The other provider hears nothing of it.
    inbox = (await client.get("/v1/inbox", headers=provider(issuer, OTHER))).json()["items"]
    assert not [m for m in inbox if m["kind"] == "adjustment.overruled"]

    # Overruled, it no longer counts: the measure runs at 3 a week again.
    again = cut_wound_care(to={"times": 4})
    r = await client.post(f"/v1/orders/{order}/adjustments", json=again, headers=provider(issuer))
    assert r.status_code == 201, r.text
    assert r.json()["before"]["times"] == 3
