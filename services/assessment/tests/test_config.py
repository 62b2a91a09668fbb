"""Municipality configuration: presets, catalogue rules, co-payment bands and calculation."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

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
