"""A provider's webhook: set it (the secret is shown once), rotate the secret, remove it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response
from fastapi.responses import JSONResponse

from hjemflyt.notifications.webhooks import service
from hjemflyt.notifications.webhooks.schemas import WebhookIn, WebhookOut, WebhookSecretOut
from hjemflyt.shared.platform.deps import ContextDep, PrincipalDep, SessionDep

router = APIRouter(prefix="/v1/providers/{provider_org}/webhook", tags=["webhooks"])
Org = Annotated[str, Path(max_length=20, description="organisasjonsnummer")]


@router.put(
    "",
    summary="Set your webhook URL (provider, or the integration account)",
    response_model=WebhookSecretOut,
    responses={201: {"model": WebhookSecretOut, "description": "Created: the secret, shown only now"}},
)
async def put_webhook(
    provider_org: Org, body: WebhookIn, ctx: ContextDep, session: SessionDep, principal: PrincipalDep
) -> JSONResponse:
    endpoint, created = await service.put(ctx, session, principal, provider_org, body)
    return JSONResponse(endpoint.model_dump(mode="json"), status_code=201 if created else 200)


@router.get("", summary="Your webhook (without its secret)")
async def get_webhook(
    provider_org: Org, ctx: ContextDep, session: SessionDep, principal: PrincipalDep
) -> WebhookOut:
    return await service.get(ctx, session, principal, provider_org)


@router.post("/rotate", summary="A new secret, shown once; the previous one stays valid for 24 hours")
async def rotate_secret(
    provider_org: Org, ctx: ContextDep, session: SessionDep, principal: PrincipalDep
) -> WebhookSecretOut:
    return await service.rotate(ctx, session, principal, provider_org)


@router.delete("", status_code=204, summary="Stop pushing; messages wait in your inbox")
async def delete_webhook(
    provider_org: Org, ctx: ContextDep, session: SessionDep, principal: PrincipalDep
) -> Response:
    await service.delete(ctx, session, principal, provider_org)
    return Response(status_code=204)
