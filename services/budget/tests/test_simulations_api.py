"""Simulation, cliffs, KOSTRA figures and pictures over HTTP, on decided hours that arrived as
events on the real bus, with the Stavanger 2022 default adopted. The decisions started a
month before the suite's day; figures are asked for as of the suite's day and year."""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from hjemflyt.budget.db import platform_tables
from hjemflyt.budget.financing.defaults import STAVANGER_2022
from hjemflyt.budget.hours.models import DecidedHours
from hjemflyt.budget.hours.repository import HoursRepository
from hjemflyt.budget.main import create_app
from hjemflyt.shared.contracts.events import (
    DECISION_MADE,
    PROVIDER_REGISTERED,
    DecidedService,
    DecisionMade,
    ProviderKind,
    ProviderRegistered,
)
from hjemflyt.shared.platform.auth import Role
from hjemflyt.shared.testing import auth, eventually, publish_event, running_service, suite_now, suite_today

UNIT_A, UNIT_B = "812345672", "900000006"
NAMES = {UNIT_A: "Hjemmetjenesten Nord", UNIT_B: "Omsorgspartner Sør AS"}
TODAY = suite_today()
START = TODAY - timedelta(days=30)  # the decisions are in force from
ON = TODAY.isoformat()
YEAR = TODAY.year
BASE, LEVEL_1 = 3_413_328, 28_764_000
LOW, HIGH = 2 * 79_900 * 12, 6 * 79_900 * 12  # the split base band: 2 and 6 funded hours
# person -> (unit, hours of home nursing, district, age band)
PEOPLE = {
    1: (UNIT_A, "5", "frogner", "80+"),
    2: (UNIT_A, "15", "frogner", "67-79"),
    3: (UNIT_B, "25", "sagene", "80+"),
    4: (UNIT_B, "19", "sagene", None),  # an event from before age bands
    5: (UNIT_A, "21", "frogner", "0-66"),
}


def pid(n: int) -> uuid.UUID:
    return uuid.UUID(int=n)


@pytest.fixture
async def client(settings, issuer):
    async with running_service(create_app, settings) as client:
        for org, kind in ((UNIT_A, ProviderKind.municipal), (UNIT_B, ProviderKind.private)):
            data = ProviderRegistered(
                provider_org=org, name=NAMES[org], kind=kind, service_codes=["15"], districts=[], version=1
            )
            await publish_event(settings, PROVIDER_REGISTERED, data, subject=org)
        for n, (org, hours, district, band) in PEOPLE.items():
            made = DecisionMade(
                decision_id=uuid.uuid4(),
                version=1,
                person_id=pid(n),
                district=district,
                decision_date=START - timedelta(days=7),
                start_date=START,
                services=[
                    DecidedService(
                        service_code="15",
                        service_name="home nursing",
                        service_type="home-nursing",
                        hours_per_month=hours,
                        provider_org=org,
                    )
                ],
                made_at=suite_now(),
                age_band=band,
            )
            await publish_event(settings, DECISION_MADE, made, subject=str(made.decision_id))
        manager = auth(issuer, Role.manager)

        async def arrived():
            r = await client.get("/v1/providers/hours", headers=manager)
            assert {(p["provider_org"], p["kind"], p["persons"]) for p in r.json()} == {
                (UNIT_A, "municipal", 3),
                (UNIT_B, "private", 2),
            }

        await eventually(arrived)
        async with client.app.state.ctx.sessionmaker() as s:
            assert (await s.execute(select(platform_tables.dead_letter.c.error))).all() == []
        yield client


async def adopt_default(client, issuer) -> str:
    manager = auth(issuer, Role.manager)
    r = await client.post("/v1/rule-sets/defaults/stavanger-2022", headers=manager)
    assert r.status_code == 201, r.text
    rule_set_id = r.json()["id"]
    r = await client.post(f"/v1/rule-sets/{rule_set_id}/adoption", headers=manager)
    assert r.status_code == 200, r.text
    return rule_set_id


