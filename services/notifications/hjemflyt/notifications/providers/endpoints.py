"""Provider registry."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path
from fastapi.responses import JSONResponse

from hjemflyt.notifications.providers import service
from hjemflyt.notifications.providers.schemas import ProviderIn, ProviderOut
from hjemflyt.shared.platform.auth import Principal, Scope
from hjemflyt.shared.platform.deps import ContextDep, PrincipalDep, SessionDep, requires

router = APIRouter(prefix="/v1/providers", tags=["providers"])
OrgPath = Annotated[str, Path(max_length=20, description="organisasjonsnummer")]


@router.put(
    "/{provider_org}",
    summary="Register or change a provider",
    response_model=ProviderOut,
    responses={201: {"model": ProviderOut, "description": "Registered"}},
)
async def put_provider(
    provider_org: OrgPath,
    body: ProviderIn,
    ctx: ContextDep,
    session: SessionDep,
    _: Annotated[Principal, Depends(requires(Scope.providers_write))],
) -> JSONResponse:
    provider, created = await service.put(ctx, session, provider_org, body)
    return JSONResponse(provider.model_dump(mode="json"), status_code=201 if created else 200)


@router.get("", summary="All providers")
async def list_providers(
    session: SessionDep, _: Annotated[Principal, Depends(requires(Scope.providers_read))]
) -> list[ProviderOut]:
    return await service.list_all(session)


@router.get(
    "/{provider_org}",
    summary="One provider (providers:read, or a provider's token for its own entry; others 404)",
)
async def get_provider(provider_org: OrgPath, session: SessionDep, principal: PrincipalDep) -> ProviderOut:
    return await service.get(session, principal, provider_org)
