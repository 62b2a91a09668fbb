"""Bulk import of persons with their active decisions (POST /v1/imports/persons).

Upsert by the case system's keys: created, then unchanged on a replay (no rows, no events),
amended when a decision changes; every invalid item rejected with the rule named while the
valid ones are stored; integration accounts with both write scopes only; batch limits.
Gamle Oslo runs the trust model (hours per month), as the Oslo preset sets it.
"""

from __future__ import annotations

import asyncio
import copy
import json
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, text

from hjemflyt.assessment.db import platform_tables
from hjemflyt.assessment.imports.schemas import MAX_BODY_BYTES, MAX_ITEMS
from hjemflyt.assessment.main import create_app
from hjemflyt.shared.demo import decision_body
from hjemflyt.shared.identity import synthetic_identity_numbers
from hjemflyt.shared.platform.auth import Role
from hjemflyt.shared.platform.crypto import BusSealer
from hjemflyt.shared.testing import auth, eventually, publish_provider, running_service, suite_today

URL = "/v1/imports/persons"
PROVIDER = "320000009"  # approved for IPLOS services 1 and 15 in gamle-oslo and frogner
UNKNOWN_PROVIDER = "974760673"
NUMBERS = list(synthetic_identity_numbers(40, seed=7))
# Counted from the suite's day (HJEMFLYT_TEST_TODAY): made in the case system two weeks ago,
# started a week later.
TODAY = suite_today()
DECIDED = TODAY - timedelta(days=14)
START = DECIDED + timedelta(days=7)


@pytest.fixture
async def client(settings, issuer):
    integration = auth(issuer, Role.integration)
    async with running_service(create_app, settings) as client:
        assert (await client.post("/v1/config/presets/oslo", headers=integration)).status_code == 200
        await publish_provider(settings, PROVIDER, ["1", "15"], ["frogner", "gamle-oslo"])

        async def provider_known():
            r = await client.get("/v1/providers", headers=integration)
            assert [p["provider_org"] for p in r.json()] == [PROVIDER]

        await eventually(provider_known)
        yield client
        relay = client.app.state.relay

        async def drained():
            assert await relay.pending_count() == 0

        await eventually(drained)
        await asyncio.sleep(0.05)


def decision(external_id: str, services=None, **extra: Any) -> dict[str, Any]:
    """A decision as the case system sends it: the demo body without person and make."""
    body = decision_body("", services or [("home-nursing", "20", PROVIDER)], start=START)
    for key in ("person_id", "make"):
        body.pop(key)
    return {"external_id": external_id, "decision_date": DECIDED.isoformat(), **body, **extra}


def person(n: int, *decisions: dict[str, Any], district: str = "gamle-oslo", **extra: Any) -> dict[str, Any]:
    return {
        "source_system": "gerica",
        "external_id": f"P{n}",
        "identity_number": NUMBERS[n],
        "name": f"Kari Nordmann {n}",
        "address": f"Eksempelveien {n}, 0190 Oslo",
        "phone": "41234567",
        "district": district,
        "decisions": list(decisions) if decisions else [decision(f"V{n}")],
        **extra,
    }


async def send(client, issuer, items: list[dict[str, Any]], status: int = 200) -> dict[str, Any]:
    r = await client.post(URL, json={"items": items}, headers=auth(issuer, Role.integration))
    assert r.status_code == status, r.text
    return r.json()


async def stored(client) -> dict[str, int]:
    tables = ("person", "decision", "decision_service", "measure", "decision_version", "outbox", "access_log")
    async with client.app.state.ctx.sessionmaker() as s:
        return {
            t: await s.scalar(text(f"select count(*) from assessment.{t}"))  # noqa: S608 - fixed names
            for t in tables
        }


async def outbox(client) -> list[tuple[str, dict[str, Any]]]:
    async with client.app.state.ctx.sessionmaker() as s:
        table = platform_tables.outbox
        rows = await s.execute(select(table.c.type, table.c.envelope).order_by(table.c.seq))
        return [(t.removeprefix("no.hjemflyt.assessment."), json.loads(e)) for t, e in rows]


