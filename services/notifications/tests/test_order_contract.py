"""Contract: what the provider receives is what was decided (issue 12).

Assessment and notifications run side by side in this process on the real bus and one
database (each in its own schema), as in production: a decision is made through
assessment's API, its `order.issued` goes through assessment's outbox and the bus to
notifications, and the provider reads its inbox through notifications' API. The pathway
is announced as the pathway service does (`pathway.opened` on its stream).

For each organisation model a decision with measures is made, and the inbox message's
`data` must equal, field by field, the decision as assessment returns it (and as the
case officer sent it). The lifecycle test produces one message of every order kind
(new, changed, started, paused, resumed, ended) and the assignment test a pathway-1
assignment's `order.new`; both check them against the examples in
docs/provider-integration.md. Run them with HJEMFLYT_UPDATE_DOCS=1 to rewrite those
examples from what they received.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import uuid
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from identity_corpus import VALID_NUMBERS, make_org_number
from sqlalchemy import select

from hjemflyt.assessment.main import create_app as assessment_app
from hjemflyt.notifications.db import platform_tables
from hjemflyt.notifications.main import create_app as notifications_app
from hjemflyt.notifications.pathways.repository import PathwayRepository
from hjemflyt.shared.contracts.orders import ORDER_CHANGED
from hjemflyt.shared.contracts.pathway import PATHWAY_OPENED, PathwayOpened
from hjemflyt.shared.platform.auth import Role
from hjemflyt.shared.testing import auth, eventually, publish_event, running_service, suite_now, suite_today

ORG = make_org_number("81234567")
NUMBERS = [n for n, cls in VALID_NUMBERS if cls.startswith("tenor")]
TODAY = suite_today()
START = TODAY + timedelta(days=7)
DISTRICTS = {
    "frogner": ("Bydel Frogner", "purchaser_provider"),
    "gamle-oslo": ("Bydel Gamle Oslo", "trust_model"),
    "nordstrand": ("Bydel Nordstrand", "professional_freedom"),
}
DOCS = Path(__file__).resolve().parents[3] / "docs" / "provider-integration.md"


def case_office(district: str) -> str:
    return f"Tildelingskontoret, {DISTRICTS[district][0]}, 23 00 00 00"


@dataclass
class System:
    assessment: httpx.AsyncClient
    notifications: httpx.AsyncClient
    integration: dict[str, str]
    provider: dict[str, str]
    settings: Any


async def drain(client: httpx.AsyncClient) -> None:
    relay = client.app.state.relay  # type: ignore[attr-defined]

    async def drained() -> None:
        assert await relay.pending_count() == 0

    await eventually(drained)
    await asyncio.sleep(0.05)


@pytest.fixture
async def system(settings, issuer):
    quiet = settings.model_copy(update={"ack_sweep_seconds": 3600.0})
    integration = auth(issuer, Role.integration)
    async with AsyncExitStack() as stack:
        assessment = await stack.enter_async_context(running_service(assessment_app, quiet))
        notifications = await stack.enter_async_context(running_service(notifications_app, quiet))
        r = await assessment.post("/v1/config/presets/oslo", headers=integration)
        assert r.status_code == 200, r.text
        for code, (name, model) in DISTRICTS.items():
            r = await assessment.put(
                f"/v1/districts/{code}",
                json={"name": name, "organisation_model": model, "case_office": case_office(code)},
                headers=integration,
            )
            assert r.status_code == 200, r.text
        r = await notifications.put(
            f"/v1/providers/{ORG}",
            json={
                "name": "Omsorgspartner Demo AS",
                "kind": "private",
                "service_codes": ["1", "15"],
                "districts": sorted(DISTRICTS),
            },
            headers=integration,
        )
        assert r.status_code in (200, 201), r.text

        async def provider_known() -> None:  # notifications -> bus -> assessment
            r = await assessment.get("/v1/providers", headers=integration)
            assert ORG in [p["provider_org"] for p in r.json()]

        await eventually(provider_known)
        yield System(
            assessment, notifications, integration, auth(issuer, Role.provider, provider_org=ORG), settings
        )
        await drain(assessment)
        await drain(notifications)


async def register_person(system: System, district: str, number: str) -> dict[str, Any]:
    r = await system.assessment.post(
        "/v1/persons",
        json={
            "identity_number": number,
            "name": "Kari Nordmann",
            "address": "Eksempelveien 1, 0150 Oslo",
            "phone": "+4791234567",
            "district": district,
        },
        headers=system.integration,
    )
    assert r.status_code == 201, r.text
    return dict(r.json())


async def open_pathway(
    system: System, person: dict[str, Any], kind: int = 2, days: int = 42
) -> dict[str, Any]:
    """The person enters a pathway, announced as the pathway service does; notifications knows."""
    pathway_id = uuid.uuid4()
    planned_end = TODAY + timedelta(days=days)
    await publish_event(
        system.settings,
        PATHWAY_OPENED,
        PathwayOpened(
            pathway_id=pathway_id,
            person_id=uuid.UUID(person["id"]),
            district=person["district"],
            kind=kind,
            opened_on=TODAY,
            planned_end=planned_end,
            source="referral.received",
            opened_at=suite_now(),
        ),
        subject=str(pathway_id),
    )

    async def known() -> None:
        async with system.notifications.app.state.ctx.sessionmaker() as s:  # type: ignore[attr-defined]
            found = await PathwayRepository(s).current(uuid.UUID(person["id"]))
            assert found is not None
            assert found.pathway_id == pathway_id

    await eventually(known)
    return {
        "pathway_id": str(pathway_id),
        "kind": kind,
        "opened_on": TODAY.isoformat(),
        "planned_end": planned_end.isoformat(),
    }


# Names of the measure catalogue's codes used here (the Stavanger defaults).
CATALOGUE = {"wound-care": "Sårstell", "shower": "Dusj/helvask"}
Sent = tuple[str | None, str | None, int, str, int | None]  # code, description, times, per, minutes


def measure(
    code: str | None, description: str | None, times: int, per: str, minutes: int | None
) -> dict[str, Any]:
    return {
        **({"code": code} if code else {}),
        **({"description": description} if description else {}),
        "times": times,
        "per": per,
        **({"minutes": minutes} if minutes is not None else {}),
    }


def nursing(scope: dict[str, Any], measures: list[Sent]) -> dict[str, Any]:
    return {
        "service_type": "home-nursing",
        "provider_org": ORG,
        **scope,
        "measures": [measure(*m) for m in measures],
    }


REFUSED_HELP = {
    "service_type": "practical-help",
    "outcome": "refused",
    "hours_per_month": "0",
    "refusal_reason": "Du klarer rengjøringen selv med hjelpemidler.",
}

# Per organisation model (DOMAIN § 2): the scope the district writes, and the measures.
CASES = {
    "purchaser_provider": (
        "frogner",
        nursing(
            {"scope_kind": "minutes_per_measure"},
            [("wound-care", None, 3, "week", 20), (None, "Oppfølging av faste medisiner", 1, "day", 10)],
        ),
    ),
    "trust_model": (
        "gamle-oslo",
        nursing(
            {"scope_kind": "frame", "frame_min_hours": "8", "frame_max_hours": "16"},
            [("wound-care", None, 3, "week", None), (None, "Oppfølging av faste medisiner", 1, "day", None)],
        ),
    ),
    "professional_freedom": (
        "nordstrand",
        nursing(
            {"scope_kind": "hours_per_month", "hours_per_month": "12"},
            [("wound-care", None, 3, "week", None), (None, "Oppfølging av faste medisiner", 1, "day", None)],
        ),
    ),
}


def decision_request(person_id: str, services: list[dict[str, Any]], start: date = START) -> dict[str, Any]:
    return {
        "person_id": person_id,
        "make": True,
        "justification": "Du har etter hjemmebesøket behov for sårstell og oppfølging av medisiner "
        "(helse- og omsorgstjenesteloven § 3-2).",
        "purpose": "Tjenesten skal gjøre deg mest mulig selvhjulpen i hverdagen.",
        "user_goal": "Du sa at det er viktig for deg å kunne bo hjemme og gå tur med hunden.",
        "start_date": start.isoformat(),
        "end_date": (start + timedelta(days=180)).isoformat(),
        "evaluation_date": (start + timedelta(days=60)).isoformat(),
        "services": services,
    }


async def make_decision(system: System, body: dict[str, Any]) -> dict[str, Any]:
    r = await system.assessment.post("/v1/decisions", json=body, headers=system.integration)
    assert r.status_code == 201, r.text
    return dict(r.json())


async def inbox(system: System, person_id: str, n: int) -> list[dict[str, Any]]:
    """The provider's messages about the person, once there are `n` of them."""

    async def there() -> list[dict[str, Any]]:
        r = await system.notifications.get("/v1/inbox", params={"limit": 500}, headers=system.provider)
        assert r.status_code == 200, r.text
        found = [m for m in r.json()["items"] if m["person_id"] == person_id]
        assert len(found) >= n, [m["kind"] for m in found]
        return found

    found = await eventually(there)
    assert len(found) == n, [m["kind"] for m in found]
    return found