def split_base_band() -> dict[str, Any]:
    body = STAVANGER_2022.model_dump(mode="json")
    body["name"] = "base band split at 10 h"
    for part in body["parts"]:
        part["financing"]["bands"][:1] = [
            {"level": "base-a", "from_hours": "0", "to_hours": "10", "funded_hours": "2"},
            {"level": "base-b", "from_hours": "10", "to_hours": "20", "funded_hours": "6"},
        ]
    return body


def assert_problem(r, status: int, slug: str | None = None) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    if slug:
        assert body["type"].endswith("/" + slug), body
    return body


async def test_a_split_base_band_shows_who_gains_and_who_loses(client, issuer):
    manager = auth(issuer, Role.manager)
    baseline_id = await adopt_default(client, issuer)
    r = await client.post(
        "/v1/simulations", json={"alternative": split_base_band(), "on": ON}, headers=manager
    )
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["baseline"]["rule_set_id"] == baseline_id
    assert out["alternative"] == {
        "rule_set_id": None,
        "name": "base band split at 10 h",
        "valid_from": "2022-01-01",
    }
    assert out["levels_before"] == {"base": 3, "1": 2, "2": 0, "3": 0, "4": 0}
    assert out["levels_after"] == {"base-a": 1, "base-b": 2, "1": 2, "2": 0, "3": 0, "4": 0}
    gain, loss = HIGH - BASE, LOW - BASE
    assert out["totals"] == {
        "persons": 5,
        "before_ore": 3 * BASE + 2 * LEVEL_1,
        "after_ore": LOW + 2 * HIGH + 2 * LEVEL_1,
        "difference_ore": 2 * gain + loss,
        "gainers": 2,
        "losers": 1,
        "unchanged": 2,
        "gained_ore": 2 * gain,
        "lost_ore": loss,
    }
    assert out["units"] == [
        {
            "provider_org": UNIT_A,
            "name": NAMES[UNIT_A],
            "kind": "municipal",
            "persons": 3,
            "before_ore": 2 * BASE + LEVEL_1,
            "after_ore": LOW + HIGH + LEVEL_1,
            "difference_ore": gain + loss,
        },
        {
            "provider_org": UNIT_B,
            "name": NAMES[UNIT_B],
            "kind": "private",
            "persons": 2,
            "before_ore": BASE + LEVEL_1,
            "after_ore": HIGH + LEVEL_1,
            "difference_ore": gain,
        },
    ]
    assert [g["person_id"] for g in out["gains"]] == [str(pid(2)), str(pid(4))]  # equal gains: by id
    [lost] = out["losses"]
    assert lost == {
        "person_id": str(pid(1)),
        "provider_org": UNIT_A,
        "district": "frogner",
        "hours_per_month": "5.00",
        "weighted_hours_before": "5.00",
        "weighted_hours_after": "5.00",
        "level_before": "base",
        "level_after": "base-a",
        "model_before": "levels",
        "model_after": "levels",
        "before_ore": BASE,
        "after_ore": LOW,
        "difference_ore": loss,
    }
    assert out["flagged"] == {}

    # A page of the gainers.
    r = await client.post(
        "/v1/simulations",
        json={"alternative": split_base_band(), "on": ON, "limit": 1, "offset": 1},
        headers=manager,
    )
    assert [g["person_id"] for g in r.json()["gains"]] == [str(pid(4))]
    assert r.json()["losses"] == []

    # The same alternative saved as a version (never adopted) and simulated by id, against the
    # baseline named by id: the same figures; the baseline against itself changes nothing.
    saved = await client.post("/v1/rule-sets", json={"key": "split", **split_base_band()}, headers=manager)
    assert saved.status_code == 201, saved.text
    r = await client.post(
        "/v1/simulations",
        json={"baseline_rule_set_id": baseline_id, "alternative_rule_set_id": saved.json()["id"], "on": ON},
        headers=manager,
    )
    assert r.status_code == 200, r.text
    assert r.json()["totals"] == out["totals"]
    assert r.json()["alternative"]["rule_set_id"] == saved.json()["id"]
    r = await client.post(
        "/v1/simulations", json={"alternative_rule_set_id": baseline_id, "on": ON}, headers=manager
    )
    assert (r.json()["totals"]["difference_ore"], r.json()["totals"]["unchanged"]) == (0, 5)

    # Without a date: as of the service's today, the suite's day.
    r = await client.post("/v1/simulations", json={"alternative": split_base_band()}, headers=manager)
    assert (r.json()["on"], r.json()["totals"]) == (ON, out["totals"])

    # Before the decisions start there is no one to simulate.
    before = (START - timedelta(days=1)).isoformat()
    r = await client.post(
        "/v1/simulations", json={"alternative": split_base_band(), "on": before}, headers=manager
    )
    assert r.json()["totals"]["persons"] == 0