def statuses(result: dict[str, Any]) -> list[str]:
    return [item["status"] for item in result["items"]]


async def test_a_batch_creates_persons_with_active_decisions_and_their_events(client, issuer):
    integration = auth(issuer, Role.integration)
    items = [
        person(0),
        person(1, decision("V1a"), decision("V1b", [("practical-help", "4", None)])),
        person(2, district="frogner"),
    ]
    result = await send(client, issuer, items)
    assert statuses(result) == ["created"] * 3
    assert (result["created"], result["updated"], result["unchanged"], result["rejected"]) == (3, 0, 0, 0)
    assert [d["status"] for d in result["items"][1]["decisions"]] == ["created", "created"]

    first = result["items"][0]
    decision_id = first["decisions"][0]["decision_id"]
    out = (await client.get(f"/v1/decisions/{decision_id}", headers=integration)).json()
    assert out["status"] == "active"
    assert out["version"] == 1
    assert out["person_id"] == first["person_id"]
    assert out["decision_date"] == DECIDED.isoformat()
    assert out["legal_basis"] == ["hol-3-2-6a"]
    assert out["services"][0]["hours_per_month"] == "20.00"
    assert out["services"][0]["provider_org"] == PROVIDER
    versions = (await client.get(f"/v1/decisions/{decision_id}/versions", headers=integration)).json()
    assert [(v["version"], v["action"], v["status"]) for v in versions] == [(1, "imported", "active")]
    registered = (await client.get(f"/v1/persons/{first['person_id']}", headers=integration)).json()
    assert registered["identity_number"] == NUMBERS[0]
    assert registered["district"] == "gamle-oslo"

    # decision.made for every decision, an order for each one with a chosen provider.
    events = await outbox(client)
    assert [t for t, _ in events] == [
        "decision.made.v1",
        "order.issued.v1",
        "decision.made.v1",
        "order.issued.v1",
        "decision.made.v1",
        "decision.made.v1",
        "order.issued.v1",
    ]
    made = events[0][1]["data"]
    assert made["decision_id"] == decision_id
    assert made["decision_date"] == DECIDED.isoformat()
    assert made["services"][0]["hours_per_month"] == "20.00"
    order = events[1][1]["data"]
    assert order["kind"] == "new"
    # The recipient is sealed with the bus key: stored and published, it is unreadable.
    assert NUMBERS[0] not in json.dumps(order)
    sealer = BusSealer(client.app.state.ctx.settings.bus_key())
    assert json.loads(sealer.open(order["recipient"]))["identity_number"] == NUMBERS[0]
    # Personal data only in the provider's order.
    assert NUMBERS[0] not in json.dumps(made)
    assert "Kari" not in json.dumps(made)
    # One access-log row per person and per decision written, with the platform's fields:
    # the import's purpose and the reader's districts (the case system's account: all).
    assert (await stored(client))["access_log"] >= 3 + 4
    async with client.app.state.ctx.sessionmaker() as s:
        query = "select reader_districts from assessment.access_log where purpose like 'import from %'"
        rows = (await s.execute(text(query))).scalars().all()
    assert len(rows) >= 3 + 4
    assert {tuple(districts) for districts in rows} == {("*",)}


async def test_replaying_a_batch_changes_nothing_and_emits_nothing(client, issuer):
    items = [person(0), person(1, decision("V1a"), decision("V1b")), person(2, decisions=[])]
    await send(client, issuer, items)
    before = await stored(client)
    again = await send(client, issuer, items)
    assert statuses(again) == ["unchanged"] * 3
    assert again["unchanged"] == 3
    assert [d["status"] for d in again["items"][1]["decisions"]] == ["unchanged", "unchanged"]
    assert await stored(client) == before


