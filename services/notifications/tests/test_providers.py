"""The provider registry's framework-agreement fields: service types, contract prices,
contacts and the agreement period; reading one entry, and a provider reading its own.

(The original registry behaviour, PUT compatibility included, is in test_orders.py.)
"""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from identity_corpus import INVALID_ORGANISATION_NUMBERS, make_org_number
from sqlalchemy import func, select, text

from hjemflyt.notifications.db import platform_tables
from hjemflyt.notifications.main import create_app
from hjemflyt.notifications.providers.rules import agreement_problems, normalise_email, normalise_phone
from hjemflyt.shared.contracts.events import PROVIDER_REGISTERED
from hjemflyt.shared.platform.auth import Role
from hjemflyt.shared.testing import auth, eventually, running_service, suite_today

PROVIDER = make_org_number("81234567")
OTHER = make_org_number("90000000")
T = platform_tables
# A framework agreement from the start of the suite's year through three more years.
VALID_FROM = date(suite_today().year, 1, 1)
VALID_TO = date(suite_today().year + 3, 12, 31)


@pytest.fixture
async def client(settings):
    async with running_service(create_app, settings) as client:
        yield client


def body(**changes: object) -> dict:
    return {
        "name": "Omsorgspartner Demo AS",
        "kind": "private",
        "service_codes": ["1", "15"],
        "districts": ["frogner", "gamle-oslo"],
        "service_types": ["home-nursing", "practical-help"],
        "contract_prices": [
            {"service_type": "home-nursing", "ore_per_hour": 71_250},
            {"service_type": "practical-help", "ore_per_hour": 54_900},
        ],
        "contacts": [
            {
                "role": "contract_manager",
                "name": "Kari Kontrakt",
                "phone": "22 33 44 55",
                "email": "kari@Omsorgspartner.EXAMPLE",
            },
            {"role": "on_call", "name": "Vakttelefon", "phone": "+47 915 55 555"},
        ],
        "agreement_valid_from": VALID_FROM.isoformat(),
        "agreement_valid_to": VALID_TO.isoformat(),
        **changes,
    }


async def put(client, issuer, org: str = PROVIDER, **changes: object):
    return await client.put(
        f"/v1/providers/{org}", json=body(**changes), headers=auth(issuer, Role.integration)
    )


def assert_problem(r, status: int, slug: str) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json"), r.headers
    problem = r.json()
    assert problem["type"].endswith("/" + slug), problem
    return problem


async def scalar(client, stmt):
    async with client.app.state.ctx.sessionmaker() as s:
        return await s.scalar(stmt)


async def announcements(client) -> list[dict]:
    async with client.app.state.ctx.sessionmaker() as s:
        rows = await s.scalars(
            select(T.outbox.c.envelope)
            .where(T.outbox.c.type == PROVIDER_REGISTERED.name)
            .order_by(T.outbox.c.seq)
        )
        return [json.loads(e) for e in rows]


# --- pure rules --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("22334455", "+4722334455"),
        ("22 33 44 55", "+4722334455"),
        ("+47 915 55 555", "+4791555555"),
        ("0047 91555555", "+4791555555"),
        ("+46 8 123 456 78", "+46812345678"),
    ],
)
def test_phone_numbers_are_normalised(raw, expected):
    assert normalise_phone(raw) == expected


@pytest.mark.parametrize(
    "raw",
    ["12345678", "2233445", "223344556", "+47 12345678", "+4722", "phone", "", "+0123456789", "22-33-44-5x"],
)
def test_bad_phone_numbers(raw):
    with pytest.raises(ValueError, match="phone"):
        normalise_phone(raw)


@pytest.mark.parametrize(
    "raw",
    [
        "kari",
        "kari@",
        "@example.no",
        "kari@example",
        "kari@@example.no",
        "kari @example.no",
        "kari.@example.no",
        "ka..ri@example.no",
        "kari@-example.no",
        "kari@example.123",
        "kari@exa_mple.no",
        "x" * 65 + "@example.no",
    ],
)
def test_bad_emails(raw):
    with pytest.raises(ValueError, match="e-mail"):
        normalise_email(raw)


