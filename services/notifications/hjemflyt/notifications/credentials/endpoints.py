"""API credentials for provider systems, and the OAuth2 token endpoint."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Any
from urllib.parse import parse_qsl, unquote_plus

from fastapi import APIRouter, Depends, Path, Request, Response
from fastapi.responses import JSONResponse

from hjemflyt.notifications.credentials import service
from hjemflyt.notifications.credentials.schemas import (
    CredentialIn,
    CredentialOut,
    TokenOut,
)
from hjemflyt.shared.platform.auth import Principal, Scope
from hjemflyt.shared.platform.deps import ContextDep, SessionDep, requires

router = APIRouter(tags=["credentials"])
Writer = Annotated[Principal, Depends(requires(Scope.providers_write))]
OrgPath = Annotated[str, Path(max_length=20, description="organisasjonsnummer")]
ClientId = Annotated[str, Path(max_length=100)]
_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


@router.post(
    "/v1/providers/{provider_org}/credentials",
    status_code=201,
    summary="Create an API client for the provider's system; the secret is shown only here",
)
async def create_credential(
    provider_org: OrgPath,
    ctx: ContextDep,
    session: SessionDep,
    principal: Writer,
    body: CredentialIn | None = None,
) -> JSONResponse:
    created = await service.create(ctx, session, principal, provider_org, body.description if body else None)
    return JSONResponse(created.model_dump(mode="json"), status_code=201, headers=_NO_STORE)


@router.get("/v1/providers/{provider_org}/credentials", summary="The provider's API clients (no secrets)")
async def list_credentials(provider_org: OrgPath, session: SessionDep, _: Writer) -> list[CredentialOut]:
    return await service.list_for(session, provider_org)


@router.delete(
    "/v1/providers/{provider_org}/credentials/{client_id}",
    status_code=204,
    summary="Revoke an API client: no new tokens; tokens issued stay valid until they expire",
)
async def revoke_credential(
    provider_org: OrgPath, client_id: ClientId, ctx: ContextDep, session: SessionDep, principal: Writer
) -> Response:
    await service.revoke(ctx, session, principal, provider_org, client_id)
    return Response(status_code=204)


def _state(request: Request) -> service.TokenState:
    state: service.TokenState | None = getattr(request.app.state, "provider_tokens", None)
    if state is None:
        state = request.app.state.provider_tokens = service.TokenState()
    return state


# RFC 6749 § 5.2: the token endpoint's errors are plain JSON, not problem+json.
_OAUTH_ERROR: dict[str, Any] = {
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "required": ["error"],
                "properties": {"error": {"type": "string"}, "error_description": {"type": "string"}},
            }
        }
    }
}


def _oauth_error(exc: service.OAuthError) -> JSONResponse:
    headers = dict(_NO_STORE)
    if exc.status == 401:
        headers["WWW-Authenticate"] = 'Basic realm="hjemflyt", charset="UTF-8"'
    if exc.retry_after:
        headers["Retry-After"] = str(exc.retry_after)
    return JSONResponse(
        {"error": exc.error, "error_description": exc.description}, status_code=exc.status, headers=headers
    )


def _basic(header: str) -> tuple[str, str] | None:
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise service.OAuthError("invalid_client", "Malformed Basic credentials.", status=401) from exc
    client_id, sep, secret = decoded.partition(":")
    if not sep:
        raise service.OAuthError("invalid_client", "Malformed Basic credentials.", status=401)
    # RFC 6749 § 2.3.1: both parts are form-urlencoded before Basic encoding.
    return unquote_plus(client_id), unquote_plus(secret)


@router.post(
    "/v1/token",
    summary="OAuth2 client credentials grant: an access token for a provider's system",
    description=(
        "Form-encoded `grant_type=client_credentials` with `client_id` and `client_secret` in "
        "the body or as HTTP Basic. Errors are RFC 6749 § 5.2 JSON (`invalid_client` 401, "
        "`unsupported_grant_type`/`invalid_request`/`invalid_scope` 400)."
    ),
    responses={
        200: {"model": TokenOut},
        400: {"description": "invalid_request, unsupported_grant_type, invalid_scope", **_OAUTH_ERROR},
        401: {"description": "invalid_client", **_OAUTH_ERROR},
        429: {"description": "Too many failed attempts from this address", **_OAUTH_ERROR},
        503: {"description": "No signing key configured", **_OAUTH_ERROR},
    },
)
async def token(request: Request, ctx: ContextDep, session: SessionDep) -> JSONResponse:
    try:
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type != "application/x-www-form-urlencoded":
            raise service.OAuthError("invalid_request", "Send application/x-www-form-urlencoded.")
        raw = await request.body()
        if len(raw) > 4096:
            raise service.OAuthError("invalid_request", "The request is too large.")
        try:
            pairs = parse_qsl(raw.decode(), keep_blank_values=True, strict_parsing=bool(raw))
        except (UnicodeDecodeError, ValueError) as exc:
            raise service.OAuthError("invalid_request", "The form cannot be read.") from exc
        names = [k for k, _ in pairs]
        if len(names) != len(set(names)):
            raise service.OAuthError("invalid_request", "A parameter is given more than once.")
        form = dict(pairs)
        grant_type = form.get("grant_type")
        if not grant_type:
            raise service.OAuthError("invalid_request", "grant_type is missing.")
        if grant_type != "client_credentials":
            raise service.OAuthError("unsupported_grant_type", "Only client_credentials is supported.")
        basic = _basic(request.headers.get("authorization", ""))
        if basic and ("client_id" in form or "client_secret" in form):
            raise service.OAuthError("invalid_request", "Authenticate the client one way, not both.")
        client_id, secret = basic or (form.get("client_id", ""), form.get("client_secret", ""))
        if not client_id or not secret:
            raise service.OAuthError("invalid_client", "Client authentication failed.", status=401)
        access_token, ttl, scopes = await service.token(
            ctx,
            session,
            client_id=client_id,
            client_secret=secret,
            scope=form.get("scope"),
            address=request.client.host if request.client else "unknown",
            state=_state(request),
        )
    except service.OAuthError as exc:
        return _oauth_error(exc)
    out = TokenOut(access_token=access_token, expires_in=ttl, scope=" ".join(scopes))
    return JSONResponse(out.model_dump(), headers=_NO_STORE)
