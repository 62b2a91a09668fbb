"""Driving the system over HTTP as its users would: a case system configures the municipality,
a case officer registers persons and makes decisions, a provider reads its inbox."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any

import httpx

from hjemflyt.shared.demo import decision_body

DISTRICT = "frogner"
PROVIDER_A = "320000009"  # synthetic organisation numbers, as in the system tests
PROVIDER_B = "320001005"
START = date(2026, 12, 1)
JSON = dict[str, Any]


def client(base_url: str, token: str, concurrency: int) -> httpx.AsyncClient:
    """Keeps `concurrency` connections alive, so no request pays for a TCP handshake."""
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    return httpx.AsyncClient(
        base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=60.0, limits=limits
    )


def expect(response: httpx.Response, *statuses: int) -> httpx.Response:
    """The response if its status is one of `statuses`; otherwise an error naming the request."""
    if response.status_code not in statuses:
        raise RuntimeError(
            f"{response.request.method} {response.request.url.path}: "
            f"{response.status_code} {response.text[:300]}"
        )
    return response


async def configure_municipality(integration: httpx.AsyncClient, limit_s: float) -> float:
    """A district and two providers, as in the system tests; returns seconds until assessment
    knows the providers (they reach it as events from notifications)."""
    t0 = time.perf_counter()
    # The Oslo preset: service catalogue, legal basis, co-payment bands and the districts.
    expect(await integration.post("/assessment/v1/config/presets/oslo"), 200)
    expect(
        await integration.put(
            f"/assessment/v1/districts/{DISTRICT}",
            json={"name": "Bydel Frogner", "organisation_model": "trust_model", "case_office": "Forvaltning"},
        ),
        200,
    )
    for org, name, services in (
        (PROVIDER_A, "Omsorgspartner Bench AS", ["1", "15"]),
        (PROVIDER_B, "Hjemmehjelp Bench AS", ["1"]),
    ):
        expect(
            await integration.put(
                f"/notifications/v1/providers/{org}",
                json={"name": name, "kind": "private", "service_codes": services, "districts": [DISTRICT]},
            ),
            200,
            201,
        )
    while time.perf_counter() - t0 < limit_s:
        r = expect(await integration.get("/assessment/v1/providers"), 200)
        if {p["provider_org"] for p in r.json()} >= {PROVIDER_A, PROVIDER_B}:
            return time.perf_counter() - t0
        await asyncio.sleep(0.05)
    raise RuntimeError(f"assessment did not learn of the providers in {limit_s:.0f}s")


def person_registrar(officer: httpx.AsyncClient, numbers: list[str]) -> Callable[[int], Awaitable[str]]:
    async def register(i: int) -> str:
        r = await officer.post(
            "/v1/persons",
            json={
                "identity_number": numbers[i],
                "name": f"Bench Person {i}",
                "address": f"Benchveien {i % 200 + 1}, 0250 Oslo",
                "district": DISTRICT,
            },
        )
        return str(expect(r, 201).json()["id"])

    return register


def decision_maker(
    officer: httpx.AsyncClient, path: str, person_ids: list[str], offset: int
) -> Callable[[int], Awaitable[str]]:
    """One complete decision made at once (make=true): home nursing, 24 hours a month, two
    measures, provider A. Each commits a decision, its service and measures, its versions,
    the decision.made and order.issued outbox rows and access-log rows, and yields one order."""

    async def decide(i: int) -> str:
        body = decision_body(
            person_ids[(offset + i) % len(person_ids)], [("home-nursing", "24", PROVIDER_A)], start=START
        )
        r = await officer.post(path, json=body)
        return str(expect(r, 201).json()["id"])

    return decide


async def read_inbox(provider: httpx.AsyncClient, page_size: int = 200) -> list[JSON]:
    """Every order in the provider's inbox (each order message's `data`), page by page."""
    items: list[JSON] = []
    after = 0
    while True:
        params: dict[str, Any] = {"limit": page_size, "after": after}
        page = expect(await provider.get("/notifications/v1/inbox", params=params), 200).json()
        items += [m["data"] for m in page["items"] if m["kind"].startswith("order.")]
        if not page["items"]:
            return items
        after = page["next_cursor"]
