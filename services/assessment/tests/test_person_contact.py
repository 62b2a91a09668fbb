"""Contact details, next of kin and moves; what month + 40 means is the municipality's setting."""

from __future__ import annotations

from datetime import date

from hjemflyt.assessment.main import create_app
from hjemflyt.shared.identity import IdentityKind, SyntheticSource, synthetic_identity_number
from hjemflyt.shared.platform.auth import Role
from hjemflyt.shared.testing import auth, running_service

NAV_NUMBER = synthetic_identity_number(date(1950, 3, 14), 123, synthetic=SyntheticSource.nav)


async def configure(client, admin) -> None:
    assert (await client.post("/v1/config/presets/oslo", headers=admin)).status_code == 200


async def test_contact_and_next_of_kin_are_kept_and_changed(settings, issuer):
    admin = auth(issuer, Role.integration)
    async with running_service(create_app, settings) as client:
        await configure(client, admin)
        body = {
            "identity_number": NAV_NUMBER,
            "name": "Per Olsen",
            "address": "Demogata 9",
            "district": "frogner",
            "email": "per@example.invalid",
            "next_of_kin": [{"name": "Kari Olsen", "relation": "datter", "phone": "40000000"}],
        }
        r = await client.post("/v1/persons", json=body, headers=admin)
        assert r.status_code == 201, r.text
        person = r.json()
        assert person["next_of_kin"][0]["relation"] == "datter"
        assert person["email"] == "per@example.invalid"

        officer = auth(issuer, Role.case_officer, districts=["frogner"])
        r = await client.patch(
            f"/v1/persons/{person['id']}", json={"address": "Testbakken 1"}, headers=officer
        )
        assert r.status_code == 200, r.text
        assert r.json()["address"] == "Testbakken 1"
        assert r.json()["next_of_kin"] == person["next_of_kin"]
        # A move to a district the officer does not work in is refused, and nothing changes.
        r = await client.patch(f"/v1/persons/{person['id']}", json={"district": "alna"}, headers=officer)
        assert r.status_code == 403
        r = await client.patch(f"/v1/persons/{person['id']}", json={"address": None}, headers=officer)
        assert r.status_code == 422
        assert (await client.get(f"/v1/persons/{person['id']}", headers=officer)).json()[
            "address"
        ] == "Testbakken 1"
        # The integration account may move the person; the officer then no longer sees them.
        r = await client.patch(f"/v1/persons/{person['id']}", json={"district": "alna"}, headers=admin)
        assert r.status_code == 200
        assert (await client.get(f"/v1/persons/{person['id']}", headers=officer)).status_code == 404


async def test_month_plus_40_is_an_h_number_unless_configured_as_nav_synthetic(settings, issuer):
    admin = auth(issuer, Role.integration)
    body = {
        "identity_number": NAV_NUMBER,
        "name": "Per Olsen",
        "address": "Demogata 9",
        "district": "frogner",
    }
    async with running_service(create_app, settings) as client:
        await configure(client, admin)
        r = await client.post("/v1/persons", json=body, headers=admin)
        assert r.json()["identity_kind"] == IdentityKind.h_number
        assert r.json()["synthetic"] is False
    nav = settings.model_copy(update={"identity_month40": "nav_synthetic"})
    async with running_service(create_app, nav) as client:
        r = await client.post("/v1/persons/lookup", json={"identity_number": NAV_NUMBER}, headers=admin)
        assert r.status_code == 200
        body2 = {
            **body,
            "identity_number": synthetic_identity_number(
                date(1951, 4, 2), 222, synthetic=SyntheticSource.nav
            ),
        }
        r = await client.post("/v1/persons", json=body2, headers=admin)
        assert r.status_code == 201, r.text
        assert r.json()["identity_kind"] == IdentityKind.birth_number
        assert r.json()["synthetic"] is True
