"""Municipality configuration: presets, catalogue rules, co-payment bands and calculation."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import text

from hjemflyt.assessment.config.rules import Band, band_for, copayment, kroner
from hjemflyt.assessment.main import create_app
from hjemflyt.shared.platform.auth import Role
from hjemflyt.shared.testing import auth, running_service

BANDS = [
    Band(date(2026, 1, 1), Decimal(0), Decimal(2), 23_500, 23_500),
    Band(date(2026, 1, 1), Decimal(2), Decimal(3), 30_000, 120_000),
    Band(date(2026, 1, 1), Decimal(3), None, 45_000, 350_000),
    Band(date(2025, 1, 1), Decimal(0), None, 10_000, 10_000),
]


def test_free_services_cost_nothing_whatever_the_income():
    result = copayment(
        chargeable=False, hours_per_month=Decimal(40), income_g=Decimal(9), bands=BANDS, on=date(2026, 3, 1)
    )
    assert result.monthly_ore == 0
    assert result.statement_nb == "Tjenesten er gratis."


@pytest.mark.parametrize(
    ("income_g", "hours", "expected"),
    [
        (Decimal("1.99"), Decimal(10), 23_500),  # under 2 G: the low national maximum
        (Decimal(2), Decimal(2), 60_000),  # 2 h at 300 kr, under the cap
        (Decimal("2.5"), Decimal(10), 120_000),  # capped at the band's monthly maximum
        (Decimal(7), Decimal("1.5"), 67_500),
    ],
)
def test_chargeable_services_cost_hours_times_price_capped(income_g, hours, expected):
    result = copayment(
        chargeable=True, hours_per_month=hours, income_g=income_g, bands=BANDS, on=date(2026, 3, 1)
    )
    assert result.monthly_ore == expected
    assert kroner(expected) in result.statement_nb


def test_the_bands_in_force_on_the_date_apply():
    assert band_for(BANDS, Decimal(5), date(2025, 6, 1)) == BANDS[3]
    assert band_for(BANDS, Decimal(5), date(2026, 6, 1)) == BANDS[2]
    assert band_for(BANDS, Decimal(5), date(2024, 6, 1)) is None


def test_amounts_are_written_the_norwegian_way():
    assert kroner(123_450) == "1\u00a0234,50 kr"


async def test_oslo_preset_configures_districts_catalogue_and_bands(settings, issuer):
    admin = auth(issuer, Role.integration)
    async with running_service(create_app, settings) as client:
        r = await client.post("/v1/config/presets/oslo", headers=admin)
        assert r.status_code == 200, r.text
        config = r.json()
        assert config["municipality"]["appeal_weeks"] == 4
        assert config["municipality"]["preset"] == "oslo"
        services = {s["code"]: s for s in config["service_types"]}
        assert services["home-nursing"]["chargeable"] is False
        assert services["practical-help"]["chargeable"] is True
        assert services["home-nursing"]["iplos_code"] == "15"
        assert len(config["case_offices"]) == 15
        districts = (await client.get("/v1/districts", headers=admin)).json()
        assert len(districts) == 15
        # Applying it again changes nothing and doubles nothing.
        again = (await client.post("/v1/config/presets/oslo", headers=admin)).json()
        assert again == config


async def test_a_preset_for_another_municipality_is_refused(settings, issuer):
    async with running_service(create_app, settings) as client:
        r = await client.post("/v1/config/presets/stavanger", headers=auth(issuer, Role.integration))
        assert r.status_code == 409
        assert r.json()["type"].endswith("/preset-for-another-municipality")
        assert (await client.get("/v1/config", headers=auth(issuer, Role.integration))).json()[
            "service_types"
        ] == []


async def test_configuration_rules_refuse_bad_input(settings, issuer):
    admin = auth(issuer, Role.integration)
    async with running_service(create_app, settings) as client:
        r = await client.put(
            "/v1/config/service-types/cleaning",
            json={"name": "Rengjøring", "iplos_code": "1", "kostra_function": "254", "chargeable": True,
                  "legal_basis": ["no-such-law"]},
            headers=admin,
        )  # fmt: skip
        assert r.status_code == 422
        assert r.json()["type"].endswith("/unknown-legal-basis")
        r = await client.put(
            "/v1/config/copayment-bands",
            json=[
                {"valid_from": "2027-01-01", "income_min_g": "0", "income_max_g": "3", "hourly_price_ore": 1,
                 "max_per_month_ore": 1},
                {"valid_from": "2027-01-01", "income_min_g": "2", "hourly_price_ore": 1,
                 "max_per_month_ore": 1},
            ],
            headers=admin,
        )  # fmt: skip
        assert r.status_code == 422
        assert r.json()["type"].endswith("/overlapping-bands")
        r = await client.put(
            "/v1/config/legal-basis/x",
            json={"title": "t", "text": "x"},
            headers=auth(issuer, Role.case_officer),
        )
        assert r.status_code == 403
        assert (await client.get("/v1/config", headers=admin)).json()["copayment_bands"] == []


# The Stavanger activity model's time norms (DOMAIN § 6), the catalogue every municipality
# starts from.
DEFAULT_NORMS = {
    "shower": 30, "morning-care": 25, "evening-care": 15, "feeding": 30, "afternoon-rest": 20,
    "prepare-meal": 10, "toilet-visit": 10, "eye-drops": 10, "supervision-visit": 10, "blood-pressure": 10,
    "dose-dispensing": 20, "give-medicines": 10, "injection": 15, "catheterisation": 15,
    "deliver-multidose": 5, "wound-care": 20, "phone-check": 5,
}  # fmt: skip


def assert_problem(r, status: int, slug: str) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json"), r.headers
    body = r.json()
    assert body["type"].endswith("/" + slug), body
    return body


async def config_token(client):
    async with client.app.state.ctx.sessionmaker() as s:
        return await s.scalar(text("select token from assessment.config_version"))


async def test_the_measure_catalogue_starts_with_the_stavanger_time_norms(settings, issuer):
    async with running_service(create_app, settings) as client:
        r = await client.get("/v1/config/measure-codes", headers=auth(issuer, Role.case_officer))
        assert r.status_code == 200, r.text
        codes = {m["code"]: m for m in r.json()}
        assert {c: m["norm_minutes"] for c, m in codes.items()} == DEFAULT_NORMS
        assert codes["shower"] == {
            "code": "shower", "name": "Dusj/helvask", "service_type": None, "norm_minutes": 30, "active": True
        }  # fmt: skip
        assert codes["wound-care"]["name"] == "Sårstell"
        assert codes["wound-care"]["service_type"] == "home-nursing"
        assert all(m["active"] for m in codes.values())
        # The whole configuration holds it too.
        whole = (await client.get("/v1/config", headers=auth(issuer, Role.integration))).json()
        assert [m["code"] for m in whole["measure_codes"]] == sorted(DEFAULT_NORMS)
        # A service type's codes: its own and those of any service.
        r = await client.get(
            "/v1/config/measure-codes",
            params={"service_type": "practical-help"},
            headers=auth(issuer, Role.case_officer),
        )
        practical = {m["code"] for m in r.json()}
        assert "shower" in practical
        assert "wound-care" not in practical


async def test_measure_codes_are_added_and_changed_by_the_configuration_admin(settings, issuer):
    admin = auth(issuer, Role.integration)
    async with running_service(create_app, settings) as client:
        assert (await client.post("/v1/config/presets/oslo", headers=admin)).status_code == 200
        token = await config_token(client)
        r = await client.post(
            "/v1/config/measure-codes",
            json={
                "code": "cleaning",
                "name": "Rengjøring",
                "service_type": "practical-help",
                "norm_minutes": 60,
            },
            headers=admin,
        )
        assert r.status_code == 201, r.text
        assert r.json() == {
            "code": "cleaning", "name": "Rengjøring", "service_type": "practical-help", "norm_minutes": 60,
            "active": True,
        }  # fmt: skip
        # The configuration version changed with it: cached catalogues reload.
        assert await config_token(client) != token
        token = await config_token(client)

        # A new norm, and a code taken out of use.
        r = await client.put(
            "/v1/config/measure-codes/shower",
            json={"name": "Dusj", "norm_minutes": 35},
            headers=admin,
        )
        assert r.status_code == 200, r.text
        r = await client.put(
            "/v1/config/measure-codes/phone-check",
            json={"name": "Telefontilsyn", "norm_minutes": 5, "active": False},
            headers=admin,
        )
        assert r.status_code == 200, r.text
        assert await config_token(client) != token
        codes = {
            m["code"]: m
            for m in (
                await client.get("/v1/config/measure-codes", headers=auth(issuer, Role.case_officer))
            ).json()
        }
        assert codes["shower"]["norm_minutes"] == 35
        assert codes["shower"]["name"] == "Dusj"
        assert codes["phone-check"]["active"] is False
        assert codes["cleaning"]["norm_minutes"] == 60
        active = (
            await client.get("/v1/config/measure-codes", params={"active": "true"}, headers=admin)
        ).json()
        assert "phone-check" not in {m["code"] for m in active}
        assert len(active) == len(DEFAULT_NORMS)  # one more, one less


async def test_measure_code_changes_refuse_bad_input(settings, issuer):
    admin = auth(issuer, Role.integration)
    async with running_service(create_app, settings) as client:
        assert (await client.post("/v1/config/presets/oslo", headers=admin)).status_code == 200
        before = (await client.get("/v1/config/measure-codes", headers=admin)).json()
        # A code that exists cannot be added again.
        r = await client.post(
            "/v1/config/measure-codes",
            json={"code": "shower", "name": "Dusj", "norm_minutes": 20},
            headers=admin,
        )
        body = assert_problem(r, 409, "measure-code-exists")
        assert "PUT /v1/config/measure-codes/shower" in body["detail"]
        # Norms are minutes per occurrence, 1 to 600.
        for norm in (0, 601, -5):
            r = await client.put(
                "/v1/config/measure-codes/shower", json={"name": "Dusj", "norm_minutes": norm}, headers=admin
            )
            body = assert_problem(r, 422, "validation-error")
            assert "norm_minutes" in json.dumps(body["errors"])
        # The service type must be in the service catalogue.
        r = await client.put(
            "/v1/config/measure-codes/gardening",
            json={"name": "Hagearbeid", "service_type": "gardening", "norm_minutes": 60},
            headers=admin,
        )
        body = assert_problem(r, 422, "unknown-service")
        assert "gardening" in body["detail"]
        r = await client.post(
            "/v1/config/measure-codes",
            json={"code": "gardening", "name": "Hagearbeid", "service_type": "gardening", "norm_minutes": 60},
            headers=admin,
        )
        assert_problem(r, 422, "unknown-service")
        # Codes are short lowercase slugs (they travel on orders and visit reports).
        for bad in ("Dusj", "a" * 41, "dusj_kveld"):
            r = await client.post(
                "/v1/config/measure-codes", json={"code": bad, "name": "x", "norm_minutes": 5}, headers=admin
            )
            assert_problem(r, 422, "validation-error")
        r = await client.put(
            "/v1/config/measure-codes/Dusj", json={"name": "x", "norm_minutes": 5}, headers=admin
        )
        assert_problem(r, 422, "validation-error")
        # Only the configuration admin changes it.
        r = await client.put(
            "/v1/config/measure-codes/shower",
            json={"name": "Dusj", "norm_minutes": 20},
            headers=auth(issuer, Role.case_officer),
        )
        assert_problem(r, 403, "forbidden")
        assert (await client.get("/v1/config/measure-codes", headers=admin)).json() == before
