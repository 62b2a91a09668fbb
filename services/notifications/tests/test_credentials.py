"""API credentials for provider systems and the OAuth2 client credentials grant.

End to end: credentials are created, exchanged at /v1/token for a short-lived RS256 token,
that token is accepted by the service's own verifier on GET /v1/inbox, and a revoked
client gets no new token.
"""

from __future__ import annotations

import base64
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote_plus

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from identity_corpus import make_org_number
from sqlalchemy import select

from hjemflyt.notifications.credentials import hashing, tokens
from hjemflyt.notifications.credentials.models import ProviderCredential
from hjemflyt.notifications.main import create_app
from hjemflyt.shared.platform.auth import Role
from hjemflyt.shared.platform.settings import Environment, Settings
from hjemflyt.shared.testing import ISSUER, auth, running_service

PROVIDER = make_org_number("81234567")
OTHER = make_org_number("90000000")
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@pytest.fixture
async def client(settings):
    async with running_service(create_app, settings) as client:
        yield client


async def register(client, issuer, org: str = PROVIDER) -> None:
    r = await client.put(
        f"/v1/providers/{org}",
        json={
            "name": f"Leverandør {org}",
            "kind": "private",
            "service_codes": ["15"],
            "districts": ["frogner"],
        },
        headers=auth(issuer, Role.integration),
    )
    assert r.status_code == 201, r.text


async def create_credential(client, issuer, org: str = PROVIDER, **body: object) -> dict:
    r = await client.post(
        f"/v1/providers/{org}/credentials", json=body or None, headers=auth(issuer, Role.integration)
    )
    assert r.status_code == 201, r.text
    assert r.headers["cache-control"] == "no-store"
    return r.json()


async def token_request(client, form: dict[str, str] | str, headers: dict[str, str] | None = None):
    content = form if isinstance(form, str) else "&".join(f"{k}={quote_plus(v)}" for k, v in form.items())
    return await client.post("/v1/token", content=content, headers={**FORM, **(headers or {})})


def grant(cred: dict, **extra: str) -> dict[str, str]:
    return {
        "grant_type": "client_credentials",
        "client_id": cred["client_id"],
        "client_secret": cred["client_secret"],
        **extra,
    }


def basic(client_id: str, secret: str) -> dict[str, str]:
    raw = f"{quote_plus(client_id)}:{quote_plus(secret)}".encode()
    return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


def assert_oauth_error(r, status: int, error: str) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/json")
    assert r.headers["cache-control"] == "no-store"
    assert r.json()["error"] == error, r.json()
    return r.json()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_credentials_to_token_to_inbox_then_revoked(client, issuer, settings):
    await register(client, issuer)
    await register(client, issuer, OTHER)
    cred = await create_credential(client, issuer, description="Fagsystem produksjon")
    assert cred["client_id"].startswith("hjc_")
    assert cred["client_secret"].startswith("hjs_")
    assert len(cred["client_secret"]) == 4 + 43
    assert cred["provider_org"] == PROVIDER
    assert cred["description"] == "Fagsystem produksjon"
    assert cred["revoked_at"] is None

    # Listed without the secret; stored only as a salted scrypt hash.
    r = await client.get(f"/v1/providers/{PROVIDER}/credentials", headers=auth(issuer, Role.integration))
    assert r.status_code == 200
    assert [c["client_id"] for c in r.json()] == [cred["client_id"]]
    assert "client_secret" not in r.json()[0]
    assert cred["client_secret"] not in r.text
    async with client.app.state.ctx.sessionmaker() as s:
        row = await s.scalar(select(ProviderCredential))
    assert row is not None
    assert cred["client_secret"].encode() not in row.secret_hash + row.salt
    assert row.kdf == hashing.KDF
    assert len(row.salt) == 16
    assert row.secret_hash == hashing.hash_secret(cred["client_secret"], row.salt)

    r = await token_request(client, grant(cred))
    assert r.status_code == 200, r.text
    assert r.headers["cache-control"] == "no-store"
    out = r.json()
    assert out["token_type"] == "Bearer"
    assert out["expires_in"] == settings.provider_token_ttl_seconds == 900
    assert out["scope"] == "orders:read orders:write routines:read settlements:read settlements:write"
    header = jwt.get_unverified_header(out["access_token"])
    assert header["alg"] == "RS256"
    assert header["kid"] == (settings.jwt_jwks_file.parent / "kid").read_text().strip()
    claims = jwt.decode(out["access_token"], options={"verify_signature": False})
    assert claims["iss"] == ISSUER
    assert claims["aud"] == settings.jwt_audience
    assert claims["role"] == "provider"
    assert claims["provider_org"] == PROVIDER
    assert claims["client_id"] == cred["client_id"]
    assert claims["exp"] - claims["iat"] == 900
    assert claims["tenant"] == settings.tenant

    # The service's own verifier (the dev JWKS) accepts it: the inbox, and its own entry.
    token = out["access_token"]
    r = await client.get("/v1/inbox", headers=bearer(token))
    assert r.status_code == 200, r.text
    assert (await client.get(f"/v1/providers/{PROVIDER}", headers=bearer(token))).status_code == 200
    assert (await client.get(f"/v1/providers/{OTHER}", headers=bearer(token))).status_code == 404
    # It cannot manage credentials (providers:write is the municipality's).
    r = await client.post(f"/v1/providers/{PROVIDER}/credentials", headers=bearer(token))
    assert r.status_code == 403

    # HTTP Basic works too, and records the use.
    r = await token_request(
        client, {"grant_type": "client_credentials"}, basic(cred["client_id"], cred["client_secret"])
    )
    assert r.status_code == 200, r.text
    r = await client.get(f"/v1/providers/{PROVIDER}/credentials", headers=auth(issuer, Role.integration))
    assert r.json()[0]["last_used_at"] is not None

    # Revoked: no new token; revoking again changes nothing.
    r = await client.delete(
        f"/v1/providers/{PROVIDER}/credentials/{cred['client_id']}", headers=auth(issuer, Role.integration)
    )
    assert r.status_code == 204
    r = await client.delete(
        f"/v1/providers/{PROVIDER}/credentials/{cred['client_id']}", headers=auth(issuer, Role.integration)
    )
    assert r.status_code == 204
    assert_oauth_error(await token_request(client, grant(cred)), 401, "invalid_client")
    listed = (
        await client.get(f"/v1/providers/{PROVIDER}/credentials", headers=auth(issuer, Role.integration))
    ).json()
    assert listed[0]["revoked_at"] is not None
    assert listed[0]["revoked_by"] == "dev-integration"
    # A token issued before the revocation lives out its short life (documented mitigation).
    assert (await client.get("/v1/inbox", headers=bearer(token))).status_code == 200


