"""Measures by code from the municipality's measure catalogue, beside free text.

A coded measure is stored and shown with its code, named by the catalogue unless the case
officer writes their own text; in a purchaser-provider district its minutes default to the
code's time norm, and the hours per month follow. An unknown or inactive code, or one of
another service, is refused with the rule named, with everything else that is missing.
Gamle Oslo runs the trust model (hours per month); Frogner is set to purchaser-provider.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import text

from hjemflyt.assessment.decisions import rules
from hjemflyt.assessment.decisions.catalogue import Catalogue, MeasureInfo
from hjemflyt.assessment.decisions.schemas import MeasureIn
from hjemflyt.assessment.main import create_app
from hjemflyt.shared.demo import decision_body
from hjemflyt.shared.identity import synthetic_identity_numbers
from hjemflyt.shared.platform.auth import Role
from hjemflyt.shared.testing import auth, eventually, publish_provider, running_service, suite_today

PROVIDER = "320000009"  # approved for IPLOS services 1 and 15 in frogner and gamle-oslo
NUMBERS = list(synthetic_identity_numbers(10, seed=12))
TODAY = suite_today()
START = TODAY + timedelta(days=7)


def catalogue() -> Catalogue:
    return Catalogue(
        {},
        None,
        [],
        frozenset(),
        {
            "shower": MeasureInfo("shower", "Dusj/helvask", None, 30, True),
            "wound-care": MeasureInfo("wound-care", "Sårstell", "home-nursing", 20, True),
            "phone-check": MeasureInfo("phone-check", "Telefontilsyn", None, 5, False),
        },
    )


MINUTES = rules.ScopeKind.minutes_per_measure


@pytest.mark.parametrize(
    ("given", "kind", "expected"),
    [
        # A code alone: the catalogue's name; its norm only where the scope is minutes per measure.
        ({"code": "shower"}, MINUTES, ("shower", "Dusj/helvask", 30)),
        ({"code": "shower"}, rules.ScopeKind.hours_per_month, ("shower", "Dusj/helvask", None)),
        ({"code": "shower"}, rules.ScopeKind.frame, ("shower", "Dusj/helvask", None)),
        # The case officer's own text and minutes win.
        ({"code": "shower", "description": "Dusj med hårvask", "minutes": 40}, MINUTES,
         ("shower", "Dusj med hårvask", 40)),
        # Free text is as before.
        ({"description": "Handling"}, MINUTES, (None, "Handling", None)),
        # Inactive and unknown codes are kept as given (and refused by the completeness check).
        ({"code": "phone-check"}, MINUTES, ("phone-check", "Telefontilsyn", None)),
        ({"code": "no-such"}, MINUTES, ("no-such", "no-such", None)),
    ],
)  # fmt: skip
def test_a_measure_is_stated_from_its_code_text_and_norm(given, kind, expected):
    out = catalogue().measure(MeasureIn(times=2, per="week", **given), kind)
    assert (out.code, out.description, out.minutes) == expected
    assert (out.times, out.per) == (2, "week")


def test_the_completeness_check_names_unknown_inactive_and_misplaced_codes():
    cat = catalogue()
    facts = rules.DecisionFacts(
        organisation_model="trust_model",
        justification="j",
        purpose="p",
        user_goal="g",
        legal_basis=("hol-3-2-6b",),
        start_date=START,
        end_date=None,
        evaluation_date=START + timedelta(days=30),
        services=(
            rules.ServiceFacts(
                service_type="practical-help",
                outcome=rules.Outcome.granted,
                scope_kind=rules.ScopeKind.hours_per_month,
                hours_per_month=Decimal(4),
                measures=(
                    rules.MeasureFacts("Dusj/helvask", 1, "week", code="shower"),
                    rules.MeasureFacts("Sårstell", 1, "week", code="wound-care"),
                    rules.MeasureFacts("Telefontilsyn", 1, "day", code="phone-check"),
                    rules.MeasureFacts("x", 1, "day", code="no-such"),
                    rules.MeasureFacts("Handling", 1, "week"),
                ),
            ),
        ),
    )
    catalogue_facts = rules.CatalogueFacts(
        service_types={"practical-help": "1", "home-nursing": "15"},
        legal_basis=frozenset({"hol-3-2-6b"}),
        providers={},
        district="gamle-oslo",
        measures=cat.active_measures,
    )
    found = [(v.rule, v.field) for v in rules.check_complete(facts, catalogue_facts)]
    assert found == [
        ("measure-not-for-service", "services[0].measures[1].code"),
        ("unknown-measure-code", "services[0].measures[2].code"),
        ("unknown-measure-code", "services[0].measures[3].code"),
    ]


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


async def register(client, issuer, district: str, n: int) -> str:
    r = await client.post(
        "/v1/persons",
        json={
            "identity_number": NUMBERS[n],
            "name": "Kari Nordmann",
            "address": "Gata 2",
            "district": district,
        },
        headers=auth(issuer, Role.integration),
    )
    assert r.status_code == 201, r.text
    return r.json()["id"]


def body_with(person_id: str, district: str, measures: list[dict[str, Any]], service: str = "home-nursing"):
    purchaser = district == "frogner"
    body = decision_body(
        person_id,
        [(service, "20", PROVIDER)],
        start=START,
        organisation_model="purchaser_provider" if purchaser else "trust_model",
    )
    body["services"][0]["measures"] = measures
    return body


async def stored(client) -> dict[str, int]:
    async with client.app.state.ctx.sessionmaker() as s:
        return {
            table: await s.scalar(text(f"select count(*) from assessment.{table}"))  # noqa: S608 - fixed names
            for table in ("decision", "measure", "decision_version", "outbox")
        }


async def test_a_coded_measure_is_stored_and_shown_beside_free_text(client, issuer):
    integration = auth(issuer, Role.integration)
    person_id = await register(client, issuer, "gamle-oslo", 0)
    measures = [
        {"code": "wound-care", "times": 3, "per": "week"},
        {
            "code": "give-medicines",
            "description": "Faste medisiner morgen og kveld",
            "times": 2,
            "per": "day",
        },
        {"description": "Hjelp med støttestrømper", "times": 1, "per": "day"},
    ]
    r = await client.post(
        "/v1/decisions", json=body_with(person_id, "gamle-oslo", measures), headers=integration
    )
    assert r.status_code == 201, r.text
    out = r.json()
    assert out["status"] == "made"
    expected = [
        {"code": "wound-care", "description": "Sårstell", "times": 3, "per": "week", "minutes": None},
        {
            "code": "give-medicines",
            "description": "Faste medisiner morgen og kveld",
            "times": 2,
            "per": "day",
            "minutes": None,
        },
        {"code": None, "description": "Hjelp med støttestrømper", "times": 1, "per": "day", "minutes": None},
    ]
    assert out["services"][0]["measures"] == expected
    assert out["services"][0]["hours_per_month"] == "20.00"  # the trust model's hours, not the norms
    again = (await client.get(f"/v1/decisions/{out['id']}", headers=integration)).json()
    assert again["services"][0]["measures"] == expected
    async with client.app.state.ctx.sessionmaker() as s:
        codes = (
            (await s.execute(text("select code from assessment.measure order by position"))).scalars().all()
        )
        assert codes == ["wound-care", "give-medicines", None]
        snapshots = (
            await s.execute(
                text(
                    "select snapshot from assessment.decision_version"
                    " where decision_id = :id order by version"
                ),
                {"id": out["id"]},
            )
        ).scalars()
        for snap in snapshots:
            assert snap["services"]["home-nursing"]["measures"] == expected

    # A code added by an amendment shows in the version's changes.
    more = [*measures, {"code": "eye-drops", "times": 1, "per": "day"}]
    r = await client.patch(
        f"/v1/decisions/{out['id']}",
        json={"services": [{**body_with(person_id, "gamle-oslo", more)["services"][0]}]},
        headers={**integration, "If-Match": f'"{out["version"]}"'},
    )
    assert r.status_code == 200, r.text
    assert r.json()["services"][0]["measures"][-1]["code"] == "eye-drops"
    versions = (await client.get(f"/v1/decisions/{out['id']}/versions", headers=integration)).json()
    changed = versions[-1]["changes"]
    assert any("eye-drops" in str(c["to"]) for c in changed), changed


async def test_a_measure_needs_a_code_or_a_description(client, issuer):
    person_id = await register(client, issuer, "gamle-oslo", 1)
    body = body_with(person_id, "gamle-oslo", [{"times": 1, "per": "week"}])
    r = await client.post("/v1/decisions", json=body, headers=auth(issuer, Role.integration))
    problem = assert_problem(r, 422, "validation-error")
    assert "code" in str(problem["errors"])


async def test_unknown_inactive_and_misplaced_codes_are_refused_with_the_rule_named(client, issuer):
    integration = auth(issuer, Role.integration)
    person_id = await register(client, issuer, "gamle-oslo", 2)
    before = await stored(client)

    # One unknown code: refused with that rule as the problem's type.
    body = body_with(person_id, "gamle-oslo", [{"code": "no-such-measure", "times": 1, "per": "week"}])
    problem = assert_problem(
        await client.post("/v1/decisions", json=body, headers=integration), 422, "unknown-measure-code"
    )
    assert problem["missing"] == [
        {
            "rule": "unknown-measure-code",
            "message": "'no-such-measure' is not an active code of the measure catalogue.",
            "field": "services[0].measures[0].code",
        }
    ]

    # A code taken out of use (the cached catalogue reloads), a code of another service and
    # other gaps: all named at once.
    r = await client.put(
        "/v1/config/measure-codes/phone-check",
        json={"name": "Telefontilsyn", "norm_minutes": 5, "active": False},
        headers=integration,
    )
    assert r.status_code == 200, r.text
    body = body_with(
        person_id,
        "gamle-oslo",
        [
            {"code": "phone-check", "times": 1, "per": "day"},
            {"code": "wound-care", "times": 2, "per": "week"},
            {"code": "shower", "times": 2, "per": "week"},
        ],
        service="practical-help",
    )
    body.pop("user_goal")
    problem = assert_problem(
        await client.post("/v1/decisions", json=body, headers=integration), 422, "decision-incomplete"
    )
    assert {(m["rule"], m["field"]) for m in problem["missing"]} == {
        ("unknown-measure-code", "services[0].measures[0].code"),
        ("measure-not-for-service", "services[0].measures[1].code"),
        ("user-goal-missing", "user_goal"),
    }
    assert "home-nursing" in next(
        m["message"] for m in problem["missing"] if m["rule"] == "measure-not-for-service"
    )
    assert await stored(client) == before

    # A draft may hold them; its completeness names them, and making it is refused.
    body["make"] = False
    r = await client.post("/v1/decisions", json=body, headers=integration)
    assert r.status_code == 201, r.text
    draft = r.json()
    assert draft["services"][0]["measures"][0] == {
        "code": "phone-check", "description": "Telefontilsyn", "times": 1, "per": "day", "minutes": None
    }  # fmt: skip
    missing = (await client.get(f"/v1/decisions/{draft['id']}/completeness", headers=integration)).json()
    assert {"unknown-measure-code", "measure-not-for-service"} <= {m["rule"] for m in missing["missing"]}
    assert_problem(
        await client.post(f"/v1/decisions/{draft['id']}/make", headers=integration),
        422,
        "decision-incomplete",
    )


async def test_purchaser_provider_minutes_default_to_the_norm_and_hours_follow(client, issuer):
    integration = auth(issuer, Role.integration)
    person_id = await register(client, issuer, "frogner", 3)
    measures = [
        {"code": "wound-care", "times": 3, "per": "week"},  # norm 20 minutes
        {"code": "give-medicines", "times": 2, "per": "day", "minutes": 5},  # own minutes win
        {"description": "Hjelp med støttestrømper", "times": 1, "per": "day", "minutes": 10},  # free text
    ]
    r = await client.post(
        "/v1/decisions", json=body_with(person_id, "frogner", measures), headers=integration
    )
    assert r.status_code == 201, r.text
    service = r.json()["services"][0]
    assert service["scope_kind"] == "minutes_per_measure"
    assert [(m["code"], m["description"], m["minutes"]) for m in service["measures"]] == [
        ("wound-care", "Sårstell", 20),
        ("give-medicines", "Utdeling av medisiner", 5),
        (None, "Hjelp med støttestrømper", 10),
    ]
    # 20 min x 3/week + 5 min x 2/day + 10 min x 1/day = 260.89 + 304.38 + 304.38 minutes a month.
    assert service["hours_per_month"] == "14.49"

    # Free text without minutes stays refused there.
    other = await register(client, issuer, "frogner", 4)
    body = body_with(
        other,
        "frogner",
        [
            {"code": "shower", "times": 1, "per": "week"},
            {"description": "Hjelp med støttestrømper", "times": 1, "per": "day"},
        ],
    )
    problem = assert_problem(
        await client.post("/v1/decisions", json=body, headers=integration), 422, "minutes-missing"
    )
    assert [m["field"] for m in problem["missing"]] == ["services[0].measures[1]"]

    # A new norm applies to the next decision; the one made keeps its minutes.
    r = await client.put(
        "/v1/config/measure-codes/wound-care",
        json={"name": "Sårstell", "service_type": "home-nursing", "norm_minutes": 30},
        headers=integration,
    )
    assert r.status_code == 200, r.text
    body = body_with(other, "frogner", [{"code": "wound-care", "times": 3, "per": "week"}])
    r = await client.post("/v1/decisions", json=body, headers=integration)
    assert r.status_code == 201, r.text
    service = r.json()["services"][0]
    assert service["measures"][0]["minutes"] == 30
    assert service["hours_per_month"] == "6.52"  # 30 x 3 x 4.348214 / 60
    async with client.app.state.ctx.sessionmaker() as s:
        minutes = (
            (
                await s.execute(
                    text("select minutes from assessment.measure where code = 'wound-care' order by minutes")
                )
            )
            .scalars()
            .all()
        )
        assert minutes == [20, 30]


async def test_the_bulk_import_takes_measure_codes_as_decisions_do(client, issuer):
    body = body_with("", "frogner", [{"code": "wound-care", "times": 3, "per": "week"}])
    decision = {k: v for k, v in body.items() if k not in ("person_id", "make")}
    decision |= {"external_id": "V1", "decision_date": (TODAY - timedelta(days=14)).isoformat()}
    item = {
        "source_system": "gerica",
        "external_id": "P1",
        "identity_number": NUMBERS[5],
        "name": "Kari Nordmann",
        "address": "Eksempelveien 1, 0190 Oslo",
        "district": "frogner",
        "decisions": [decision],
    }
    unknown = [{"code": "no-such-measure", "times": 1, "per": "week", "minutes": 10}]
    services = [{**decision["services"][0], "measures": unknown}]
    bad = {
        **item,
        "external_id": "P2",
        "identity_number": NUMBERS[6],
        "decisions": [{**decision, "external_id": "V2", "services": services}],
    }
    r = await client.post(
        "/v1/imports/persons", json={"items": [item, bad]}, headers=auth(issuer, Role.integration)
    )
    assert r.status_code == 200, r.text
    result = r.json()["items"]
    assert [i["status"] for i in result] == ["created", "rejected"]
    assert result[1]["problem"]["type"].endswith("/unknown-measure-code")
    decision_id = result[0]["decisions"][0]["decision_id"]
    out = (await client.get(f"/v1/decisions/{decision_id}", headers=auth(issuer, Role.integration))).json()
    assert out["services"][0]["measures"] == [
        {"code": "wound-care", "description": "Sårstell", "times": 3, "per": "week", "minutes": 20}
    ]
    assert out["services"][0]["hours_per_month"] == "4.35"
    # Sent again, it is the same decision: unchanged.
    r = await client.post(
        "/v1/imports/persons", json={"items": [item]}, headers=auth(issuer, Role.integration)
    )
    assert [i["status"] for i in r.json()["items"]] == ["unchanged"]