def test_agreement_rules():
    ok = {"private": True, "service_types": ["a"], "prices": [("a", 1)], "valid_from": None, "valid_to": None}
    assert agreement_problems(**ok) is None  # type: ignore[arg-type]
    broken = agreement_problems(**{**ok, "prices": [("a", 1), ("a", 2)]})  # type: ignore[arg-type]
    assert broken is not None
    assert broken.slug == "duplicate-contract-price"
    assert broken.service_types == ["a"]
    broken = agreement_problems(**{**ok, "prices": [("a", 1), ("b", 2)]})  # type: ignore[arg-type]
    assert broken is not None
    assert broken.slug == "contract-price-for-unlisted-service-type"
    broken = agreement_problems(**{**ok, "prices": []})  # type: ignore[arg-type]
    assert broken is not None
    assert broken.slug == "missing-contract-price"
    assert agreement_problems(**{**ok, "private": False, "prices": []}) is None  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("valid_from", "valid_to", "broken"),
    [
        (date(2026, 1, 1), date(2026, 1, 1), False),  # one day
        (date(2027, 1, 1), date(2026, 12, 31), True),  # across new year, ends the day before
        (date(2028, 2, 29), date(2029, 2, 28), False),  # from a leap day
        (date(2028, 3, 1), date(2028, 2, 29), True),
        (date(2026, 1, 1), None, False),  # open-ended
        (None, date(2026, 12, 31), False),
    ],
)
def test_the_agreement_period_does_not_end_before_it_starts(valid_from, valid_to, broken):
    problem = agreement_problems(
        private=False, service_types=[], prices=[], valid_from=valid_from, valid_to=valid_to
    )
    assert (problem is not None and problem.slug == "invalid-agreement-period") is broken


# --- the registry over HTTP ------------------------------------------------------------


async def test_the_agreement_is_stored_normalised_and_announced_without_contact_details(client, issuer):
    r = await put(client, issuer)
    assert r.status_code == 201, r.text
    entry = r.json()
    assert entry["version"] == 1
    assert entry["service_types"] == ["home-nursing", "practical-help"]
    assert entry["contract_prices"] == [
        {"service_type": "home-nursing", "ore_per_hour": 71_250},
        {"service_type": "practical-help", "ore_per_hour": 54_900},
    ]
    assert entry["contacts"][0] == {
        "role": "contract_manager",
        "name": "Kari Kontrakt",
        "phone": "+4722334455",
        "email": "kari@omsorgspartner.example",
    }
    assert entry["contacts"][1]["phone"] == "+4791555555"
    assert entry["contacts"][1]["email"] is None
    assert (entry["agreement_valid_from"], entry["agreement_valid_to"]) == (
        VALID_FROM.isoformat(),
        VALID_TO.isoformat(),
    )

    r = await client.get(
        f"/v1/providers/{PROVIDER}", headers=auth(issuer, Role.case_officer, districts=["grorud"])
    )
    assert r.status_code == 200, r.text
    assert r.json() == entry

    # The same agreement in another order is no change; a new price is.
    r = await put(client, issuer, contract_prices=list(reversed(body()["contract_prices"])))
    assert (r.status_code, r.json()["version"]) == (200, 1)
    r = await put(
        client,
        issuer,
        contract_prices=[
            {"service_type": "home-nursing", "ore_per_hour": 73_000},
            {"service_type": "practical-help", "ore_per_hour": 54_900},
        ],
    )
    assert (r.status_code, r.json()["version"]) == (200, 2)

    events = await announcements(client)
    assert [e["data"]["version"] for e in events] == [1, 2]
    data = events[1]["data"]
    assert data["contract_prices_ore_per_hour"] == {"home-nursing": 73_000, "practical-help": 54_900}
    assert data["service_types"] == ["home-nursing", "practical-help"]
    assert data["contact_roles"] == ["contract_manager", "on_call"]
    assert (data["agreement_valid_from"], data["agreement_valid_to"]) == (
        VALID_FROM.isoformat(),
        VALID_TO.isoformat(),
    )
    raw = json.dumps(events)
    for personal in ("Kari", "kari@", "4722334455", "91555555"):
        assert personal not in raw


async def test_a_municipal_unit_needs_no_prices_and_old_clients_send_none(client, issuer):
    r = await put(
        client,
        issuer,
        make_org_number("97476067"),
        name="Hjemmetjenesten Frogner",
        kind="municipal",
        contract_prices=[],
        contacts=[],
    )
    assert r.status_code == 201, r.text
    minimal = {
        "name": "Gammel Klient AS",
        "kind": "private",
        "service_codes": ["15"],
        "districts": ["frogner"],
    }
    r = await client.put(f"/v1/providers/{OTHER}", json=minimal, headers=auth(issuer, Role.integration))
    assert r.status_code == 201, r.text
    assert r.json()["service_types"] == r.json()["contract_prices"] == r.json()["contacts"] == []
    assert r.json()["agreement_valid_from"] is None


