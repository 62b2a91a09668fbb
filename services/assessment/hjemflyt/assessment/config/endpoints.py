"""The municipality's configuration: catalogue, legal basis, co-payment, case offices, presets."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from hjemflyt.assessment.config import service
from hjemflyt.assessment.config.schemas import (
    MEASURE_CODE_PATTERN,
    CaseOfficeIn,
    CaseOfficeOut,
    ConfigurationOut,
    CopaymentBandIn,
    LegalBasisIn,
    LegalBasisOut,
    MeasureCodeIn,
    MeasureCodeNew,
    MeasureCodeOut,
    MunicipalityIn,
    ServiceTypeIn,
    ServiceTypeOut,
)
from hjemflyt.shared.platform.auth import Principal, Scope
from hjemflyt.shared.platform.deps import ContextDep, PrincipalDep, SessionDep, requires

router = APIRouter(prefix="/v1/config", tags=["configuration"])
Admin = Annotated[Principal, Depends(requires(Scope.config_write))]
Code = Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")]
MeasureCodePath = Annotated[str, Path(pattern=MEASURE_CODE_PATTERN)]


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


@router.get("/measure-codes", summary="The measure catalogue with its time norms")
async def list_measure_codes(
    session: SessionDep,
    _: PrincipalDep,
    service_type: Annotated[
        str | None, Query(max_length=63, description="Only codes usable under this service type")
    ] = None,
    active: Annotated[bool | None, Query(description="Only active (true) or inactive (false) codes")] = None,
) -> list[MeasureCodeOut]:
    return await service.measure_codes(session, service_type=service_type, active=active)


@router.post("/measure-codes", summary="Add a measure code (409 if it exists)", status_code=201)
async def add_measure_code(body: MeasureCodeNew, session: SessionDep, _: Admin) -> MeasureCodeOut:
    return await service.add_measure_code(session, body)


@router.put("/measure-codes/{code}", summary="Add or change a measure code and its time norm")
async def put_measure_code(
    code: MeasureCodePath, body: MeasureCodeIn, session: SessionDep, _: Admin
) -> MeasureCodeOut:
    return await service.put_measure_code(session, code, body)


@router.put("/case-offices/{code}", summary="Add or change a case office")
async def put_case_office(code: Code, body: CaseOfficeIn, session: SessionDep, _: Admin) -> CaseOfficeOut:
    return await service.put_case_office(session, code, body)
