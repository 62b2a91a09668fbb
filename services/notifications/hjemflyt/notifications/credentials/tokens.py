"""Signing provider access tokens (RS256 JWTs the services' verifiers accept).

The key: `provider_token_key_file` (PEM) with `provider_token_kid` or, when that is empty,
its RFC 7638 thumbprint as kid. Unset outside production, the development issuer's key
beside the JWKS file is used, so every service of a dev stack or test run accepts the
tokens. In production without a key the token endpoint answers 503: then either put this
key's public half into the JWKS the services trust, or let the municipality's identity
provider issue provider tokens (role, provider_org and scope claims) instead.
"""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from jwt.algorithms import RSAAlgorithm

from hjemflyt.shared.platform.auth import Role, Scope
from hjemflyt.shared.platform.settings import Environment, Settings

PROVIDER_SCOPES: tuple[Scope, ...] = (
    Scope.orders_read,
    Scope.orders_write,
    Scope.routines_read,
    Scope.settlements_read,
    Scope.settlements_write,
)


@dataclass(frozen=True)
class SigningKey:
    key: RSAPrivateKey
    kid: str


def thumbprint(key: RSAPrivateKey) -> str:
    jwk: dict[str, Any] = json.loads(RSAAlgorithm.to_jwk(key.public_key()))
    canonical = json.dumps({k: jwk[k] for k in ("e", "kty", "n")}, separators=(",", ":"), sort_keys=True)
    return base64.urlsafe_b64encode(hashlib.sha256(canonical.encode()).digest()).rstrip(b"=").decode()


def _load(pem: bytes) -> RSAPrivateKey:
    key = load_pem_private_key(pem, password=None)
    if not isinstance(key, RSAPrivateKey):
        raise ValueError("the provider token key must be an RSA key (RS256)")
    return key


def signing_key(settings: Settings, cache: dict[str, Any]) -> SigningKey | None:
    """The configured key, or the development issuer's outside production; None if neither."""
    if settings.provider_token_key_file is not None:
        path = settings.provider_token_key_file
        kid_file = None
    elif settings.env != Environment.production and settings.jwt_jwks_file is not None:
        path = settings.jwt_jwks_file.parent / "private-key.pem"
        kid_file = settings.jwt_jwks_file.parent / "kid"
    else:
        return None
    try:
        stamp = (str(path), path.stat().st_mtime_ns)
    except FileNotFoundError:
        return None
    cached = cache.get("provider-token-key")
    if cached is not None and cached[0] == stamp:
        return cached[1]  # type: ignore[no-any-return]
    key = _load(path.read_bytes())
    if kid_file is not None:
        kid = kid_file.read_text().strip()
    else:
        kid = settings.provider_token_kid or thumbprint(key)
    found = SigningKey(key, kid)
    cache["provider-token-key"] = (stamp, found)
    return found


def issue(
    settings: Settings,
    key: SigningKey,
    *,
    client_id: str,
    provider_org: str,
    scopes: list[str],
    now: datetime,
) -> tuple[str, int]:
    """A provider access token and its lifetime in seconds. `now` is wall time: every
    service's verifier checks `exp` against the system clock."""
    ttl = settings.provider_token_ttl_seconds
    issued = int(now.timestamp())
    claims = {
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "sub": f"client:{client_id}",
        "client_id": client_id,
        "iat": issued,
        "nbf": issued,
        "exp": issued + ttl,
        "jti": uuid.uuid4().hex,
        "role": Role.provider.value,
        "provider_org": provider_org,
        "tenant": settings.tenant,
        "scope": " ".join(scopes),
    }
    token = jwt.encode(claims, key.key, algorithm="RS256", headers={"kid": key.kid, "typ": "at+jwt"})
    return token, ttl