async def test_a_changed_decision_becomes_an_amendment(client, issuer):
    integration = auth(issuer, Role.integration)
    first = await send(client, issuer, [person(0), person(1)])
    decision_id = first["items"][0]["decisions"][0]["decision_id"]
    count = len(await outbox(client))

    more_hours = person(0, decision("V0", [("home-nursing", "25", PROVIDER)]))
    moved = person(1, address="Nyveien 2, 0190 Oslo")
    result = await send(client, issuer, [more_hours, moved])
    assert statuses(result) == ["updated", "updated"]
    assert result["items"][0]["decisions"] == [
        {"external_id": "V0", "status": "updated", "decision_id": decision_id, "version": 2}
    ]
    assert result["items"][1]["decisions"][0]["status"] == "unchanged"
    out = (await client.get(f"/v1/decisions/{decision_id}", headers=integration)).json()
    assert (out["version"], out["status"], out["services"][0]["hours_per_month"]) == (2, "active", "25.00")
    versions = (await client.get(f"/v1/decisions/{decision_id}/versions", headers=integration)).json()
    assert [v["action"] for v in versions] == ["imported", "amended"]
    assert "services.home-nursing.hours_per_month" in {c["field"] for c in versions[-1]["changes"]}

    # The moved person changes no decision, so only the amendment publishes.
    events = (await outbox(client))[count:]
    assert [t for t, _ in events] == ["decision.amended.v1", "order.issued.v1"]
    amended, order = events[0][1]["data"], events[1][1]["data"]
    assert amended["version"] == 2
    assert amended["changes"] == ["services.home-nursing.hours_per_month"]
    assert (order["kind"], order["decision_version"]) == ("changed", 2)
    person_1 = (
        await client.get(f"/v1/persons/{result['items'][1]['person_id']}", headers=integration)
    ).json()
    assert person_1["address"] == "Nyveien 2, 0190 Oslo"

    # The amendment is stable: sent again, it is unchanged.
    assert statuses(await send(client, issuer, [more_hours, moved])) == ["unchanged", "unchanged"]


async def test_a_provider_that_leaves_the_decision_gets_an_ended_order(client, issuer):
    await send(client, issuer, [person(0)])
    count = len(await outbox(client))
    without_provider = decision("V0", [("home-nursing", "20", None)])
    # A provider chosen earlier stays when the case system sends none, as in an API amendment.
    kept = await send(client, issuer, [person(0, without_provider)])
    assert statuses(kept) == ["unchanged"], kept["items"][0]["problem"]
    nursing_to_help = decision("V0", [("practical-help", "20", None)])
    assert statuses(await send(client, issuer, [person(0, nursing_to_help)])) == ["updated"]
    events = (await outbox(client))[count:]
    assert [(t, e["data"].get("kind")) for t, e in events] == [
        ("decision.amended.v1", None),
        ("order.issued.v1", "ended"),
    ]