def expected_order(
    decision: dict[str, Any],
    person: dict[str, Any],
    message: dict[str, Any],
    *,
    kind: str,
    pathway: dict[str, Any] | None,
) -> dict[str, Any]:
    """The order the provider must receive, written out from the decision as assessment
    returns it (not from the code that builds orders)."""
    return {
        "id": message["order_id"],
        "kind": kind,
        "decision_id": decision["id"],
        "decision_version": decision["version"],
        "provider_org": ORG,
        "district": decision["district"],
        "basis": "decision",
        "recipient": {
            "identity_number": person["identity_number"],
            "name": person["name"],
            "address": person["address"],
            "phone": person["phone"],
        },
        "organisation_model": decision["organisation_model"],
        "services": [
            {
                "service_code": s["service_code"],
                "service_name": s["service_name"],
                "hours_per_month": s["hours_per_month"],
                "provider_org": s["provider_org"],
                "service_type": s["service_type"],
                "outcome": s["outcome"],
                "scope_kind": s["scope_kind"],
                "frame_min_hours": s["frame_min_hours"],
                "frame_max_hours": s["frame_max_hours"],
                "measures": [
                    {
                        "code": m.get("code"),
                        "description": m["description"],
                        "times": m["times"],
                        "per": m["per"],
                        "minutes": m["minutes"],
                    }
                    for m in s["measures"]
                ],
            }
            for s in decision["services"]
            if s["provider_org"] == ORG and s["outcome"] != "refused"
        ],
        "decision_date": decision["decision_date"],
        "start_date": decision["start_date"],
        "end_date": decision["end_date"],
        "evaluation_date": decision["evaluation_date"],
        "purpose": decision["purpose"],
        "user_goal": decision["user_goal"],
        "end_reason": decision["end_reason"] if kind == "ended" else None,
        "case_office_contact": case_office(decision["district"]),
        "pathway": pathway,
        "routines": None,
    }


