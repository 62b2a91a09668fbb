"""Development token issuer: an RSA key pair and JWKS in the data folder, and tokens for a
chosen role, district or provider. Only for development and tests: production points
`HJEMFLYT_JWT_JWKS_URL` at the municipality's identity provider.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from hjemflyt.shared.platform.auth import ROLE_SCOPES, Role


@dataclass
class DevIssuer:
    directory: Path
    issuer: str
    audience: str = "hjemflyt"
    tenant: str = "0301"

    @property
    def key_file(self) -> Path:
        return self.directory / "private-key.pem"

    @property
    def jwks_file(self) -> Path:
        return self.directory / "jwks.json"

    def ensure_keys(self) -> None:
        if self.key_file.exists() and self.jwks_file.exists():
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        kid = uuid.uuid4().hex[:16]
        jwk: dict[str, Any] = json.loads(RSAAlgorithm.to_jwk(key.public_key()))
        jwk.update({"kid": kid, "use": "sig", "alg": "RS256"})
        tmp = self.key_file.with_suffix(".tmp")
        tmp.write_bytes(pem)
        tmp.chmod(0o600)
        tmp.replace(self.key_file)
        (self.directory / "kid").write_text(kid)
        self.jwks_file.write_text(json.dumps({"keys": [jwk]}, indent=2))

    def token(
        self,
        *,
        role: Role,
        subject: str | None = None,
        districts: list[str] | None = None,
        provider_org: str | None = None,
        scopes: list[str] | None = None,
        name: str | None = None,
        person_id: str | None = None,
        ttl_seconds: int = 8 * 3600,
        tenant: str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> str:
        self.ensure_keys()
        now = int(time.time())  # noqa: TID251 - JWT iat/exp are wall time
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": subject or f"dev-{role.value}",
            "iat": now,
            "nbf": now,
            "exp": now + ttl_seconds,
            "jti": uuid.uuid4().hex,
            "role": role.value,
            "tenant": tenant or self.tenant,
            "scope": " ".join(scopes if scopes is not None else sorted(s.value for s in ROLE_SCOPES[role])),
            "districts": districts or [],
        }
        if provider_org:
            claims["provider_org"] = provider_org
        if name:
            claims["name"] = name
        if person_id:
            claims["person_id"] = person_id  # a citizen: the person the national login names
        claims.update(extra or {})
        kid = (self.directory / "kid").read_text().strip()
        return jwt.encode(claims, self.key_file.read_bytes(), algorithm="RS256", headers={"kid": kid})