async def test_bad_token_requests(client, issuer):
    await register(client, issuer)
    cred = await create_credential(client, issuer)

    r = await token_request(client, grant(cred, grant_type="password"))
    assert_oauth_error(r, 400, "unsupported_grant_type")
    r = await token_request(client, {"client_id": cred["client_id"], "client_secret": cred["client_secret"]})
    assert_oauth_error(r, 400, "invalid_request")
    r = await client.post("/v1/token", json=grant(cred))
    assert_oauth_error(r, 400, "invalid_request")
    r = await token_request(client, grant(cred) | {"scope": "orders:read decisions:write"})
    assert_oauth_error(r, 400, "invalid_scope")
    r = await token_request(
        client, f"grant_type=client_credentials&grant_type=password&client_id={cred['client_id']}"
    )
    assert_oauth_error(r, 400, "invalid_request")
    r = await token_request(client, grant(cred), basic(cred["client_id"], cred["client_secret"]))
    assert_oauth_error(r, 400, "invalid_request")
    r = await token_request(client, "grant_type=client_credentials&client_id=%ff%fe&x")
    assert r.status_code in (400, 401)

    # Wrong secret, unknown client, missing secret, garbage Basic: the same answer.
    secret = cred["client_secret"]
    # Another last character (a fixed "A" was the secret itself once in 64 runs).
    wrong = await token_request(
        client, grant(cred, client_secret=secret[:-1] + ("B" if secret[-1] == "A" else "A"))
    )
    unknown = await token_request(client, grant(cred, client_id="hjc_doesnotexist"))
    missing = await token_request(
        client, {"grant_type": "client_credentials", "client_id": cred["client_id"]}
    )
    garbage = await token_request(
        client, {"grant_type": "client_credentials"}, {"Authorization": "Basic %%%"}
    )
    for r in (wrong, unknown, missing, garbage):
        assert_oauth_error(r, 401, "invalid_client")
        assert r.headers["www-authenticate"].startswith("Basic")
    assert wrong.json() == unknown.json() == missing.json()

    # A narrower scope may be asked for.
    r = await token_request(client, grant(cred, scope="routines:read"))
    assert r.status_code == 200
    assert r.json()["scope"] == "routines:read"
    claims = jwt.decode(r.json()["access_token"], options={"verify_signature": False})
    assert claims["scope"] == "routines:read"
    assert (await client.get("/v1/inbox", headers=bearer(r.json()["access_token"]))).status_code == 403


async def test_failed_attempts_are_bounded_per_caller(settings, issuer):
    limited = settings.model_copy(update={"provider_token_failures_per_minute": 3})
    async with running_service(create_app, limited) as client:
        await register(client, issuer)
        cred = await create_credential(client, issuer)
        for _ in range(3):
            assert_oauth_error(
                await token_request(client, grant(cred, client_secret="hjs_guess")), 401, "invalid_client"
            )
        # Now even the right secret waits: the caller must slow down.
        r = await token_request(client, grant(cred))
        assert_oauth_error(r, 429, "invalid_request")
        assert r.headers["retry-after"] == "60"
        client.app.state.clock.advance(timedelta(seconds=61))
        r = await token_request(client, grant(cred))
        assert r.status_code == 200, r.text
        # The token's times are wall-clock times (what every verifier checks), not the moved clock.
        assert (await client.get("/v1/inbox", headers=bearer(r.json()["access_token"]))).status_code == 200