def as_sent(service: dict[str, Any]) -> dict[str, Any]:
    """What the case officer sent for a service, in the order's terms (numbers as numbers)."""
    return {
        "scope_kind": service["scope_kind"],
        "frame": (
            (float(service["frame_min_hours"]), float(service["frame_max_hours"]))
            if "frame_min_hours" in service
            else None
        ),
        "hours": float(service["hours_per_month"]) if "hours_per_month" in service else None,
        "measures": [
            (
                m.get("code"),
                m.get("description") or CATALOGUE[m["code"]],
                m["times"],
                m["per"],
                m.get("minutes"),
            )
            for m in service["measures"]
        ],
    }


def as_received(service: dict[str, Any]) -> dict[str, Any]:
    return {
        "scope_kind": service["scope_kind"],
        "frame": (
            (float(service["frame_min_hours"]), float(service["frame_max_hours"]))
            if service["frame_min_hours"] is not None
            else None
        ),
        "hours": float(service["hours_per_month"]) if service["scope_kind"] == "hours_per_month" else None,
        "measures": [
            (m["code"], m["description"], m["times"], m["per"], m["minutes"]) for m in service["measures"]
        ],
    }


@pytest.mark.parametrize("model", sorted(CASES))
async def test_the_provider_receives_exactly_what_was_decided(system, model):
    district, service = CASES[model]
    person = await register_person(system, district, NUMBERS[0])
    pathway = await open_pathway(system, person) if model != "purchaser_provider" else None
    decision = await make_decision(system, decision_request(person["id"], [service, REFUSED_HELP]))
    assert decision["organisation_model"] == model

    [message] = await inbox(system, person["id"], 1)
    assert message["kind"] == "order.new"
    assert message["data"] == expected_order(decision, person, message, kind="new", pathway=pathway)
    # The order as the provider reads it back says the same.
    r = await system.notifications.get(f"/v1/orders/{message['order_id']}", headers=system.provider)
    assert r.status_code == 200, r.text
    read_back = r.json()
    assert {k: read_back[k] for k in message["data"] if k != "kind"} == {
        k: v for k, v in message["data"].items() if k != "kind"
    }
    # And what the case officer sent is what the provider got, in the district's terms.
    [received] = message["data"]["services"]
    assert as_received(received) == as_sent(service)
    if model == "purchaser_provider":
        assert all(m["minutes"] for m in received["measures"])
        assert message["data"]["pathway"] is None
    else:
        assert all(m["minutes"] is None for m in received["measures"])


