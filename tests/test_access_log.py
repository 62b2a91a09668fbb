"""Every read of personal data is logged, in every service, and the auditor sees them in one
list per person (issue 14: "Reads are logged where they are made", "One access log per
person").

One case runs through the whole system (person, referral, application, assessment,
decision, provider choice, order, appeal, the provider's reports and an adjustment, a
pathway and a pathway assignment, a GP's message kept as a document, and, the month over,
the provider's issued statement with her visits as lines). Then the test walks every GET route of every
service's OpenAPI as every role: path parameters are filled with ids the walk has seen
(an `id` in the answer of `/v1/x` fills `{x_id}` of `/v1/x/{x_id}`, any `*_id` field fills
a parameter of that name). Each call states its own purpose (`Hjemflyt-Purpose: walk-N`).
An answer that shows the person (their id, name, address or identity number) must have left
a row with that purpose in that service's access log. Which routes return personal data is
decided by the answer itself, not by a list; the only list is of routes the walk could not
call, kept small and reviewed (`NOT_WALKED`).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from hjemflyt.shared.demo import decision_body
from hjemflyt.shared.devstack import DevStack
from hjemflyt.shared.identity import synthetic_identity_numbers
from hjemflyt.shared.platform.auth import Role
from hjemflyt.shared.platform.clock import OSLO
from hjemflyt.shared.testing import eventually
from tests.conftest import fresh_stack
from tests.system import (
    PROVIDER_A,
    Actor,
    advance_days,
    configure_municipality,
    framework_agreement,
    legal_today,
)

pytestmark = pytest.mark.system

SERVICES = ("assessment", "pathway", "budget", "notifications")
NAME = "Ragnhild Loggvik"
ADDRESS = "Revisorveien 14, 0268 Oslo"
SKIP_PREFIXES = ("/_dev", "/healthz", "/readyz", "/metrics", "/openapi", "/docs", "/redoc")
# A GP's *Medisinske opplysninger* (the standard's example), kept as a document on the person.
MEDICAL_INFORMATION = (
    Path(__file__).resolve().parents[1] / "services/assessment/tests/data/Medisinske_opplysninger_v1-6_Ny.xml"
)
EXAMPLE_PATIENT = b"<Id>13116900216</Id>"
EXAMPLE_MSG_ID = b"85e9f800-067a-11e8-b566-0800200c9a66"
PRICE = 65_000  # 650.00 kr per hour of home nursing

# GET routes the walk cannot call with what one case leaves behind, each with its reason.
# Reviewed: none of them may be a way around the access log (`logged where read`). Routes
# that show personal data are all walked: the case leaves something behind for each.
NOT_WALKED: dict[str, str] = {
    # No personal data: the municipality's money, prices and routines.
    "budget /v1/allocations/{allocation_id}": "district budgets, no person",
    "budget /v1/allocations/{allocation_id}/buffer": "district budgets, no person",
    "budget /v1/allocations/{allocation_id}/changes": "district budgets, no person",
    "budget /v1/allocations/{allocation_id}/redistributions": "district budgets, no person",
    "budget /v1/pictures/allocations/{allocation_id}": "district budgets, no person",
    "budget /v1/redistributions/{redistribution_id}": "district budgets, no person",
    "budget /v1/cliffs": "financing rules, no person",
    "budget /v1/pictures/cliffs": "financing rules, no person",
    "budget /v1/rule-sets/{rule_set_id}": "financing rules, no person",
    "budget /v1/settlements/{settlement_id}/disputes/{dispute_id}": "a provider's dispute, no person",
    "notifications /v1/routines/{routine_id}": "district routines, no person",
    "notifications /v1/routines/{routine_id}/acknowledgements/{provider_org}": "district routines, no person",
    "notifications /v1/routines/{routine_id}/versions/{number}/comments": "district routines, no person",
}


@pytest.fixture(scope="module")
def stack() -> Iterator[DevStack]:
    # The message worker reads its inbox every half second here (5 s by default).
    stack = fresh_stack("test_access_log")
    stack.extra_env["HJEMFLYT_PLO_POLL_SECONDS"] = "0.5"
    with stack as running:
        yield running


def deliver_plo(stack: DevStack, number: str) -> None:
    """A GP's message about the person, left in the running assessment's PLO inbox (the
    directory transport, `<data dir>/plo/inbox`) as the message network would leave it."""
    body = MEDICAL_INFORMATION.read_bytes()
    assert EXAMPLE_PATIENT in body
    assert EXAMPLE_MSG_ID in body
    body = body.replace(EXAMPLE_PATIENT, f"<Id>{number}</Id>".encode())
    body = body.replace(EXAMPLE_MSG_ID, str(uuid.uuid4()).encode())
    inbox = stack.data_dir / "plo" / "inbox"
    inbox.mkdir(parents=True, exist_ok=True)
    name = f"{uuid.uuid4()}.xml"
    (inbox / f".{name}.tmp").write_bytes(body)
    (inbox / f".{name}.tmp").rename(inbox / name)  # whole, as a transport would


def _harvest(value: Any, known: dict[str, str], id_param: str | None) -> None:
    """Remember ids: `*_id` fields by name; `id` of what a list route returns as `id_param`."""
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, str | int) and not isinstance(item, bool):
                if key.endswith("_id") or key.endswith("_org"):
                    known.setdefault(key, str(item))
                elif key == "id" and id_param:
                    known.setdefault(id_param, str(item))
            else:
                _harvest(item, known, id_param if key in ("items", "entries") else None)
    elif isinstance(value, list):
        for item in value:
            _harvest(item, known, id_param)


def _bound(value: Any, person_id: str, found: set[str]) -> None:
    """Ids of what belongs to the person: the `id` of every object whose `person_id` is theirs."""
    if isinstance(value, dict):
        if value.get("person_id") == person_id and isinstance(value.get("id"), str):
            found.add(value["id"])
        for item in value.values():
            _bound(item, person_id, found)
    elif isinstance(value, list):
        for item in value:
            _bound(item, person_id, found)


def _empty(value: Any) -> bool:
    if isinstance(value, dict):
        lists = [v for k, v in value.items() if k in ("items", "entries") and isinstance(v, list)]
        return bool(lists) and not any(lists)
    return not value


def _params(path: str) -> list[str]:
    return re.findall(r"\{([^}]+)\}", path)


def _query(operation: dict[str, Any], known: dict[str, str], today: str) -> dict[str, str] | None:
    """Values for the required query parameters, or None when the walk has none."""
    query: dict[str, str] = {}
    for p in operation.get("parameters", []):
        if p.get("in") != "query" or not p.get("required"):
            continue
        name, schema = p["name"], p.get("schema", {})
        if name in known:
            query[name] = known[name]
        elif schema.get("format") == "date" or name.endswith("date") or name in ("on", "date"):
            query[name] = today
        elif name in ("year", "number"):
            query[name] = today[:4]
        elif name in ("from", "to") or name == "month":
            query[name] = today[:7]
        else:
            return None
    return query


async def seed_case(stack) -> dict[str, str]:
    async with (
        Actor(stack, Role.integration) as integration,
        Actor(stack, Role.case_officer, districts=["frogner"], subject="seed-officer") as officer,
    ):
        await configure_municipality(integration)
        # The framework agreement, so the provider's visits become a statement's lines.
        await framework_agreement(integration, PRICE)
        number = next(iter(synthetic_identity_numbers(1, seed=1414)))
        r = await officer.post(
            "/assessment/v1/persons",
            json={"identity_number": number, "name": NAME, "address": ADDRESS, "district": "frogner"},
        )
        assert r.status_code == 201, r.text
        person_id = r.json()["id"]
        # Her GP's medical information arrives through the message network; read at the end.
        deliver_plo(stack, number)
        r = await officer.post(
            "/assessment/v1/referrals",
            json={
                "source": "gp",
                "person_id": person_id,
                "summary": "Trenger hjelp etter sykehusopphold.",
                "requested_services": ["home-nursing"],
                "sender_name": "Fastlege Demo",
            },
        )
        assert r.status_code == 201, r.text
        referral_id = r.json()["id"]
        r = await officer.post(
            "/assessment/v1/applications",
            json={"person_id": person_id, "referral_id": referral_id, "description": "Søknad."},
        )
        assert r.status_code == 201, r.text
        application_id = r.json()["id"]
        variables = (await officer.get("/assessment/v1/iplos/function-variables")).json()["variables"]
        today = await legal_today(officer)
        r = await officer.post(
            "/assessment/v1/assessments",
            json={
                "person_id": person_id,
                "application_id": application_id,
                "visit_date": today.isoformat(),
                "participants": [{"role": "person"}],
                "home_situation": "Bor alene.",
                "what_matters": "Å bo hjemme.",
                "goals": [{"text": "Gå selv", "follow_up_date": (today + timedelta(days=60)).isoformat()}],
                "scores": {v["key"]: 3 for v in variables},
            },
        )
        assert r.status_code == 201, r.text
        assessment_id = r.json()["id"]
        r = await officer.post(f"/assessment/v1/assessments/{assessment_id}/complete")
        assert r.status_code == 200, r.text
        body = decision_body(
            person_id,
            [("home-nursing", "20", None)],
            start=today,
            evaluation_days=0,
            application_id=application_id,
            assessment_id=assessment_id,
        )
        r = await officer.post("/assessment/v1/decisions", json=body)
        assert r.status_code == 201, r.text
        decision_id = r.json()["id"]
        r = await officer.post(f"/assessment/v1/decisions/{decision_id}/send")
        assert r.status_code == 200, r.text
        r = await officer.post(
            f"/assessment/v1/decisions/{decision_id}/provider-choices",
            json={
                "service_type": "home-nursing",
                "informed_date": today.isoformat(),
                "provider_org": PROVIDER_A,
                "chosen_by": "person",
            },
        )
        assert r.status_code == 200, r.text
        r = await officer.post(
            "/assessment/v1/appeals", json={"decision_id": decision_id, "grounds": "For lite hjelp."}
        )
        assert r.status_code == 201, r.text
        appeal_id = r.json()["id"]

        async def everywhere() -> None:
            r = await officer.get("/notifications/v1/orders")
            assert r.status_code == 200
            assert person_id in r.text
            r = await officer.get(f"/pathway/v1/persons/{person_id}/timeline")
            assert r.status_code == 200
            assert len(r.json()["entries"]) >= 4
            r = await integration.get(f"/budget/v1/persons/{person_id}/hours")
            assert r.status_code == 200
            assert r.json()

        await eventually(everywhere, seconds=60, every=0.5)
        order_id = next(
            o["id"]
            for o in (await officer.get("/notifications/v1/orders")).json()["items"]
            if o["person_id"] == person_id
        )
        # The provider's side: reports about her, so their routes have something to show.
        now = datetime.fromisoformat((await officer.get("/assessment/_dev/clock")).json()["now"])
        provider_writes = (
            (f"/notifications/v1/orders/{order_id}/deviations", {
                "severity": "critical", "category": "medication", "description": "Feil dose",
                "occurred_at": (now - timedelta(hours=2)).isoformat(),
            }),
            (f"/notifications/v1/orders/{order_id}/change-of-need", {
                "observation": "Trenger hjelp om kvelden.", "proposed_change": "Kveldsbesøk",
                "proposed_hours_per_month": 30,
            }),
            (f"/notifications/v1/orders/{order_id}/masters-daily-life", {
                "observed_on": (today - timedelta(days=1)).isoformat(), "note": "Dusjer selv",
            }),
            (f"/notifications/v1/orders/{order_id}/clarifications", {
                "question": "Gjelder det helg?", "due_date": (today + timedelta(days=2)).isoformat(),
            }),
        )  # fmt: skip
        async with Actor(stack, Role.provider, provider_org=PROVIDER_A, subject="seed-provider") as provider:
            for url, body in provider_writes:
                r = await provider.post(url, json=body)
                assert r.status_code in (200, 201), f"{url}: {r.text}"
        r = await officer.post(
            "/notifications/v1/urgent-requests",
            json={
                "order_id": order_id,
                "reason": "Legevakt: tilsyn etter fall",
                "urgency": "within_hours",
                "requested_action": "Tilsyn i kveld",
                "respond_within_minutes": 30,
            },
        )
        assert r.status_code == 201, r.text
        # Before her decision's services settle: a pathway, a pathway assignment to the
        # provider, and the provider's adjustment of a measure (trust model).
        r = await officer.post(
            "/pathway/v1/pathways", json={"person_id": person_id, "district": "frogner", "kind": 0}
        )
        assert r.status_code == 201, r.text
        pathway_id = r.json()["id"]
        r = await officer.post(
            "/assessment/v1/assignments",
            json={
                "person_id": person_id,
                "provider_org": PROVIDER_A,
                "services": [
                    {
                        "service_type": "home-nursing",
                        "measures": [{"description": "Tilsyn", "times": 1, "per": "day", "minutes": 15}],
                    }
                ],
                "purpose": "Trygg hjemkomst",
                "start_date": today.isoformat(),
                "end_date": (today + timedelta(days=13)).isoformat(),
            },
        )
        assert r.status_code == 201, r.text
        assignment_id = r.json()["id"]
        async with Actor(stack, Role.provider, provider_org=PROVIDER_A, subject="seed-provider") as provider:
            r = await provider.post(
                f"/notifications/v1/orders/{order_id}/adjustments",
                json={
                    "service_type": "home-nursing",
                    "measure": {"description": "Sårstell"},
                    "to": {"times": 1},
                    "reason": "Såret gror; ett besøk i uka holder.",
                },
            )
            assert r.status_code == 201, r.text
            adjustment_id = r.json()["id"]

            async def document() -> str:
                r = await officer.get(f"/assessment/v1/persons/{person_id}/documents")
                assert r.status_code == 200, r.text
                assert len(r.json()) == 1, "the GP's message is not kept yet"
                return str(r.json()[0]["id"])

            document_id = await eventually(document, seconds=30, every=0.3)

            # The month ends (every service's clock moves on) and the provider reports two
            # visits of the case's day; the contract owner issues the month's statement.
            following = date(today.year + (today.month == 12), today.month % 12 + 1, 1)
            await advance_days(integration, (following - today).days + 1)
            visits = [
                {
                    "visit_id": f"walk-{hour}",
                    "order_id": order_id,
                    "planned_start": datetime.combine(today, time(hour), OSLO).isoformat(),
                    "planned_end": datetime.combine(today, time(hour, 45), OSLO).isoformat(),
                    "actual_start": datetime.combine(today, time(hour), OSLO).isoformat(),
                    "actual_end": datetime.combine(today, time(hour, 45), OSLO).isoformat(),
                    "staff_id": "emp-14",
                    "measures_done": [],
                    "cancelled": False,
                }
                for hour in (8, 20)
            ]
            r = await provider.put("/notifications/v1/visit-batches/walk-1", json={"visits": visits})
            assert r.status_code == 201, r.text
        month = today.isoformat()[:7]
        async with Actor(stack, Role.manager, subject="seed-contract-owner") as manager:

            async def drafted() -> str:
                r = await manager.post(
                    "/budget/v1/settlements", json={"provider_org": PROVIDER_A, "month": month}
                )
                if r.status_code == 409:  # drafted before the visits had arrived
                    r = await manager.post(f"/budget/v1/settlements/{r.json()['settlement_id']}/calculation")
                assert r.status_code in (200, 201), r.text
                assert r.json()["lines"] == 2, r.json()
                return str(r.json()["id"])

            settlement_id = await eventually(drafted, seconds=45, every=0.5)
            r = await manager.post(f"/budget/v1/settlements/{settlement_id}/issue")
            assert r.status_code == 200, r.text
        return {
            "person_id": person_id,
            "identity_number": number,
            "referral_id": referral_id,
            "application_id": application_id,
            "assessment_id": assessment_id,
            "decision_id": decision_id,
            "appeal_id": appeal_id,
            "order_id": order_id,
            "pathway_id": pathway_id,
            "assignment_id": assignment_id,
            "adjustment_id": adjustment_id,
            "document_id": document_id,
            "settlement_id": settlement_id,  # the provider's, not hers: not in `bound`
            "provider_org": PROVIDER_A,
            "district": "frogner",
            "today": today.isoformat(),
        }


async def full_log(auditor: httpx.AsyncClient, service: str, person_id: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    params: dict[str, Any] = {"person_id": person_id, "limit": 500}
    while True:
        r = await auditor.get(f"/{service}/v1/access-log", params=params)
        assert r.status_code == 200, r.text
        page = r.json()
        rows += page["items"]
        if page["next_before_at"] is None:
            return rows
        params |= {"before_at": page["next_before_at"], "before_id": page["next_before_id"]}


async def test_every_route_that_shows_a_person_logs_the_read(stack):
    seeded = await seed_case(stack)
    person_id = seeded["person_id"]
    markers = (person_id, NAME, ADDRESS, seeded["identity_number"])
    roles = {
        "case_officer": Actor(stack, Role.case_officer, districts=["frogner"], subject="walk-officer"),
        "service_lead": Actor(stack, Role.service_lead, districts=["frogner"], subject="walk-lead"),
        "manager": Actor(stack, Role.manager, subject="walk-manager"),
        "integration": Actor(stack, Role.integration, subject="walk-integration"),
        "provider": Actor(stack, Role.provider, provider_org=PROVIDER_A, subject="walk-provider"),
        "auditor": Actor(stack, Role.auditor, subject="walk-auditor"),
        "citizen": Actor(stack, Role.citizen, subject="walk-citizen", person_id=person_id),
    }
    clients = {name: await actor.__aenter__() for name, actor in roles.items()}
    try:
        known = {k: v for k, v in seeded.items() if k not in ("identity_number", "today")}
        known |= {"year": seeded["today"][:4], "number": "1", "holder": "district", "holder_id": "frogner"}
        # What belongs to the person: a non-empty answer about it is personal data too
        # (a decision's versions, a person's hours), though it does not name them.
        bound = {v for k, v in seeded.items() if k.endswith("_id") and k != "settlement_id"}
        routes: list[tuple[str, str, dict[str, Any]]] = []
        for service in SERVICES:
            spec = (await clients["integration"].get(f"/{service}/openapi.json")).json()
            for path, item in spec["paths"].items():
                if "get" in item and not path.startswith(SKIP_PREFIXES):
                    routes.append((service, path, item["get"]))
                    for p in item["get"].get("parameters", []):
                        schema = p.get("schema", {})
                        if "$ref" in schema:
                            schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
                        if p.get("in") == "path" and schema.get("enum"):
                            known.setdefault(p["name"], schema["enum"][0])
        # "/v1/orders" answers ids that fill "{order_id}" of "/v1/orders/{order_id}".
        id_params = {}
        for service, path, _ in routes:
            m = re.fullmatch(r"(.*)/\{([^}]+)\}", path)
            if m:
                id_params[(service, m.group(1))] = m.group(2)

        calls: list[tuple[str, str, str, str, bool]] = []  # service, route, role, purpose, shows
        walked: set[tuple[str, str]] = set()
        progress = True
        while progress:
            progress = False
            for service, path, operation in routes:
                if (service, path) in walked or any(p not in known for p in _params(path)):
                    continue
                query = _query(operation, known, seeded["today"])
                if query is None:
                    continue
                walked.add((service, path))
                progress = True
                url = f"/{service}" + path.format(**{p: known[p] for p in _params(path)})
                for role, client in clients.items():
                    purpose = f"walk-{len(calls)}"
                    r = await client.get(
                        url, params=query, headers={"Hjemflyt-Purpose": purpose, "Accept": "application/json"}
                    )
                    assert r.status_code < 500, f"{role} GET {url}: {r.status_code} {r.text[:300]}"
                    if r.status_code != 200:
                        continue
                    shows = any(marker in r.text for marker in markers)
                    if r.headers.get("content-type", "").startswith("application/json"):
                        body = r.json()
                        _harvest(body, known, id_params.get((service, path)))
                        _bound(body, person_id, bound)
                        shows = shows or (any(b in url for b in bound) and not _empty(body))
                    calls.append((service, path, role, purpose, shows))

        logged: dict[str, set[str]] = {}
        for service in SERVICES:
            rows = await full_log(clients["auditor"], service, person_id)
            logged[service] = {row["purpose"] for row in rows}
        unlogged = [
            f"{role} GET /{service}{path}"
            for service, path, role, purpose, shows in calls
            if shows and purpose not in logged[service]
        ]
        not_walked = sorted(f"{s} {p}" for s, p, _ in routes if (s, p) not in walked)
        assert unlogged == [], "reads of personal data without an access-log row:\n" + "\n".join(unlogged)
        # Exactly the reviewed list: a new route must be walked or reviewed, and a route the
        # case now reaches leaves the list.
        assert not_walked == sorted(NOT_WALKED), f"routes the walk could not call: {not_walked}"
        # The walk did read personal data in every service, and from most routes.
        showing = {(s, p) for s, p, _, _, shows in calls if shows}
        assert {s for s, _ in showing} == set(SERVICES), showing

        # One list per person: the auditor sees every service's reads, the walk's included,
        # and the auditor's own reads of the log.
        auditor = clients["auditor"]
        r = await auditor.get(f"/assessment/v1/persons/{person_id}/access-log", params={"limit": 500})
        assert r.status_code == 200, r.text
        merged = r.json()
        assert merged["unavailable"] == []
        assert {e["service"] for e in merged["items"]} == set(SERVICES)
        assert any(e["actor"] == "walk-auditor" and e["resource"] == "access-log" for e in merged["items"])
        ats = [e["at"] for e in merged["items"]]
        assert ats == sorted(ats, reverse=True)
        # Every service's rows carry the reader's districts and are judged for snooping: the
        # walk read a person with an open case, in the readers' own districts, by her provider.
        walk_rows = [e for e in merged["items"] if e["actor"].startswith("walk-")]
        assert {e["service"] for e in walk_rows} == set(SERVICES)
        assert all(isinstance(e["flags"], list) for e in merged["items"])
        assert [e for e in walk_rows if e["flags"]] == []
        officer_rows = [e for e in walk_rows if e["actor"] == "walk-officer"]
        assert {tuple(e["reader_districts"]) for e in officer_rows} == {("frogner",)}
        r = await auditor.get("/assessment/v1/access-log/review", params={"limit": 500})
        assert r.status_code == 200, r.text
        review = r.json()
        assert review["unavailable"] == []
        assert review["scanned"] >= len(walk_rows)
        assert not [e for e in review["items"] if e["actor"].startswith("walk-")]
        r = await auditor.get(
            f"/assessment/v1/persons/{person_id}/access-log", params={"service": "pathway", "limit": 3}
        )
        page = r.json()
        assert {e["service"] for e in page["items"]} == {"pathway"}
        assert page["next_cursor"]
        r = await auditor.get(
            f"/assessment/v1/persons/{person_id}/access-log",
            params={"service": "pathway", "limit": 3, "cursor": page["next_cursor"]},
        )
        older = r.json()["items"]
        assert older
        assert older[0]["at"] <= page["items"][-1]["at"]
        assert not {e["id"] for e in older} & {e["id"] for e in page["items"]}
        # The lookup by identity number is its own action.
        officer = clients["case_officer"]
        r = await officer.post(
            "/assessment/v1/persons/lookup", json={"identity_number": seeded["identity_number"]}
        )
        assert r.status_code == 200, r.text
        r = await auditor.get(
            f"/assessment/v1/persons/{person_id}/access-log",
            params={"action": "lookup", "service": "assessment"},
        )
        assert [e["actor"] for e in r.json()["items"]] == ["walk-officer"]
        assert seeded["identity_number"] not in r.text

        # The person themselves sees the same list: who looked, when and why, in every service.
        async with Actor(stack, Role.citizen, subject="id-porten-walk", person_id=person_id) as citizen:
            r = await citizen.get(f"/assessment/v1/persons/{person_id}/access-log", params={"limit": 500})
            assert r.status_code == 200, r.text
            mine = r.json()
            assert mine["unavailable"] == []
            assert {e["service"] for e in mine["items"]} == set(SERVICES)
            assert {"walk-officer", "walk-provider", "walk-manager"} <= {e["actor"] for e in mine["items"]}
            assert {e["flags"] for e in mine["items"]} == {None}  # an unreviewed flag is not a finding
            other = await citizen.get(f"/assessment/v1/persons/{seeded['decision_id']}/access-log")
            assert other.status_code == 404
    finally:
        for actor in roles.values():
            await actor.__aexit__(None, None, None)