async def test_invalid_items_are_rejected_with_the_rule_named_while_valid_ones_are_stored(client, issuer):
    bad_number = NUMBERS[3][:-1] + str((int(NUMBERS[3][-1]) + 1) % 10)
    no_district = person(5)
    del no_district["district"]
    items = [
        person(0),
        person(1, decision("V1", justification="")),
        person(2, decision("V2", [("home-nursing", "20", UNKNOWN_PROVIDER)])),
        person(3, identity_number=bad_number),
        person(4, decision("V4", [("massage", "20", None)])),
        no_district,
        person(6, district="atlantis"),
        person(7, decision("V7", decision_date=(TODAY + timedelta(days=1)).isoformat())),
        person(8, decision("V8", [("home-nursing", "0", None)])),
        person(9, decision("V9", hours_per_month="many")),
        person(0, external_id="P0-again"),  # the same identity number again
        person(10, decision("V0")),  # a decision id the first item already uses
        person(11, decision("V11", decision_date=TODAY.isoformat())),  # made today: not in the future
    ]
    result = await send(client, issuer, items)
    assert statuses(result) == ["created", *["rejected"] * 11, "created"]
    problems = [item["problem"] for item in result["items"]]

    def rules(problem: dict[str, Any]) -> set[str]:
        return {m["rule"] for m in problem.get("missing", [])}

    def slug(problem: dict[str, Any]) -> str:
        return problem["type"].rsplit("/", 1)[1]

    assert rules(problems[1]) == {"justification-missing"}
    assert slug(problems[1]) == "justification-missing"
    assert problems[1]["missing"][0]["field"] == "decisions[0].justification"
    assert rules(problems[2]) == {"unknown-provider"}
    assert problems[2]["missing"][0]["field"] == "decisions[0].services[0]"
    assert (slug(problems[3]), problems[3]["reason"]) == ("invalid-identity-number", "checksum")
    assert NUMBERS[3][:6] not in json.dumps(problems[3])
    assert rules(problems[4]) == {"unknown-service", "legal-basis-missing"}  # no basis without a service
    assert slug(problems[5]) == "validation-error"
    assert problems[5]["errors"][0]["location"] == ["district"]
    assert slug(problems[6]) == "unknown-district"
    assert rules(problems[7]) == {"decision-date-in-future"}
    assert rules(problems[8]) == {"hours-out-of-range"}
    assert slug(problems[9]) == "validation-error"
    assert problems[9]["errors"][0]["location"][:2] == ["decisions", 0]
    assert slug(problems[10]) == "duplicate-in-batch"
    assert slug(problems[11]) == "duplicate-in-batch"
    assert all(p["status"] in (409, 422) for p in problems[1:12])
    assert (result["items"][5]["source_system"], result["items"][5]["external_id"]) == ("gerica", "P5")

    # Nothing of a rejected item is stored: two persons, two decisions, their events only.
    counts = await stored(client)
    assert (counts["person"], counts["decision"], counts["decision_version"]) == (2, 2, 2)
    assert [t for t, _ in await outbox(client)] == ["decision.made.v1", "order.issued.v1"] * 2

    # Fixed and sent again, a rejected item is stored; the stored ones stay unchanged.
    items[1] = person(1)
    again = await send(client, issuer, items[:2])
    assert statuses(again) == ["unchanged", "created"]


async def test_a_person_registered_before_is_linked_not_doubled(client, issuer):
    integration = auth(issuer, Role.integration)
    r = await client.post(
        "/v1/persons",
        json={"identity_number": NUMBERS[0], "name": "Kari", "address": "Gata 1", "district": "frogner"},
        headers=integration,
    )
    assert r.status_code == 201, r.text
    result = await send(client, issuer, [person(0)])
    assert statuses(result) == ["updated"]
    assert result["items"][0]["person_id"] == r.json()["id"]
    assert result["items"][0]["decisions"][0]["status"] == "created"
    # The same number from another case system, or under another id, is refused.
    other = await send(client, issuer, [person(0, source_system="cosdoc"), person(0, external_id="X")])
    assert statuses(other) == ["rejected", "rejected"]
    assert other["items"][0]["problem"]["type"].endswith("/identity-number-conflict")
    assert (await stored(client))["person"] == 1


async def test_a_decision_cannot_move_to_another_person(client, issuer):
    await send(client, issuer, [person(0)])
    result = await send(client, issuer, [person(1, decision("V0"))])
    assert statuses(result) == ["rejected"]
    assert result["items"][0]["problem"]["type"].endswith("/decision-conflict")
    assert (await stored(client))["person"] == 1


async def test_only_an_integration_account_with_both_write_scopes_may_import(client, issuer):
    items = {"items": [person(0)]}
    persons_only = auth(issuer, Role.integration, scopes=["persons:write", "decisions:read"])
    r = await client.post(URL, json=items, headers=persons_only)
    assert r.status_code == 403, r.text
    assert r.json()["missing_scopes"] == ["decisions:write"]
    officer = auth(issuer, Role.case_officer, districts=["gamle-oslo"])
    r = await client.post(URL, json=items, headers=officer)
    assert r.status_code == 403, r.text
    assert r.json()["type"].endswith("/integration-only")
    assert (await client.post(URL, json=items)).status_code == 401
    assert (await stored(client))["person"] == 0