async def test_bad_simulation_requests_are_refused_with_the_reason(client, issuer):
    manager = auth(issuer, Role.manager)
    # Nothing adopted: no baseline.
    r = await client.post(
        "/v1/simulations", json={"alternative": split_base_band(), "on": ON}, headers=manager
    )
    assert_problem(r, 409, "no-rule-set-in-force")
    await adopt_default(client, issuer)

    gap = split_base_band()
    gap["parts"][0]["financing"]["bands"][1]["from_hours"] = "12"
    body = assert_problem(
        await client.post("/v1/simulations", json={"alternative": gap}, headers=manager),
        422,
        "validation-error",
    )
    assert "gap between band base-a and band base-b: 10-12 h" in str(body["errors"])
    for wrong in ({}, {"alternative": split_base_band(), "alternative_rule_set_id": str(uuid.uuid4())}):
        body = assert_problem(await client.post("/v1/simulations", json=wrong, headers=manager), 422)
        assert "exactly one of alternative and alternative_rule_set_id" in str(body["errors"])
    for unknown in (
        {"alternative_rule_set_id": str(uuid.uuid4())},
        {"baseline_rule_set_id": str(uuid.uuid4()), "alternative": split_base_band()},
    ):
        assert_problem(await client.post("/v1/simulations", json=unknown, headers=manager), 404, "not-found")
    r = await client.post(
        "/v1/simulations",
        json={"alternative": split_base_band()},
        headers=auth(issuer, Role.case_officer, districts=["frogner"]),
    )
    assert r.status_code == 403


async def test_cliffs_count_the_persons_near_each_edge_and_the_money_at_stake(client, issuer):
    manager = auth(issuer, Role.manager)
    rule_set_id = await adopt_default(client, issuer)
    r = await client.get("/v1/cliffs", params={"within_hours": "2", "on": ON}, headers=manager)
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["rule_set"]["rule_set_id"] == rule_set_id
    [part] = out["parts"]
    assert (part["applies_to"], part["persons"]) == (["municipal", "private"], 5)
    first = part["edges"][0]
    step = LEVEL_1 - BASE
    assert {k: v for k, v in first.items() if not k.startswith("persons_")} == {
        "from_level": "base",
        "to_level": "1",
        "edge_hours": "20",
        "step_ore": step,
        "below": 1,
        "above": 1,
        "at_stake_below_ore": step,
        "at_stake_above_ore": step,
        "at_stake_ore": 2 * step,
    }
    assert first["persons_below"] == [
        {"person_id": str(pid(4)), "provider_org": UNIT_B, "weighted_hours": "19.00"}
    ]
    assert [p["person_id"] for p in first["persons_above"]] == [str(pid(5))]
    assert all(e["below"] == e["above"] == 0 for e in part["edges"][1:])

    r = await client.get("/v1/cliffs", params={"within_hours": "6", "on": ON, "limit": 0}, headers=manager)
    first = r.json()["parts"][0]["edges"][0]
    assert (first["below"], first["above"], first["persons_below"]) == (2, 2, [])  # 15, 19 | 21, 25

    assert_problem(await client.get("/v1/cliffs", params={"within_hours": "-1"}, headers=manager), 422)
    r = await client.get(
        "/v1/cliffs", params={"within_hours": "2", "rule_set_id": str(uuid.uuid4())}, headers=manager
    )
    assert_problem(r, 404, "not-found")