async def test_a_new_measure_and_a_wider_frame_reach_the_provider_as_a_field_level_diff(system):
    district, service = CASES["trust_model"]
    person = await register_person(system, district, NUMBERS[1])
    decision = await make_decision(system, decision_request(person["id"], [service]))
    await inbox(system, person["id"], 1)

    wider = {
        **service,
        "frame_max_hours": "20",
        "measures": [
            measure("wound-care", None, 4, "week", None),  # more often
            *service["measures"][1:],
            measure("shower", None, 2, "week", None),  # a new, coded measure
            measure(None, "Hjelp til å ta på støttestrømper", 1, "day", None),  # a new, free-text one
        ],
    }
    r = await system.assessment.patch(
        f"/v1/decisions/{decision['id']}",
        json={"services": [wider]},
        headers={**system.integration, "If-Match": f'"{decision["version"]}"'},
    )
    assert r.status_code == 200, r.text
    amended = r.json()

    new, changed = await inbox(system, person["id"], 2)
    assert changed["kind"] == "order.changed"
    assert changed["order_id"] == new["order_id"]
    assert changed["data"]["changes"] == {
        "services": {
            "added": [],
            "removed": [],
            "changed": [
                {
                    "service_code": "15",
                    "service_type": "home-nursing",
                    # A frame's budgeted hours are its maximum.
                    "hours_per_month": {"from": "16.00", "to": "20.00"},
                    "frame_max_hours": {"from": "16.00", "to": "20.00"},
                    "measures": {
                        "added": [
                            {
                                "code": "shower",
                                "description": "Dusj/helvask",
                                "times": 2,
                                "per": "week",
                                "minutes": None,
                            },
                            {
                                "code": None,
                                "description": "Hjelp til å ta på støttestrømper",
                                "times": 1,
                                "per": "day",
                                "minutes": None,
                            },
                        ],
                        "removed": [],
                        "changed": [
                            {
                                "code": "wound-care",
                                "description": "Sårstell",
                                "from": {"times": 3},
                                "to": {"times": 4},
                            }
                        ],
                    },
                }
            ],
        }
    }
    # The whole order is sent again, as it now is.
    expected = expected_order(amended, person, changed, kind="changed", pathway=None)
    assert {k: v for k, v in changed["data"].items() if k != "changes"} == expected

    # The pseudonymous event names what changed, without values.
    async with system.notifications.app.state.ctx.sessionmaker() as s:
        rows = await s.scalars(
            select(platform_tables.outbox.c.envelope).where(
                platform_tables.outbox.c.type == ORDER_CHANGED.name
            )
        )
        [event] = [json.loads(e)["data"] for e in rows]
    assert event["changed"] == ["frame_max_hours", "hours_per_month", "measures"]