async def test_batches_are_limited_in_items_and_bytes(client, issuer):
    integration = auth(issuer, Role.integration)
    one = person(0)
    r = await client.post(URL, json={"items": [one] * (MAX_ITEMS + 1)}, headers=integration)
    assert r.status_code == 413, r.text
    assert r.json()["type"].endswith("/batch-too-large")
    assert r.json()["max_items"] == MAX_ITEMS
    huge = copy.deepcopy(one)
    huge["decisions"][0]["justification"] = "x" * 20000
    body = json.dumps({"items": [huge] * (MAX_BODY_BYTES // 20000 + 1)}).encode()
    r = await client.post(URL, content=body, headers={**integration, "Content-Type": "application/json"})
    assert r.status_code == 413, r.text
    assert r.json()["type"].endswith("/payload-too-large")

    async def chunked():  # no Content-Length: the service counts what arrives
        for _ in range(MAX_BODY_BYTES // 65536 + 2):
            yield b" " * 65536

    r = await client.post(URL, content=chunked(), headers={**integration, "Content-Type": "application/json"})
    assert r.status_code == 413, r.text
    assert r.json()["type"].endswith("/payload-too-large")
    # Above the platform's 1 MiB default, within the route's own limit: accepted.
    body = json.dumps({"items": [huge] * 60}).encode()
    assert 1024 * 1024 < len(body) < MAX_BODY_BYTES
    r = await client.post(URL, content=body, headers={**integration, "Content-Type": "application/json"})
    assert r.status_code == 200, r.text
    assert statuses(r.json()) == ["created", *["rejected"] * 59]  # the same person 59 more times
    for wrong in (b"[]", b'{"items": {}}', b'{"items": [], "more": 1}', b"not json"):
        r = await client.post(URL, content=wrong, headers={**integration, "Content-Type": "application/json"})
        assert r.status_code == 422, r.text
        assert r.json()["type"].endswith("/validation-error")
    assert (await send(client, issuer, []))["items"] == []


async def test_an_imported_decision_reaches_the_provider_as_the_same_structured_order(client, issuer):
    """The import builds its orders where decisions do (orders.rules): every decided field."""
    result = await send(client, issuer, [person(0)])
    decision_id = result["items"][0]["decisions"][0]["decision_id"]
    out = (await client.get(f"/v1/decisions/{decision_id}", headers=auth(issuer, Role.integration))).json()
    made, order = (e["data"] for _, e in await outbox(client))
    [decided] = out["services"]
    sent_measures = [
        {
            "code": m.get("code"),
            "description": m["description"],
            "times": m["times"],
            "per": m["per"],
            "minutes": None,
        }
        for m in decided["measures"]
    ]
    assert sent_measures  # the demo decision has measures
    for services in (made["services"], order["services"]):
        [service] = services
        assert service["measures"] == sent_measures
        assert (service["scope_kind"], service["hours_per_month"]) == ("hours_per_month", "20.00")
        assert (service["frame_min_hours"], service["frame_max_hours"]) == (None, None)
    assert {k: order[k] for k in ("basis", "organisation_model", "decision_date", "start_date")} == {
        "basis": "decision",
        "organisation_model": "trust_model",
        "decision_date": DECIDED.isoformat(),
        "start_date": START.isoformat(),
    }
    assert {k: order[k] for k in ("evaluation_date", "purpose", "user_goal", "end_reason")} == {
        "evaluation_date": out["evaluation_date"],
        "purpose": out["purpose"],
        "user_goal": out["user_goal"],
        "end_reason": None,
    }

    # A provider that leaves: an ended order from today, saying why.
    count = len(await outbox(client))
    nursing_to_help = decision("V0", [("practical-help", "20", None)])
    assert statuses(await send(client, issuer, [person(0, nursing_to_help)])) == ["updated"]
    [(_, amended), (_, ended)] = (await outbox(client))[count:]
    assert (ended["data"]["kind"], ended["data"]["end_date"]) == ("ended", TODAY.isoformat())
    assert ended["data"]["end_reason"] == "service_ended"
    assert ended["data"]["decision_version"] == amended["data"]["version"] == 2
