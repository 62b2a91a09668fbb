"""Provider API credentials: create (secret shown once), list, revoke, and exchange for a
short-lived access token (OAuth2 client credentials grant, RFC 6749 § 4.4).

A revoked client gets no new token at once; a token it already holds stays valid until it
expires (`provider_token_ttl_seconds`, 15 minutes by default): the verifiers are stateless,
so the short lifetime is the mitigation.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from hjemflyt.notifications.credentials import hashing, tokens
from hjemflyt.notifications.credentials.models import ProviderCredential
from hjemflyt.notifications.credentials.repository import CredentialRepository
from hjemflyt.notifications.credentials.schemas import CredentialCreated, CredentialOut
from hjemflyt.notifications.providers.repository import ProviderRepository
from hjemflyt.notifications.providers.service import organisation_number
from hjemflyt.shared.platform.auth import Principal
from hjemflyt.shared.platform.context import ServiceContext
from hjemflyt.shared.platform.errors import Conflict, NotFound

log = logging.getLogger(__name__)


class OAuthError(Exception):
    """An RFC 6749 § 5.2 error answer of the token endpoint."""

    def __init__(self, error: str, description: str, *, status: int = 400, retry_after: int | None = None):
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status
        self.retry_after = retry_after


async def _registered(session: AsyncSession, provider_org: str) -> str:
    org = organisation_number(provider_org)
    if await ProviderRepository(session).get(org) is None:
        raise NotFound("No such provider in the registry.")
    return org


async def create(
    ctx: ServiceContext,
    session: AsyncSession,
    principal: Principal,
    provider_org: str,
    description: str | None,
) -> CredentialCreated:
    org = await _registered(session, provider_org)
    repo = CredentialRepository(session)
    # Serialise creations for one provider so the limit holds under concurrent requests.
    await ProviderRepository(session).get(org, for_update=True)
    limit = ctx.settings.provider_credentials_max_active
    if await repo.active_count(org) >= limit:
        raise Conflict(
            f"The provider already has {limit} active credentials; revoke one first.",
            slug="too-many-credentials",
        )
    secret = hashing.new_secret()
    digest, salt, kdf = await asyncio.to_thread(hashing.new_hash, secret)
    credential = await repo.add(
        ProviderCredential(
            client_id=hashing.new_client_id(),
            provider_org=org,
            description=description,
            secret_hash=digest,
            salt=salt,
            kdf=kdf,
            created_at=ctx.clock.now(),
            created_by=principal.subject,
        )
    )
    log.info("credential %s created for provider %s", credential.client_id, org)
    return CredentialCreated(**CredentialOut.model_validate(credential).model_dump(), client_secret=secret)


async def list_for(session: AsyncSession, provider_org: str) -> list[CredentialOut]:
    org = await _registered(session, provider_org)
    return [CredentialOut.model_validate(c) for c in await CredentialRepository(session).list(org)]


async def revoke(
    ctx: ServiceContext, session: AsyncSession, principal: Principal, provider_org: str, client_id: str
) -> None:
    """Revoke; revoking a revoked client changes nothing (DELETE is idempotent)."""
    org = await _registered(session, provider_org)
    credential = await CredentialRepository(session).of_provider(org, client_id, for_update=True)
    if credential is None:
        raise NotFound("No such credential for this provider.")
    if credential.revoked_at is None:
        credential.revoked_at = ctx.clock.now()
        credential.revoked_by = principal.subject
        await session.flush()
        log.info("credential %s of provider %s revoked", client_id, org)


# --- the token endpoint ----------------------------------------------------------------

_WINDOW = timedelta(minutes=1)


class TokenState:
    """Per-process state of the token endpoint: the loaded signing key and the recent
    failed attempts per caller address (one per app, kept on `app.state`)."""

    def __init__(self) -> None:
        self.key_cache: dict[str, Any] = {}
        self.failures: dict[str, deque[datetime]] = {}

    def recent_failures(self, now: datetime, address: str) -> deque[datetime]:
        if len(self.failures) > 10_000:  # forget quiet callers, so the map stays small
            for key in [k for k, q in self.failures.items() if not q or now - q[-1] > _WINDOW]:
                del self.failures[key]
        queue = self.failures.setdefault(address, deque())
        while queue and now - queue[0] > _WINDOW:
            queue.popleft()
        return queue


async def token(
    ctx: ServiceContext,
    session: AsyncSession,
    *,
    client_id: str,
    client_secret: str,
    scope: str | None,
    address: str,
    state: TokenState,
) -> tuple[str, int, list[str]]:
    """Authenticate the client and issue its token: (token, expires_in, scopes).

    Unknown client, revoked client and wrong secret are the same `invalid_client` after the
    same amount of work, so the answer reveals nothing about which client ids exist. Failed
    attempts are bounded per caller address (per process), and the secrets' 256 bits make
    guessing hopeless in any case.
    """
    key = tokens.signing_key(ctx.settings, state.key_cache)
    if key is None:
        raise OAuthError(
            "temporarily_unavailable",
            "This deployment issues no provider tokens: no signing key is configured.",
            status=503,
        )
    failures = state.recent_failures(ctx.clock.now(), address)
    if len(failures) >= ctx.settings.provider_token_failures_per_minute:
        raise OAuthError(
            "invalid_request", "Too many failed attempts; try again later.", status=429, retry_after=60
        )
    allowed = [s.value for s in tokens.PROVIDER_SCOPES]
    if scope is None or not scope.strip():
        scopes = allowed
    else:
        requested = scope.split()
        if not set(requested) <= set(allowed):
            raise OAuthError("invalid_scope", f"A provider client may request: {' '.join(allowed)}.")
        scopes = [s for s in allowed if s in requested]

    credential = await CredentialRepository(session).get(client_id) if len(client_id) <= 100 else None
    usable = credential is not None and credential.revoked_at is None
    stored = (credential.secret_hash, credential.salt, credential.kdf) if usable and credential else None
    ok = await asyncio.to_thread(hashing.verify, client_secret, stored)
    if not ok or credential is None:
        failures.append(ctx.clock.now())
        raise OAuthError("invalid_client", "Client authentication failed.", status=401)
    now = ctx.clock.now()
    credential.last_used_at = now
    await session.flush()
    # The verifiers compare `exp` with their system clock, not the service's (shifted, moved).
    wall = ctx.clock.wall_now()
    access_token, ttl = tokens.issue(
        ctx.settings,
        key,
        client_id=credential.client_id,
        provider_org=credential.provider_org,
        scopes=scopes,
        now=wall,
    )
    return access_token, ttl, scopes