# --- the provider guide's examples ---------------------------------------------------------

# `<!-- example: order.new -->`, or with a variant: `<!-- example: order.new assignment -->`.
EXAMPLE = re.compile(r"(<!-- example: (order\.[a-z]+(?: [a-z]+)?) -->\n```json\n)(.*?)(\n```)", re.S)
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
DAY_RE = re.compile(r"^(\d{4}-\d{2}-\d{2})(T\d{2}:\d{2}:\d{2}(?:\.\d+)?)?(Z|[+-]\d{2}:\d{2})?$")
# The examples are written as if the test ran on this day; times of day are shown as 09:00.
DOCS_TODAY = date(2026, 11, 23)


def normalise(value: Any, ids: dict[str, str]) -> Any:
    """A message as the guide shows it: ids numbered by first appearance, dates moved to
    `DOCS_TODAY`'s frame (so the example is the same whatever day the suite runs), times of
    day at 09:00 UTC (the ack deadline keeps its distance in days)."""
    if isinstance(value, dict):
        return {k: normalise(v, ids) for k, v in value.items()}
    if isinstance(value, list):
        return [normalise(v, ids) for v in value]
    if isinstance(value, str):
        if UUID_RE.match(value):
            return ids.setdefault(value, f"00000000-0000-4000-8000-{len(ids) + 1:012d}")
        found = DAY_RE.match(value)
        if found:
            day = date.fromisoformat(found.group(1)) + (DOCS_TODAY - TODAY)
            return f"{day.isoformat()}T09:00:00Z" if found.group(2) else day.isoformat()
    return value


def docs_examples() -> dict[str, Any]:
    return {kind: json.loads(body) for _, kind, body, _ in EXAMPLE.findall(DOCS.read_text(encoding="utf-8"))}


# The guide shows fields in this order (the database keeps no order); others after, by name.
KEY_ORDER = [
    *("id", "kind", "provider_org", "position", "ordering_key", "sequence", "person_id", "order_id"),
    *("reference_id", "created_at", "ack", "required", "deadline", "status", "data"),
    *("decision_id", "decision_version", "district", "basis", "recipient", "identity_number", "name"),
    *("address", "phone", "organisation_model", "services", "service_type", "service_code"),
    *("service_name", "outcome", "scope_kind", "hours_per_month", "frame_min_hours", "frame_max_hours"),
    *("measures", "code", "description", "times", "per", "minutes", "decision_date", "start_date"),
    *("end_date", "evaluation_date", "purpose", "user_goal", "end_reason", "case_office_contact"),
    *("pathway", "pathway_id", "opened_on", "planned_end", "routines", "version", "published_at"),
    *("changes", "added", "removed", "changed", "from", "to", "pause", "resume", "admission_id"),
    *("started", "activated_at"),
]


def ordered(value: Any) -> Any:
    if isinstance(value, dict):
        rank = {k: i for i, k in enumerate(KEY_ORDER)}
        keys = sorted(value, key=lambda k: (rank.get(k, len(rank)), k))
        return {k: ordered(value[k]) for k in keys}
    if isinstance(value, list):
        return [ordered(v) for v in value]
    return value


def write_examples(examples: dict[str, Any]) -> None:
    """Rewrite the guide's examples named in `examples`; the others stay as they are."""
    text = DOCS.read_text(encoding="utf-8")

    def replace(m: re.Match[str]) -> str:
        if m.group(2) not in examples:
            return m.group(0)
        body = json.dumps(ordered(examples[m.group(2)]), indent=2, ensure_ascii=False)
        return m.group(1) + body + m.group(4)

    DOCS.write_text(EXAMPLE.sub(replace, text), encoding="utf-8")


def check_examples(produced: dict[str, Any]) -> None:
    """The guide shows exactly these messages under these markers (HJEMFLYT_UPDATE_DOCS=1
    rewrites them first)."""
    if os.environ.get("HJEMFLYT_UPDATE_DOCS") == "1":
        write_examples(produced)
    shown = docs_examples()
    assert set(produced) <= set(shown), f"the guide has no example marker for {set(produced) - set(shown)}"
    assert {k: shown[k] for k in produced} == produced, (
        "run with HJEMFLYT_UPDATE_DOCS=1 to rewrite the guide's examples"
    )


