"""Hospital and institution stays: admit, discharge, list (they pause home services)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends

from hjemflyt.assessment.admissions import service
from hjemflyt.assessment.admissions.schemas import AdmissionIn, AdmissionOut, DischargeIn
from hjemflyt.shared.platform.auth import Principal, Scope
from hjemflyt.shared.platform.deps import ContextDep, SessionDep, requires

router = APIRouter(tags=["admissions"])
Reader = Annotated[Principal, Depends(requires(Scope.persons_read))]
Writer = Annotated[Principal, Depends(requires(Scope.persons_write))]


@router.post(
    "/v1/persons/{person_id}/admissions",
    status_code=201,
    summary="Record an admission to hospital or an institution (home services pause)",
    responses={
        404: {"description": "No such person, or not in your districts"},
        409: {"description": "`already-admitted`: an open admission exists"},
        422: {"description": "`admission-in-future` or a payload error"},
    },
)
async def admit(
    person_id: uuid.UUID, body: AdmissionIn, ctx: ContextDep, session: SessionDep, principal: Writer
) -> AdmissionOut:
    return AdmissionOut.model_validate(await service.admit(ctx, session, principal, person_id, body))


@router.post(
    "/v1/admissions/{admission_id}/discharge",
    summary="Record the discharge home (paused home services resume)",
    responses={
        404: {"description": "No such admission, or not in your districts"},
        409: {"description": "`already-discharged`, `admission-cancelled` (the hospital cancelled it)"},
        422: {"description": "`discharge-before-admission`, `discharge-in-future`"},
    },
)
async def discharge(
    admission_id: uuid.UUID, body: DischargeIn, ctx: ContextDep, session: SessionDep, principal: Writer
) -> AdmissionOut:
    return AdmissionOut.model_validate(await service.discharge(ctx, session, principal, admission_id, body))


@router.get("/v1/persons/{person_id}/admissions", summary="The person's stays, newest first")
async def list_admissions(
    person_id: uuid.UUID, ctx: ContextDep, session: SessionDep, principal: Reader
) -> list[AdmissionOut]:
    return [
        AdmissionOut.model_validate(a)
        for a in await service.list_for_person(ctx, session, principal, person_id)
    ]