async def test_kostra_figures_per_function_unit_district_and_age_band(client, issuer):
    manager = auth(issuer, Role.manager)
    await adopt_default(client, issuer)
    async with client.app.state.ctx.sessionmaker() as s:
        bands = dict((await s.execute(select(DecidedHours.person_id, DecidedHours.age_band))).all())
    assert bands == {pid(n): band for n, (_, _, _, band) in PEOPLE.items()}

    r = await client.get("/v1/kostra/functions", headers=manager)
    assert (r.json()["default"], r.json()["functions"]["15"], r.json()["functions"]["6"]) == (
        True,
        "254",
        "234",
    )
    r = await client.get(f"/v1/population/{YEAR}", headers=manager)
    assert_problem(r, 404)

    population = {
        "districts": [
            {"district": "frogner", "inhabitants": {"0-66": 50_000, "67-79": 4_000, "80+": 1_000}},
            {"district": "sagene", "inhabitants": {"0-66": 40_000, "67-79": 3_000, "80+": 2_000}},
        ]
    }
    r = await client.put(f"/v1/population/{YEAR}", json=population, headers=manager)
    assert r.status_code == 200, r.text
    assert (await client.get(f"/v1/population/{YEAR}", headers=manager)).json() == {
        "year": YEAR,
        **population,
    }
    bad = {"districts": [{"district": "frogner", "inhabitants": {"90+": 1}}]}
    assert_problem(await client.put(f"/v1/population/{YEAR}", json=bad, headers=manager), 422)

    r = await client.get("/v1/kostra/figures", params={"year": YEAR, "on": ON}, headers=manager)
    assert r.status_code == 200, r.text
    out = r.json()
    total = 3 * BASE + 2 * LEVEL_1
    assert out["functions"] == [
        {"function": "254", "users": 5, "cost_ore": total, "cost_per_user_ore": round(total / 5)}
    ]
    assert [(u["provider_org"], u["name"], u["users"], u["cost_ore"]) for u in out["units"]] == [
        (UNIT_A, NAMES[UNIT_A], 3, 2 * BASE + LEVEL_1),
        (UNIT_B, NAMES[UNIT_B], 2, BASE + LEVEL_1),
    ]
    city = out["municipality"]
    assert (city["users"], city["inhabitants"], city["cost_per_inhabitant_ore"]) == (
        5,
        100_000,
        round(total / 100_000),
    )
    assert [(b["age_band"], b["users"], b["users_per_1000"]) for b in city["age_bands"]] == [
        ("0-66", 1, "0.01"),
        ("67-79", 1, "0.14"),  # 1 of 7 000
        ("80+", 2, "0.67"),  # 2 of 3 000
        ("unknown", 1, None),
    ]
    sagene = next(d for d in out["districts"] if d["district"] == "sagene")
    assert (sagene["users"], sagene["inhabitants"], sagene["cost_ore"]) == (2, 45_000, BASE + LEVEL_1)

    # The municipality moves home nursing to another function: the figures follow.
    r = await client.put("/v1/kostra/functions", json={"functions": {"15": "253"}}, headers=manager)
    assert r.status_code == 200, r.text
    r = await client.get("/v1/kostra/figures", params={"year": YEAR, "on": ON}, headers=manager)
    assert [f["function"] for f in r.json()["functions"]] == ["253"]
    bad_mapping = {"functions": {"15": "25"}}
    assert_problem(await client.put("/v1/kostra/functions", json=bad_mapping, headers=manager), 422)
    r = await client.put(f"/v1/population/{YEAR}", json=population, headers=auth(issuer, Role.integration))
    assert r.status_code == 403