# The examples each test shows in the guide; together, every example marker in it.
ASSIGNMENT_EXAMPLE = "order.new assignment"


async def test_every_order_kind_is_as_the_provider_guide_shows_it(system):
    """new -> changed (a measure added, more hours) -> started (the decision sent, and active
    on its start date) -> paused (hospital) -> resumed -> ended, in a professional-freedom
    district; the guide's example of each kind is this message. The decision starts today,
    so the case office may activate it by hand (as the sweep does on the start date)."""
    district, service = CASES["professional_freedom"]
    person = await register_person(system, district, NUMBERS[2])
    pathway = await open_pathway(system, person, kind=2, days=42)
    decision = await make_decision(system, decision_request(person["id"], [service], start=TODAY))
    await inbox(system, person["id"], 1)

    more = {
        **service,
        "hours_per_month": "14",
        "measures": [*service["measures"], measure("shower", None, 2, "week", None)],
    }
    r = await system.assessment.patch(
        f"/v1/decisions/{decision['id']}",
        json={"services": [more]},
        headers={**system.integration, "If-Match": f'"{decision["version"]}"'},
    )
    assert r.status_code == 200, r.text
    await inbox(system, person["id"], 2)

    # The letter is sent, and the decision becomes active on its start date: order.started.
    r = await system.assessment.post(f"/v1/decisions/{decision['id']}/send", headers=system.integration)
    assert r.status_code == 200, r.text
    r = await system.assessment.post(f"/v1/decisions/{decision['id']}/activate", headers=system.integration)
    assert r.status_code == 200, r.text
    active = r.json()
    assert active["status"] == "active"
    await inbox(system, person["id"], 3)

    officer = system.integration
    now = suite_now()
    r = await system.assessment.post(
        f"/v1/persons/{person['id']}/admissions",
        json={
            "admitted_at": (now - timedelta(hours=2)).isoformat(),
            "institution_kind": "hospital",
            "expected_discharge_date": (TODAY + timedelta(days=5)).isoformat(),
        },
        headers=officer,
    )
    assert r.status_code == 201, r.text
    admission = r.json()
    await inbox(system, person["id"], 4)
    r = await system.assessment.post(
        f"/v1/admissions/{admission['id']}/discharge",
        json={"discharged_at": (now - timedelta(hours=1)).isoformat()},
        headers=officer,
    )
    assert r.status_code == 200, r.text
    await inbox(system, person["id"], 5)
    r = await system.assessment.post(
        f"/v1/decisions/{decision['id']}/end",
        json={"end_date": (TODAY + timedelta(days=30)).isoformat(), "reason": "masters_daily_life"},
        headers=system.integration,
    )
    assert r.status_code == 200, r.text
    ended_decision = r.json()
    messages = await inbox(system, person["id"], 6)
    kinds = [m["kind"] for m in messages]
    assert kinds == [
        "order.new",
        "order.changed",
        "order.started",
        "order.paused",
        "order.resumed",
        "order.ended",
    ]

    # Every kind carries the whole order as it stands; the ended one says why it ends.
    ended = messages[-1]
    assert {k: v for k, v in ended["data"].items()} == expected_order(
        ended_decision, person, ended, kind="ended", pathway=pathway
    )
    assert ended["data"]["end_reason"] == "masters_daily_life"
    [added] = messages[1]["data"]["changes"]["services"]["changed"][0]["measures"]["added"]
    assert (added["code"], added["description"]) == ("shower", "Dusj/helvask")
    # order.started: the order as it stands (no acknowledgement asked), and when and in
    # which version the decision became active.
    started = messages[2]
    assert started["ack"] == {"required": False, "deadline": None, "status": None}
    assert {k: v for k, v in started["data"].items() if k != "started"} == {
        **{k: v for k, v in messages[1]["data"].items() if k != "changes"},
        "kind": "started",
    }
    assert started["data"]["started"] == {
        "decision_version": active["version"],
        "start_date": TODAY.isoformat(),
        "activated_at": started["data"]["started"]["activated_at"],
    }
    assert set(messages[3]["data"]) - set(messages[0]["data"]) == {"pause"}
    assert set(messages[4]["data"]) - set(messages[0]["data"]) == {"resume"}

    ids: dict[str, str] = {}
    produced = {m["kind"]: normalise(m, ids) for m in messages}
    check_examples(produced)
    assert set(docs_examples()) == {*produced, ASSIGNMENT_EXAMPLE}


