"""Bearer JWT verification, principals and scopes.

Tokens come from an OIDC-style issuer (in development: `devissuer`). Verification pins
the algorithms, and requires issuer, audience, expiry and subject. A principal's scopes are
the token's scopes intersected with what its role may ever hold, so a misconfigured
identity provider cannot give a provider the case officer's powers.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import jwt
from jwt import PyJWKClient, PyJWKSet

from hjemflyt.shared.platform.errors import Forbidden, Unauthorized
from hjemflyt.shared.platform.settings import Settings

log = logging.getLogger(__name__)


class Role(StrEnum):
    case_officer = "case_officer"
    service_lead = "service_lead"
    manager = "manager"
    provider = "provider"
    integration = "integration"
    auditor = "auditor"
    # The person themselves, as the national login (ID-porten) gives them: sees who looked
    # at their data, when and why (pasientjournalloven § 22), nothing else.
    citizen = "citizen"


class Scope(StrEnum):
    persons_read = "persons:read"
    persons_write = "persons:write"
    decisions_read = "decisions:read"
    decisions_write = "decisions:write"
    timeline_read = "timeline:read"
    budget_read = "budget:read"
    budget_write = "budget:write"
    providers_read = "providers:read"
    providers_write = "providers:write"
    orders_read = "orders:read"
    orders_write = "orders:write"
    access_log_read = "access-log:read"
    own_access_log_read = "own-access-log:read"
    config_write = "config:write"
    # Case-office work with providers: tasks (escalations, change-of-need reports to
    # answer, clarifications, urgent requests) and the district routine registry.
    tasks_read = "tasks:read"
    tasks_write = "tasks:write"
    routines_read = "routines:read"
    routines_write = "routines:write"
    # Monthly statements for private providers: the provider reads its own and disputes
    # lines; the contract owner (manager) issues them and answers disputes.
    settlements_read = "settlements:read"
    settlements_write = "settlements:write"
    # Pathways, their tasks and worklists (person-level, district-scoped), and the
    # indicators (aggregates, no persons).
    pathways_read = "pathways:read"
    pathways_write = "pathways:write"
    indicators_read = "indicators:read"


ROLE_SCOPES: dict[Role, frozenset[Scope]] = {
    Role.case_officer: frozenset(
        {
            Scope.persons_read,
            Scope.persons_write,
            Scope.decisions_read,
            Scope.decisions_write,
            Scope.timeline_read,
            Scope.providers_read,
            Scope.orders_read,
            Scope.tasks_read,
            Scope.tasks_write,
            Scope.routines_read,
            Scope.pathways_read,
            Scope.pathways_write,
            Scope.indicators_read,
        }
    ),
    Role.service_lead: frozenset(
        {
            Scope.persons_read,
            Scope.decisions_read,
            Scope.timeline_read,
            Scope.providers_read,
            Scope.orders_read,
            Scope.tasks_read,
            Scope.routines_read,
            Scope.pathways_read,
            Scope.pathways_write,
            Scope.indicators_read,
        }
    ),
    Role.manager: frozenset(
        {
            Scope.budget_read,
            Scope.budget_write,
            Scope.providers_read,
            Scope.routines_read,
            Scope.routines_write,
            Scope.settlements_read,
            Scope.settlements_write,
            Scope.pathways_read,
            Scope.indicators_read,
        }
    ),
    Role.provider: frozenset(
        {
            Scope.orders_read,
            Scope.orders_write,
            Scope.routines_read,
            Scope.settlements_read,
            Scope.settlements_write,
        }
    ),
    Role.integration: frozenset(
        {
            Scope.persons_read,
            Scope.persons_write,
            Scope.decisions_read,
            Scope.decisions_write,
            Scope.timeline_read,
            Scope.providers_read,
            Scope.providers_write,
            Scope.budget_read,
            Scope.config_write,
            Scope.orders_read,
            Scope.tasks_read,
            Scope.tasks_write,
            Scope.routines_read,
            Scope.routines_write,
            Scope.pathways_read,
            Scope.pathways_write,
            Scope.indicators_read,
        }
    ),
    Role.auditor: frozenset({Scope.access_log_read, Scope.providers_read}),
    Role.citizen: frozenset({Scope.own_access_log_read}),
}


@dataclass(frozen=True)
class Principal:
    subject: str
    role: Role
    tenant: str
    scopes: frozenset[Scope] = field(default_factory=frozenset)
    # Districts a case officer or service lead works in; empty means none. Integration
    # accounts act for the whole municipality (`all_districts`).
    districts: frozenset[str] = field(default_factory=frozenset)
    all_districts: bool = False
    provider_org: str | None = None
    name: str | None = None
    # A citizen's own person id (the `person_id` claim); None for every other role.
    person_id: uuid.UUID | None = None

    def has(self, scope: Scope) -> bool:
        return scope in self.scopes

    def require(self, *scopes: Scope) -> None:
        missing = [s.value for s in scopes if s not in self.scopes]
        if missing:
            raise Forbidden(f"This token lacks the scope(s): {', '.join(missing)}.", missing_scopes=missing)

    def may_see_district(self, district: str) -> bool:
        return self.all_districts or district in self.districts


def principal_from_claims(claims: dict[str, Any], default_tenant: str) -> Principal:
    try:
        role = Role(claims.get("role", ""))
    except ValueError as exc:
        raise Unauthorized("The token has no known role.") from exc
    granted = {s for s in str(claims.get("scope", "")).split() if s}
    scopes = frozenset(s for s in ROLE_SCOPES[role] if s.value in granted)
    districts = claims.get("districts") or []
    if not isinstance(districts, list) or not all(isinstance(d, str) for d in districts):
        raise Unauthorized("The token's districts claim is malformed.")
    provider_org = claims.get("provider_org")
    if role == Role.provider and not (isinstance(provider_org, str) and len(provider_org) == 9):
        raise Unauthorized("A provider token must name its organisation number.")
    if role != Role.provider:
        provider_org = None
    person_id = None
    if role == Role.citizen:
        try:
            person_id = uuid.UUID(str(claims.get("person_id", "")))
        except ValueError as exc:
            raise Unauthorized("A citizen token must name the person (person_id).") from exc
        districts = []
    return Principal(
        subject=str(claims["sub"]),
        role=role,
        tenant=str(claims.get("tenant") or default_tenant),
        scopes=scopes,
        districts=frozenset(districts),
        all_districts=role in (Role.integration, Role.manager, Role.auditor) or "*" in districts,
        provider_org=provider_org,
        name=claims.get("name") if isinstance(claims.get("name"), str) else None,
        person_id=person_id,
    )


class TokenVerifier:
    # Verified tokens kept per process (a signature check costs ~0.3 ms of CPU): a bounded
    # map from the token string to its principal, used only until the token's expiry.
    CACHE_SIZE = 2048

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._verified: dict[str, tuple[Principal, float]] = {}
        self._client: PyJWKClient | None = None
        self._keyset: PyJWKSet | None = None
        if settings.jwt_jwks_url:
            self._client = PyJWKClient(settings.jwt_jwks_url, cache_keys=True, lifespan=300)
        elif settings.jwt_jwks_file is None:
            raise ValueError("set HJEMFLYT_JWT_JWKS_URL or HJEMFLYT_JWT_JWKS_FILE")

    def _key(self, token: str) -> Any:
        if self._client is not None:
            return self._client.get_signing_key_from_jwt(token).key
        if self._keyset is None:
            assert self.settings.jwt_jwks_file is not None
            self._keyset = PyJWKSet.from_dict(json.loads(self.settings.jwt_jwks_file.read_text()))
        kid = jwt.get_unverified_header(token).get("kid")
        for key in self._keyset.keys:
            if key.key_id == kid:
                return key.key
        # The dev issuer may have rotated keys: reload once.
        self._keyset = None
        raise Unauthorized("The token's signing key is unknown.")

    def verify(self, token: str) -> Principal:
        hit = self._verified.get(token)
        if hit is not None:
            if time.time() < hit[1]:  # noqa: TID251 - JWT exp is wall time
                return hit[0]
            # Expired since: verify again, which answers as an expired token does.
            self._verified.pop(token, None)
        principal, expires = self._verify(token)
        if len(self._verified) >= self.CACHE_SIZE:
            # Oldest first (dicts keep insertion order).
            for old in list(self._verified)[: self.CACHE_SIZE // 4]:
                del self._verified[old]
        self._verified[token] = (principal, expires)
        return principal

    def _verify(self, token: str) -> tuple[Principal, float]:
        try:
            key = self._key(token)
            claims = jwt.decode(
                token,
                key,
                algorithms=self.settings.jwt_algorithms,
                audience=self.settings.jwt_audience,
                issuer=self.settings.jwt_issuer,
                leeway=self.settings.jwt_leeway_seconds,
                options={"require": ["exp", "iat", "iss", "aud", "sub"]},
            )
        except Unauthorized:
            raise
        except jwt.ExpiredSignatureError as exc:
            raise Unauthorized("The token has expired.") from exc
        except (jwt.PyJWTError, ValueError, KeyError) as exc:
            raise Unauthorized(f"The token is not valid: {type(exc).__name__}.") from exc
        # `exp` is required above; the cache never outlives it (the leeway is not used).
        return principal_from_claims(claims, self.settings.tenant), float(claims["exp"])
