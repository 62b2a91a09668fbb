"""District configuration: name, organisation model and case office."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path

from hjemflyt.assessment.districts import service
from hjemflyt.assessment.districts.schemas import DistrictIn, DistrictOut
from hjemflyt.shared.platform.auth import Principal, Scope
from hjemflyt.shared.platform.deps import SessionDep, requires

router = APIRouter(prefix="/v1/districts", tags=["districts"])

DistrictCode = Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$", description="e.g. gamle-oslo")]


@router.put("/{code}", summary="Create or change a district's configuration")
async def put_district(
    code: DistrictCode,
    body: DistrictIn,
    session: SessionDep,
    _: Annotated[Principal, Depends(requires(Scope.config_write))],
) -> DistrictOut:
    return DistrictOut.model_validate(await service.configure(session, code, body))


@router.get("", summary="All districts")
async def list_districts(
    session: SessionDep, _: Annotated[Principal, Depends(requires(Scope.persons_read))]
) -> list[DistrictOut]:
    return [DistrictOut.model_validate(d) for d in await service.list_all(session)]
