"""Integers beyond 64 bits are a clear 422 (the platform's bounds, contracts.bounds), not a
500 (issue 14: `/notifications/v1/inbox?after=9223372036854775808`)."""

from __future__ import annotations

import pytest

from hjemflyt.notifications.main import create_app
from hjemflyt.shared.platform.auth import Role
from hjemflyt.shared.testing import auth, running_service

PROVIDER = "320000009"


@pytest.fixture
async def client(settings):
    async with running_service(create_app, settings) as client:
        yield client


async def test_a_position_beyond_64_bits_is_refused_as_out_of_range(client, issuer):
    provider = auth(issuer, Role.provider, provider_org=PROVIDER)
    r = await client.get("/v1/inbox", params={"after": 2**63}, headers=provider)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["type"].endswith("/number-out-of-range")
    r = await client.get("/v1/inbox", params={"after": 2**63 - 1}, headers=provider)
    assert r.status_code == 200, r.text
