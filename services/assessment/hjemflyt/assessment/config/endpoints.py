"""The municipality's configuration: catalogue, legal basis, co-payment, case offices, presets."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path

from hjemflyt.assessment.config import service
from hjemflyt.assessment.config.schemas import (
    CaseOfficeIn,
    CaseOfficeOut,
    ConfigurationOut,
    CopaymentBandIn,
    LegalBasisIn,
    LegalBasisOut,
    MunicipalityIn,
    ServiceTypeIn,
    ServiceTypeOut,
)
from hjemflyt.shared.platform.auth import Principal, Scope
from hjemflyt.shared.platform.deps import ContextDep, PrincipalDep, SessionDep, requires

router = APIRouter(prefix="/v1/config", tags=["configuration"])
Admin = Annotated[Principal, Depends(requires(Scope.config_write))]
Code = Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")]


@router.get("", summary="The whole configuration")
async def get_config(ctx: ContextDep, session: SessionDep, _: PrincipalDep) -> ConfigurationOut:
    return await service.read(ctx, session)


@router.post("/presets/{name}", summary="Apply a preset: oslo or stavanger (must match this municipality)")
async def apply_preset(name: Code, ctx: ContextDep, session: SessionDep, _: Admin) -> ConfigurationOut:
    return await service.apply_preset(ctx, session, name)


@router.put("/municipality", summary="The municipality's settings", status_code=204)
async def put_municipality(body: MunicipalityIn, ctx: ContextDep, session: SessionDep, _: Admin) -> None:
    await service.put_municipality(ctx, session, body)


@router.put("/service-types/{code}", summary="Add or change a service in the catalogue")
async def put_service_type(code: Code, body: ServiceTypeIn, session: SessionDep, _: Admin) -> ServiceTypeOut:
    return await service.put_service_type(session, code, body)


@router.put("/legal-basis/{code}", summary="Add or change a legal basis text")
async def put_legal_basis(code: Code, body: LegalBasisIn, session: SessionDep, _: Admin) -> LegalBasisOut:
    return await service.put_legal_basis(session, code, body)


@router.put(
    "/copayment-bands", summary="Replace the co-payment bands of each valid_from date given", status_code=204
)
async def put_bands(body: list[CopaymentBandIn], session: SessionDep, _: Admin) -> None:
    await service.put_bands(session, body)


@router.put("/case-offices/{code}", summary="Add or change a case office")
async def put_case_office(code: Code, body: CaseOfficeIn, session: SessionDep, _: Admin) -> CaseOfficeOut:
    return await service.put_case_office(session, code, body)
