"""Rule sets over HTTP: saved as versions, refused with the reason, adopted, in force by date."""

from __future__ import annotations

import pytest

from hjemflyt.budget.financing.defaults import STAVANGER_2022
from hjemflyt.budget.main import create_app
from hjemflyt.shared.platform.auth import Role
from hjemflyt.shared.testing import auth, running_service


@pytest.fixture
async def client(settings):
    async with running_service(create_app, settings) as client:
        yield client


def body(**changes) -> dict:
    return {"key": "levels", **STAVANGER_2022.model_dump(mode="json"), **changes}


async def test_a_default_is_saved_with_its_amounts_and_cliffs_then_adopted(client, issuer):
    manager = auth(issuer, Role.manager)
    r = await client.post("/v1/rule-sets/defaults/stavanger-2022", headers=manager)
    assert r.status_code == 201, r.text
    saved = r.json()
    assert (saved["key"], saved["version"], saved["adopted_at"]) == ("stavanger-2022", 1, None)
    assert saved["annual_ore_per_level"] == {
        "base": 3_413_328,
        "1": 28_764_000,
        "2": 47_940_000,
        "3": 67_116_000,
        "4": 86_292_000,
    }
    assert saved["cliffs"][0] == {
        "from_level": "base",
        "to_level": "1",
        "step_ore": 25_350_672,
        "step_percent": "742.7",
    }

    # Nothing is in force until a version is adopted.
    r = await client.get("/v1/rule-sets/in-force", params={"on": "2022-03-01"}, headers=manager)
    assert r.status_code == 409
    assert r.json()["type"].endswith("/no-rule-set-in-force")
    r = await client.post(f"/v1/rule-sets/{saved['id']}/adoption", headers=manager)
    assert r.status_code == 200, r.text
    assert r.json()["adopted_by"]
    again = await client.post(f"/v1/rule-sets/{saved['id']}/adoption", headers=manager)
    assert again.status_code == 409
    r = await client.get("/v1/rule-sets/in-force", params={"on": "2022-03-01"}, headers=manager)
    assert r.json()["id"] == saved["id"]
    # Before its valid_from it is not in force.
    r = await client.get("/v1/rule-sets/in-force", params={"on": "2021-12-31"}, headers=manager)
    assert r.status_code == 409


async def test_a_new_version_takes_over_from_its_valid_from_and_the_old_one_stays(client, issuer):
    manager = auth(issuer, Role.manager)
    first = (await client.post("/v1/rule-sets", json=body(), headers=manager)).json()
    changed = body(valid_from="2023-01-01", name="Levels 2023")
    changed["parts"][0]["financing"]["rate_ore_per_hour"] = 82_000
    second = (await client.post("/v1/rule-sets", json=changed, headers=manager)).json()
    assert (first["version"], second["version"]) == (1, 2)
    for saved in (first, second):
        assert (
            await client.post(f"/v1/rule-sets/{saved['id']}/adoption", headers=manager)
        ).status_code == 200
    on = {
        d: (await client.get("/v1/rule-sets/in-force", params={"on": d}, headers=manager)).json()["id"]
        for d in ("2022-06-01", "2022-12-31", "2023-01-01", "2023-06-01")
    }
    # The new version is in force from its valid_from, the old one up to the day before.
    assert on == {
        "2022-06-01": first["id"],
        "2022-12-31": first["id"],
        "2023-01-01": second["id"],
        "2023-06-01": second["id"],
    }
    listed = (await client.get("/v1/rule-sets", params={"key": "levels"}, headers=manager)).json()
    assert [(r["version"], r["body"]["name"]) for r in listed] == [
        (1, STAVANGER_2022.name),
        (2, "Levels 2023"),
    ]


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (
            {
                "bands": [
                    {"level": "base", "from_hours": "0", "to_hours": "20", "funded_hours": "3.56"},
                    {"level": "1", "from_hours": "25", "to_hours": None, "funded_hours": "30"},
                ]
            },
            "gap between band base and band 1",
        ),
        (
            {
                "bands": [
                    {"level": "base", "from_hours": "0", "to_hours": "20", "funded_hours": "3.56"},
                    {"level": "1", "from_hours": "10", "to_hours": None, "funded_hours": "30"},
                ]
            },
            "overlaps",
        ),
        ({"rate_ore_per_hour": -5}, "greater than or equal to 0"),
        ({"general_share": "1.26"}, "less than or equal to 1"),
    ],
)
async def test_bad_rule_sets_are_refused_with_the_reason_and_nothing_is_saved(client, issuer, change, reason):
    manager = auth(issuer, Role.manager)
    bad = body()
    bad["parts"][0]["financing"] |= change
    r = await client.post("/v1/rule-sets", json=bad, headers=manager)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert reason in r.text
    assert (await client.get("/v1/rule-sets", headers=manager)).json() == []


async def test_only_managers_write_and_unknown_ids_are_404(client, issuer):
    r = await client.post(
        "/v1/rule-sets/defaults/stavanger-2022",
        headers=auth(issuer, Role.case_officer, districts=["frogner"]),
    )
    assert r.status_code == 403
    manager = auth(issuer, Role.manager)
    assert (await client.post("/v1/rule-sets/defaults/nowhere-1999", headers=manager)).status_code == 404
    assert (
        await client.get("/v1/rule-sets/00000000-0000-0000-0000-000000000000", headers=manager)
    ).status_code == 404
    assert (
        await client.post("/v1/rule-sets/00000000-0000-0000-0000-000000000000/adoption", headers=manager)
    ).status_code == 404
    r = await client.post("/v1/rule-sets", json=body(key="Not A Slug"), headers=manager)
    assert r.status_code == 422