def svg_text(content: bytes) -> str:
    root = ET.fromstring(content)  # noqa: S314 - our own output
    assert root.tag.endswith("svg")
    return " ".join(t for t in root.itertext())


async def an_allocation(client, rule_set_id: str) -> uuid.UUID:
    """An allocation's rows as the allocations module writes them (its API is another issue's)."""
    from hjemflyt.budget.allocations.models import Allocation, AllocationUnit

    allocation_id, now = uuid.uuid4(), suite_now()
    async with client.app.state.ctx.sessionmaker() as s, s.begin():
        s.add(
            Allocation(
                id=allocation_id,
                year=YEAR,
                budgeting_date=date(YEAR, 1, 1),
                rule_set_id=uuid.UUID(rule_set_id),
                frame_ore=10_000_000_00,
                general_ore=0,
                buffer_ore=0,
                shortfall_ore=0,
                tertial=1,
                version=1,
                created_at=now,
                created_by="test",
                updated_at=now,
            )
        )
        await s.flush()
        for org, amount in ((UNIT_A, 1_234_567_00), (UNIT_B, 765_432_00)):
            s.add(
                AllocationUnit(
                    allocation_id=allocation_id,
                    provider_org=org,
                    kind="municipal",
                    model="levels",
                    persons=1,
                    persons_per_level={},
                    focus_persons=0,
                    need_ore=amount,
                    amount_ore=amount,
                    unfunded_ore=0,
                    notes=[],
                )
            )
    return allocation_id


async def test_pictures_come_as_svg_or_png(client, issuer):
    manager = auth(issuer, Role.manager)
    rule_set_id = await adopt_default(client, issuer)
    for path, params in (
        ("/v1/pictures/levels", {"on": ON}),
        ("/v1/pictures/cliffs", {"on": ON, "within_hours": "3"}),
    ):
        r = await client.get(path, params={**params, "format": "svg"}, headers=manager)
        assert r.status_code == 200, r.text
        assert r.headers["content-type"] == "image/svg+xml"
        text = svg_text(r.content)
        if path.endswith("levels"):
            assert NAMES[UNIT_A] in text
            assert NAMES[UNIT_B] in text
        else:
            assert "base → 1 at 20 h" in text

        r = await client.get(path, params={**params, "format": "png"}, headers=manager)
        assert r.headers["content-type"] == "image/png"
        assert r.content.startswith(b"\x89PNG\r\n\x1a\n")
        r = await client.get(path, params=params, headers={**manager, "Accept": "image/png"})
        assert r.headers["content-type"] == "image/png"
        r = await client.get(path, params=params, headers={**manager, "Accept": "image/*"})
        assert r.headers["content-type"] == "image/svg+xml"

        assert_problem(await client.get(path, params={**params, "format": "gif"}, headers=manager), 422)
        r = await client.get(path, params=params, headers={**manager, "Accept": "application/json"})
        assert_problem(r, 406, "not-acceptable")

    r = await client.get(f"/v1/pictures/allocations/{uuid.uuid4()}", headers=manager)
    assert_problem(r, 404, "not-found")
    allocation_id = await an_allocation(client, rule_set_id)
    r = await client.get(f"/v1/pictures/allocations/{allocation_id}", headers=manager)
    assert r.headers["content-type"] == "image/svg+xml"
    text = svg_text(r.content)
    assert NAMES[UNIT_A] in text
    assert NAMES[UNIT_B] in text
    assert "1 234 567 kr" in text
    r = await client.get(
        f"/v1/pictures/allocations/{allocation_id}", params={"format": "png"}, headers=manager
    )
    assert r.content.startswith(b"\x89PNG\r\n\x1a\n")
    r = await client.get(
        "/v1/pictures/levels", params={"on": ON}, headers=auth(issuer, Role.provider, provider_org=UNIT_B)
    )
    assert r.status_code == 403