async def test_a_service_living_on_another_day_still_issues_tokens_that_verify(settings, issuer):
    # The suite pins every service to one day with a clock shift (days away from the system
    # clock on the calendar runs); here three more days, so the shift is never near zero.
    shifted = settings.model_copy(update={"clock_shift_seconds": settings.clock_shift_seconds + 3 * 86400.0})
    async with running_service(create_app, shifted) as client:
        await register(client, issuer)
        cred = await create_credential(client, issuer)
        r = await token_request(client, grant(cred))
        assert r.status_code == 200, r.text
        token = r.json()["access_token"]
        assert (await client.get("/v1/inbox", headers=bearer(token))).status_code == 200
        claims = jwt.decode(token, options={"verify_signature": False})
        # JWT iat/exp are wall time by design (every verifier checks them against the system
        # clock), so this one comparison reads the system clock, not the suite's.
        assert abs(claims["iat"] - time.time()) < 60  # noqa: TID251 - JWT iat is wall time


async def test_managing_credentials(client, issuer, settings):
    await register(client, issuer)
    await register(client, issuer, OTHER)
    for headers in (
        auth(issuer, Role.provider, provider_org=PROVIDER),
        auth(issuer, Role.case_officer, districts=["frogner"]),
        auth(issuer, Role.manager),
    ):
        r = await client.post(f"/v1/providers/{PROVIDER}/credentials", headers=headers)
        assert r.status_code == 403, r.text
        r = await client.get(f"/v1/providers/{PROVIDER}/credentials", headers=headers)
        assert r.status_code == 403, r.text
    integration = auth(issuer, Role.integration)
    r = await client.post("/v1/providers/974760673/credentials", headers=integration)
    assert r.status_code == 404
    assert r.json()["type"].endswith("/not-found")
    r = await client.post("/v1/providers/123456789/credentials", headers=integration)
    assert r.status_code == 422
    assert r.json()["type"].endswith("/invalid-organisation-number")
    r = await client.post(
        f"/v1/providers/{PROVIDER}/credentials", json={"description": "x" * 201}, headers=integration
    )
    assert r.status_code == 422

    # Another provider's client cannot be revoked through this one's path.
    other = await create_credential(client, issuer, OTHER)
    r = await client.delete(f"/v1/providers/{PROVIDER}/credentials/{other['client_id']}", headers=integration)
    assert r.status_code == 404
    assert (await token_request(client, grant(other))).status_code == 200
    r = await client.get(f"/v1/providers/{PROVIDER}/credentials", headers=integration)
    assert r.json() == []

    # A bounded number of active clients (enough to rotate); revoking frees a place.
    limit = settings.provider_credentials_max_active
    made = [await create_credential(client, issuer) for _ in range(limit)]
    r = await client.post(f"/v1/providers/{PROVIDER}/credentials", headers=integration)
    assert r.status_code == 409
    assert r.json()["type"].endswith("/too-many-credentials")
    r = await client.delete(
        f"/v1/providers/{PROVIDER}/credentials/{made[0]['client_id']}", headers=integration
    )
    assert r.status_code == 204
    await create_credential(client, issuer)
    # Each secret is its own.
    assert len({c["client_secret"] for c in made}) == limit


# --- the signing key ---------------------------------------------------------------------


def test_signing_key_choice(tmp_path: Path, settings):
    cache: dict = {}
    dev = tokens.signing_key(settings, cache)
    assert dev is not None
    assert dev.kid == (settings.jwt_jwks_file.parent / "kid").read_text().strip()

    # Production without a configured key: none (the endpoint answers 503).
    production = Settings.model_construct(
        **{**settings.model_dump(), "env": Environment.production, "provider_token_key_file": None}
    )
    assert tokens.signing_key(production, {}) is None

    # A configured key: kid from the setting, else its RFC 7638 thumbprint.
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = tmp_path / "provider-token.pem"
    pem.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    configured = Settings.model_construct(
        **{**settings.model_dump(), "env": Environment.production, "provider_token_key_file": pem}
    )
    found = tokens.signing_key(configured, {})
    assert found is not None
    assert found.kid == tokens.thumbprint(key)
    assert len(found.kid) == 43
    named = Settings.model_construct(**{**configured.model_dump(), "provider_token_kid": "provider-2026"})
    assert tokens.signing_key(named, {}).kid == "provider-2026"  # type: ignore[union-attr]
    assert (
        tokens.signing_key(settings.model_copy(update={"provider_token_key_file": tmp_path / "none.pem"}), {})
        is None
    )


async def test_without_a_key_the_endpoint_says_so(settings, issuer, tmp_path):
    missing = settings.model_copy(update={"provider_token_key_file": tmp_path / "absent.pem"})
    async with running_service(create_app, missing) as client:
        await register(client, issuer)
        cred = await create_credential(client, issuer)
        r = await token_request(client, grant(cred))
        assert_oauth_error(r, 503, "temporarily_unavailable")
