from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict

from hjemflyt.assessment.providers import service
from hjemflyt.shared.platform.auth import Principal, Scope
from hjemflyt.shared.platform.deps import SessionDep, requires

router = APIRouter(prefix="/v1/providers", tags=["providers"])


class ApprovedProviderOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    provider_org: str
    name: str
    kind: str
    service_codes: list[str]
    districts: list[str]


@router.get("", summary="Providers a person may choose, as known to case handling")
async def list_providers(
    session: SessionDep, _: Annotated[Principal, Depends(requires(Scope.providers_read))]
) -> list[ApprovedProviderOut]:
    return [ApprovedProviderOut.model_validate(p) for p in await service.list_all(session)]