@pytest.mark.parametrize(
    ("changes", "status", "slug"),
    [
        ({"service_codes": ["1", "99"]}, 422, "validation-error"),
        ({"service_types": ["Home Nursing"]}, 422, "validation-error"),
        (
            {"contract_prices": [{"service_type": "home-nursing", "ore_per_hour": -100}]},
            422,
            "validation-error",
        ),
        ({"contract_prices": [{"service_type": "home-nursing", "ore_per_hour": 0}]}, 422, "validation-error"),
        (
            {"contract_prices": [{"service_type": "home-nursing", "ore_per_hour": 712.5}]},
            422,
            "validation-error",
        ),
        (
            {"contract_prices": [{"service_type": "home-nursing", "ore_per_hour": "71250"}]},
            422,
            "validation-error",
        ),
        (
            {
                "contract_prices": [
                    {"service_type": "home-nursing", "ore_per_hour": 71_250},
                    {"service_type": "home-nursing", "ore_per_hour": 69_000},
                    {"service_type": "practical-help", "ore_per_hour": 54_900},
                ]
            },
            422,
            "duplicate-contract-price",
        ),
        (
            {
                "contract_prices": [
                    {"service_type": "home-nursing", "ore_per_hour": 71_250},
                    {"service_type": "practical-help", "ore_per_hour": 54_900},
                    {"service_type": "bpa", "ore_per_hour": 60_000},
                ]
            },
            422,
            "contract-price-for-unlisted-service-type",
        ),
        (
            {"contract_prices": [{"service_type": "home-nursing", "ore_per_hour": 71_250}]},
            422,
            "missing-contract-price",
        ),
        (
            {
                "agreement_valid_from": VALID_FROM.isoformat(),
                "agreement_valid_to": (VALID_FROM - timedelta(days=1)).isoformat(),
            },
            422,
            "invalid-agreement-period",
        ),
        ({"agreement_valid_to": f"{VALID_TO:%d.%m.%Y}"}, 422, "validation-error"),
        ({"contacts": [{"role": "boss", "name": "X"}]}, 422, "validation-error"),
        ({"contacts": [{"role": "on_call", "name": "X", "phone": "12345678"}]}, 422, "validation-error"),
        ({"contacts": [{"role": "on_call", "name": "X", "email": "x@localhost"}]}, 422, "validation-error"),
        ({"contacts": [{"role": "on_call", "name": "", "email": "x@example.no"}]}, 422, "validation-error"),
        ({"contacts": [{"role": "on_call", "name": "X", "fnr": "1"}]}, 422, "validation-error"),
    ],
)
async def test_bad_agreements_are_refused_and_nothing_is_stored(client, issuer, changes, status, slug):
    problem = assert_problem(await put(client, issuer, **changes), status, slug)
    if slug == "validation-error":
        assert problem["errors"], problem
    elif slug != "invalid-agreement-period":
        assert problem["service_types"], problem
    assert await scalar(client, text("select count(*) from notifications.provider")) == 0
    assert await scalar(client, select(func.count()).select_from(T.outbox)) == 0


async def test_a_bad_change_leaves_the_entry_as_it_was(client, issuer):
    assert (await put(client, issuer)).status_code == 201
    assert_problem(
        await put(client, issuer, name="Nytt navn", contract_prices=[]), 422, "missing-contract-price"
    )
    r = await client.get(f"/v1/providers/{PROVIDER}", headers=auth(issuer, Role.integration))
    assert (r.json()["name"], r.json()["version"]) == ("Omsorgspartner Demo AS", 1)
    assert len(await announcements(client)) == 1


async def test_invalid_organisation_numbers_are_refused(client, issuer):
    for number, reason in INVALID_ORGANISATION_NUMBERS:
        if not number.strip() or "/" in number or "." in number:
            continue
        problem = assert_problem(await put(client, issuer, number), 422, "invalid-organisation-number")
        assert problem["reason"] == reason
        # Reading one is simply not found.
        r = await client.get(f"/v1/providers/{number}", headers=auth(issuer, Role.integration))
        assert_problem(r, 404, "not-found")


async def test_a_provider_reads_its_own_entry_and_no_one_elses(client, issuer):
    assert (await put(client, issuer)).status_code == 201
    assert (await put(client, issuer, OTHER, name="Annen Omsorg AS")).status_code == 201
    own = auth(issuer, Role.provider, provider_org=PROVIDER)
    r = await client.get(f"/v1/providers/{PROVIDER}", headers=own)
    assert r.status_code == 200, r.text
    assert r.json()["name"] == "Omsorgspartner Demo AS"
    # With spaces it is the same number, still its own.
    assert (await client.get("/v1/providers/812%20345%20672", headers=own)).status_code == 200
    assert_problem(await client.get(f"/v1/providers/{OTHER}", headers=own), 404, "not-found")
    assert_problem(await client.get("/v1/providers/974760673", headers=own), 404, "not-found")
    assert_problem(await client.get("/v1/providers", headers=own), 403, "forbidden")
    # A provider cannot change its own entry either.
    r = await client.put(f"/v1/providers/{PROVIDER}", json=body(name="Selvvalgt"), headers=own)
    assert_problem(r, 403, "forbidden")
    assert_problem(await client.get(f"/v1/providers/{PROVIDER}"), 401, "unauthorized")
    for role in (Role.manager, Role.auditor, Role.service_lead):
        r = await client.get(f"/v1/providers/{OTHER}", headers=auth(issuer, role, districts=["frogner"]))
        assert r.status_code == 200, (role, r.text)

    async def published():
        async with client.app.state.ctx.sessionmaker() as s:
            left = await s.scalar(
                select(func.count()).select_from(T.outbox).where(T.outbox.c.published_at.is_(None))
            )
        assert left == 0

    await eventually(published)
