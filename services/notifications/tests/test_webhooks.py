"""Webhook endpoints: who may set them, the URLs we refuse (a hostile caller must not make us
POST into the internal network), secrets shown once, rotation and removal."""

from __future__ import annotations

import re
import uuid

import pytest
from identity_corpus import make_org_number
from sqlalchemy import text

from hjemflyt.notifications.main import create_app
from hjemflyt.notifications.webhooks import rules
from hjemflyt.shared.platform.auth import Role
from hjemflyt.shared.testing import auth, running_service

PROVIDER = make_org_number("81234567")
OTHER = make_org_number("90000000")
UNREGISTERED = make_org_number("92000000")
SECRET = re.compile(r"^whsec_[A-Za-z0-9_-]{43}$")
URL = "http://127.0.0.1:9/hooks"


@pytest.fixture
async def client(settings):
    async with running_service(
        create_app, settings.model_copy(update={"webhook_delivery_enabled": False})
    ) as c:
        yield c


@pytest.fixture
async def production_like(settings):
    """What production enforces, without the rest of production's settings."""
    changes = {
        "webhook_delivery_enabled": False,
        "webhook_allow_private_addresses": False,
        "webhook_require_https": True,
    }
    async with running_service(create_app, settings.model_copy(update=changes)) as c:
        yield c


def provider(issuer, org: str = PROVIDER):
    return auth(issuer, Role.provider, provider_org=org)


async def register(client, issuer, org: str = PROVIDER) -> None:
    r = await client.put(
        f"/v1/providers/{org}",
        json={"name": "Omsorg AS", "kind": "private", "service_codes": ["15"], "districts": ["frogner"]},
        headers=auth(issuer, Role.integration),
    )
    assert r.status_code == 201, r.text


def assert_problem(r, status: int, slug: str) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["type"].endswith("/" + slug), r.json()
    return r.json()


async def endpoints(client) -> int:
    async with client.app.state.ctx.sessionmaker() as s:
        return int(await s.scalar(text("select count(*) from notifications.webhook_endpoint")) or 0)


async def test_secrets_are_shown_once_and_the_url_can_change(client, issuer):
    await register(client, issuer)
    path = f"/v1/providers/{PROVIDER}/webhook"
    r = await client.put(path, json={"url": URL}, headers=provider(issuer))
    assert r.status_code == 201, r.text
    first = r.json()["secret"]
    assert SECRET.match(first)
    # The integration account may manage it too; a changed URL keeps the secret (not shown).
    r = await client.put(path, json={"url": URL + "/v2"}, headers=auth(issuer, Role.integration))
    assert r.status_code == 200, r.text
    assert r.json()["secret"] is None
    assert r.json()["url"] == URL + "/v2"
    r = await client.get(path, headers=provider(issuer))
    assert r.json()["url"] == URL + "/v2"
    assert "secret" not in r.json()
    async with client.app.state.ctx.sessionmaker() as s:
        stored = await s.scalar(text("select secret from notifications.webhook_endpoint"))
    assert client.app.state.ctx.cipher.decrypt(stored) == first

    # Removed, then set again: a new secret.
    assert (await client.delete(path, headers=provider(issuer))).status_code == 204
    assert_problem(await client.get(path, headers=provider(issuer)), 404, "not-found")
    assert_problem(await client.post(path + "/rotate", headers=provider(issuer)), 404, "not-found")
    r = await client.put(path, json={"url": URL}, headers=provider(issuer))
    assert r.status_code == 201
    assert SECRET.match(r.json()["secret"])
    assert r.json()["secret"] != first


async def test_who_may_manage_a_webhook(client, issuer):
    await register(client, issuer)
    await register(client, issuer, OTHER)
    path = f"/v1/providers/{PROVIDER}/webhook"
    for headers in (auth(issuer, Role.case_officer, districts=["frogner"]), auth(issuer, Role.manager)):
        assert_problem(await client.put(path, json={"url": URL}, headers=headers), 403, "forbidden")
    # Another provider: as if the provider did not exist.
    assert_problem(
        await client.put(path, json={"url": URL}, headers=provider(issuer, OTHER)), 404, "not-found"
    )
    assert_problem(await client.put(path, json={"url": URL}), 401, "unauthorized")
    # A provider token without orders:write.
    limited = auth(issuer, Role.provider, provider_org=PROVIDER, scopes=["orders:read"])
    assert_problem(await client.put(path, json={"url": URL}, headers=limited), 403, "forbidden")
    # Unknown and invalid organisation numbers.
    r = await client.put(
        f"/v1/providers/{UNREGISTERED}/webhook", json={"url": URL}, headers=auth(issuer, Role.integration)
    )
    assert_problem(r, 404, "not-found")
    r = await client.put(
        "/v1/providers/123456789/webhook", json={"url": URL}, headers=auth(issuer, Role.integration)
    )
    assert_problem(r, 422, "invalid-organisation-number")
    assert await endpoints(client) == 0


async def test_bad_urls_and_payloads_are_refused(client, issuer):
    await register(client, issuer)
    path = f"/v1/providers/{PROVIDER}/webhook"
    for url in (
        "ftp://example.com/hook",
        "file:///etc/passwd",
        "javascript:alert(1)",
        "not a url",
        "http://",
        "https://user:pw@example.com/hook",
        "http://example.com:99999/hook",
        "https://example.com/hook#frag",
    ):
        r = await client.put(path, json={"url": url}, headers=provider(issuer))
        assert_problem(r, 422, "invalid-webhook-url")
    for body in (
        {},
        {"url": ""},
        {"url": "https://example.com/" + "x" * 2000},
        {"url": URL, "secret": "mine"},
        [],
    ):
        assert_problem(await client.put(path, json=body, headers=provider(issuer)), 422, "validation-error")
    r = await client.put(
        path, content=b'{"url": ', headers={**provider(issuer), "content-type": "application/json"}
    )
    assert_problem(r, 422, "validation-error")
    assert await endpoints(client) == 0


async def test_production_wants_https_to_public_addresses(production_like, issuer):
    client = production_like
    await register(client, issuer)
    path = f"/v1/providers/{PROVIDER}/webhook"
    r = await client.put(path, json={"url": "http://93.184.216.34/hook"}, headers=provider(issuer))
    assert_problem(r, 422, "webhook-https-required")
    for url in (
        "https://127.0.0.1/hook",
        "https://localhost:8443/hook",
        "https://10.1.2.3/hook",
        "https://192.168.0.10/hook",
        "https://172.16.5.5/hook",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/hook",
        "https://[::ffff:10.0.0.1]/hook",
        "https://100.64.0.1/hook",
        "https://0.0.0.0/hook",
    ):
        r = await client.put(path, json={"url": url}, headers=provider(issuer))
        assert_problem(r, 422, "webhook-address-not-public")
    r = await client.put(
        path, json={"url": f"https://{uuid.uuid4().hex}.invalid/hook"}, headers=provider(issuer)
    )
    assert_problem(r, 422, "webhook-address-not-public")
    assert await endpoints(client) == 0
    r = await client.put(path, json={"url": "https://93.184.216.34/hook"}, headers=provider(issuer))
    assert r.status_code == 201, r.text


def test_address_rules():
    assert rules.is_public("93.184.216.34")
    assert rules.is_public("2606:4700:4700::1111")
    for address in (
        "127.0.0.1",
        "10.0.0.1",
        "::1",
        "fe80::1%eth0",
        "::ffff:192.168.1.1",
        "224.0.0.1",
        "100.64.1.1",
    ):
        assert not rules.is_public(address), address
    assert SECRET.match(rules.new_secret())
