"""Helpers for whole-system tests: drive the system over the gateway as its users would."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta
from typing import Any

import httpx
import uvicorn
from hjemflyt_provider import WebhookReceiver

from hjemflyt.shared.devstack import DevStack
from hjemflyt.shared.platform.auth import Role
from hjemflyt.shared.platform.clock import OSLO
from hjemflyt.shared.platform.embedded import free_port
from hjemflyt.shared.testing import eventually

PROVIDER_A = "320000009"  # synthetic: organisation numbers starting with 3 are not issued
PROVIDER_B = "320001005"


class Actor:
    """One user of the system with its own token, talking to the gateway."""

    def __init__(self, stack: DevStack, role: Role, **claims: Any) -> None:
        token = stack.issuer.token(role=role, **claims)
        self.client = httpx.AsyncClient(
            base_url=stack.base_url, headers={"Authorization": f"Bearer {token}"}, timeout=30.0
        )

    async def __aenter__(self) -> httpx.AsyncClient:
        return self.client

    async def __aexit__(self, *exc: object) -> None:
        await self.client.aclose()


async def legal_today(client: httpx.AsyncClient) -> date:
    """Today's date in Norway on the system's (movable) clock: the date the services use for
    legal dates. Not the UTC date, which is yesterday's between midnight and 01:00/02:00."""
    now = datetime.fromisoformat((await client.get("/assessment/_dev/clock")).json()["now"])
    return now.astimezone(OSLO).date()


async def advance_days(client: httpx.AsyncClient, days: int) -> None:
    """Move every service's clock `days` calendar days on, to the same hour in Oslo. Not
    days x 24 hours: across a daylight-saving switch that lands an hour off, and from 00:20
    on the last Sunday of October on the same date."""
    now = datetime.fromisoformat((await client.get("/assessment/_dev/clock")).json()["now"])
    local = now.astimezone(OSLO)
    target = datetime.combine(local.date() + timedelta(days=days), local.time(), OSLO)
    r = await client.post("/_dev/clock", json={"advance_seconds": (target - now).total_seconds()})
    assert r.status_code == 200, r.text


async def configure_municipality(integration: httpx.AsyncClient) -> None:
    """The Oslo preset (catalogue, legal basis, districts), two providers, and wait until case
    handling knows the providers."""
    r = await integration.post("/assessment/v1/config/presets/oslo")
    assert r.status_code == 200, r.text
    r = await integration.put(
        "/assessment/v1/districts/frogner",
        json={
            "name": "Bydel Frogner",
            "organisation_model": "trust_model",
            "case_office": "Forvaltning Frogner",
        },
    )
    assert r.status_code == 200, r.text
    providers = (
        (PROVIDER_A, "Omsorgspartner Demo AS", ["1", "15"]),
        (PROVIDER_B, "Hjemmehjelp Eksempel AS", ["1"]),
    )
    for org, name, services in providers:
        r = await integration.put(
            f"/notifications/v1/providers/{org}",
            json={"name": name, "kind": "private", "service_codes": services, "districts": ["frogner"]},
        )
        assert r.status_code in (200, 201), r.text

    async def known() -> None:
        r = await integration.get("/assessment/v1/providers")
        assert {p["provider_org"] for p in r.json()} >= {PROVIDER_A, PROVIDER_B}

    await eventually(known, seconds=30)


async def framework_agreement(integration: httpx.AsyncClient, ore_per_hour: int) -> None:
    """Provider A's framework agreement in frogner: home nursing at `ore_per_hour`, so its
    reported visits become the lines of a settlement statement."""
    r = await integration.put(
        f"/notifications/v1/providers/{PROVIDER_A}",
        json={
            "name": "Omsorgspartner Demo AS",
            "kind": "private",
            "service_codes": ["1", "15"],
            "districts": ["frogner"],
            "service_types": ["home-nursing"],
            "contract_prices": [{"service_type": "home-nursing", "ore_per_hour": ore_per_hour}],
            "agreement_valid_from": "2020-01-01",
        },
    )
    assert r.status_code == 200, r.text


async def all_orders(provider: httpx.AsyncClient) -> list[dict[str, Any]]:
    """The orders in the provider's inbox: each order message's `data` (new, changed, ...)."""
    items: list[dict[str, Any]] = []
    after = 0
    while True:
        r = await provider.get("/notifications/v1/inbox", params={"limit": 200, "after": after})
        assert r.status_code == 200, r.text
        page = r.json()
        items += [m["data"] for m in page["items"] if m["kind"].startswith("order.")]
        if not page["items"]:
            return items
        after = page["next_cursor"]


@contextlib.asynccontextmanager
async def webhook_receiver() -> AsyncIterator[tuple[WebhookReceiver, str]]:
    """The provider's webhook endpoint: the reference receiver served by uvicorn on a free port."""
    handled: list[dict[str, Any]] = []

    async def handle(message: dict[str, Any]) -> None:
        handled.append(message)

    receiver = WebhookReceiver([], handle)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(receiver, host="127.0.0.1", port=port, log_level="warning"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.05)
    try:
        yield receiver, f"http://127.0.0.1:{port}/hjemflyt"
    finally:
        server.should_exit = True
        await task


async def credentials(integration: httpx.AsyncClient, org: str) -> tuple[str, str]:
    r = await integration.post(f"/notifications/v1/providers/{org}/credentials", json={})
    assert r.status_code == 201, r.text
    return r.json()["client_id"], r.json()["client_secret"]


def received(receiver: WebhookReceiver, person_id: str) -> list[dict[str, Any]]:
    return [
        d.message for d in receiver.deliveries if not d.duplicate and d.message.get("person_id") == person_id
    ]


async def next_message(
    receiver: WebhookReceiver, person_id: str, kind: str, count: int = 1
) -> dict[str, Any]:
    async def arrived() -> dict[str, Any]:
        matching = [m for m in received(receiver, person_id) if m["kind"] == kind]
        assert len(matching) >= count, f"no {kind} yet: {[m['kind'] for m in received(receiver, person_id)]}"
        return matching[count - 1]

    return await eventually(arrived, seconds=45, every=0.2)