async def test_an_assignment_order_is_as_the_provider_guide_shows_it(system):
    """Pathway 1: the case office sends the provider an assignment before any decision. The
    provider's `order.new` has basis "assignment" and the assignment's id as `decision_id`,
    no decision or evaluation date, and runs at most 14 days; it is the guide's example. A
    decision for the same provider then supersedes it: the assignment's order ends (version
    2, `superseded`) the day before the decision starts, and the decision's order is new."""
    district, service = CASES["professional_freedom"]
    person = await register_person(system, district, NUMBERS[3])
    pathway = await open_pathway(system, person, kind=1, days=14)
    r = await system.assessment.post(
        "/v1/assignments",
        json={
            "person_id": person["id"],
            "provider_org": ORG,
            "pathway_id": pathway["pathway_id"],
            "services": [
                {
                    "service_type": "home-nursing",
                    "measures": [
                        measure("wound-care", None, 3, "week", 20),
                        measure(None, "Oppfølging av faste medisiner", 1, "day", 10),
                    ],
                }
            ],
            "purpose": "Trygg hjemkomst etter sykehusopphold.",
            "user_goal": "Jeg vil klare sårstellet selv.",
            "start_date": TODAY.isoformat(),
            "end_date": (TODAY + timedelta(days=13)).isoformat(),
        },
        headers=system.integration,
    )
    assert r.status_code == 201, r.text
    assignment = r.json()
    [new] = await inbox(system, person["id"], 1)
    assert new["kind"] == "order.new"
    assert new["ack"]["required"] is True
    order = new["data"]
    assert (order["basis"], order["decision_id"], order["decision_version"]) == (
        "assignment",
        assignment["id"],
        1,
    )
    assert (order["decision_date"], order["evaluation_date"], order["end_reason"]) == (None, None, None)
    assert (order["start_date"], order["end_date"]) == (
        TODAY.isoformat(),
        (TODAY + timedelta(days=13)).isoformat(),
    )
    assert order["organisation_model"] == "professional_freedom"
    assert order["pathway"] == pathway
    [received] = order["services"]
    assert (received["outcome"], received["scope_kind"]) == ("granted", "hours_per_month")
    assert [(m["code"], m["description"], m["minutes"]) for m in received["measures"]] == [
        ("wound-care", "Sårstell", 20),
        (None, "Oppfølging av faste medisiner", 10),
    ]
    # The hours per month are what the measures' minutes add up to.
    [assigned] = assignment["services"]
    assert received["hours_per_month"] == f"{float(assigned['hours_per_month']):.2f}"

    check_examples({ASSIGNMENT_EXAMPLE: normalise(new, {})})

    # A decision for the same provider supersedes the assignment.
    decision = await make_decision(system, decision_request(person["id"], [service]))
    messages = await inbox(system, person["id"], 3)
    by_order = {(m["order_id"], m["kind"]): m for m in messages[1:]}
    ended = by_order[(new["order_id"], "order.ended")]["data"]
    assert (ended["basis"], ended["decision_id"], ended["decision_version"]) == (
        "assignment",
        assignment["id"],
        2,
    )
    assert (ended["end_reason"], ended["end_date"]) == (
        "superseded",
        (START - timedelta(days=1)).isoformat(),
    )
    [(order_id, kind)] = [key for key in by_order if key[0] != new["order_id"]]
    assert kind == "order.new"
    assert by_order[(order_id, kind)]["data"]["basis"] == "decision"
    assert by_order[(order_id, kind)]["data"]["decision_id"] == decision["id"]