async def test_the_population_is_each_person_at_each_unit_in_force_on_the_date(client, settings):
    # A second decision for person 1 at the same unit, from 10 days ago: its hours add to the
    # same code.
    second = TODAY - timedelta(days=10)
    more = DecisionMade(
        decision_id=uuid.uuid4(),
        version=1,
        person_id=pid(1),
        district="frogner",
        decision_date=second - timedelta(days=3),
        start_date=second,
        services=[
            DecidedService(
                service_code="15", service_name="home nursing", hours_per_month="2.5", provider_org=UNIT_A
            ),
            DecidedService(
                service_code="1", service_name="practical help", hours_per_month="3", provider_org=UNIT_A
            ),
        ],
        made_at=suite_now(),
    )
    await publish_event(settings, DECISION_MADE, more, subject=str(more.decision_id))

    async def read(on: date | None):
        async with client.app.state.ctx.sessionmaker() as s:
            return [
                (p.person_id, p.provider_org, p.kind, p.district, p.hours_by_code)
                for p in await HoursRepository(s).population(on)
            ]

    async def arrived():
        assert len((await read(TODAY))[0][4]) == 2

    await eventually(arrived)
    kinds = {UNIT_A: "municipal", UNIT_B: "private"}
    expected = sorted(
        (pid(n), org, kinds[org], district, {"15": Decimal(hours)})
        for n, (org, hours, district, _) in PEOPLE.items()
    )
    expected[0] = (pid(1), UNIT_A, "municipal", "frogner", {"15": Decimal("7.5"), "1": Decimal(3)})
    # Ordered by unit, then person; hours per code summed over the person's decisions.
    assert await read(TODAY) == sorted(expected, key=lambda p: (p[1], str(p[0])))
    assert await read(second) == await read(TODAY)  # in force from its start date
    # Before the second decision starts, only the first counts; before any start, no one.
    assert (await read(second - timedelta(days=1)))[0][4] == {"15": Decimal(5)}
    assert (await read(START))[0][4] == {"15": Decimal(5)}
    assert await read(START - timedelta(days=1)) == []
    assert len(await read(None)) == len(PEOPLE)


async def test_kostra_prices_hourly_units_at_their_contract_price_by_service_type(client, issuer, settings):
    manager = auth(issuer, Role.manager)
    r = await client.post("/v1/rule-sets/defaults/purchaser-provider", headers=manager)
    assert r.status_code == 201, r.text
    assert (await client.post(f"/v1/rule-sets/{r.json()['id']}/adoption", headers=manager)).status_code == 200
    r = await client.get("/v1/kostra/figures", params={"year": YEAR, "on": ON}, headers=manager)
    units = {u["provider_org"]: u for u in r.json()["units"]}
    # The private unit has no agreement prices yet: 0, flagged, not an error.
    assert units[UNIT_B]["cost_ore"] == 0
    assert r.json()["flagged"] == {"unpriced: no price per hour is known for some of the hours": 2}

    data = ProviderRegistered(
        provider_org=UNIT_B,
        name=NAMES[UNIT_B],
        kind=ProviderKind.private,
        service_codes=["15"],
        districts=[],
        version=2,
        service_types=["home-nursing"],
        contract_prices_ore_per_hour={"home-nursing": 60_000},
    )
    await publish_event(settings, PROVIDER_REGISTERED, data, subject=UNIT_B)

    async def priced():
        r = await client.get("/v1/kostra/figures", params={"year": YEAR, "on": ON}, headers=manager)
        units = {u["provider_org"]: u for u in r.json()["units"]}
        # Decided hours * 12 * the price of home nursing (IPLOS 15): (25 + 19) h * 600 kr * 12.
        assert units[UNIT_B]["cost_ore"] == 44 * 60_000 * 12
        assert units[UNIT_A]["cost_ore"] == 2 * BASE + LEVEL_1  # levels for the municipal unit
        assert r.json()["flagged"] == {}

    await eventually(priced)
