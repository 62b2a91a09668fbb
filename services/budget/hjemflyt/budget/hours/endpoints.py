"""Decided hours per person, provider unit and district: the inputs the financing models use."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field

from hjemflyt.budget.hours import service
from hjemflyt.shared.platform.auth import Principal, Scope
from hjemflyt.shared.platform.deps import LoggedReadDep, SessionDep, requires

router = APIRouter(prefix="/v1", tags=["hours"])
Reader = Annotated[Principal, Depends(requires(Scope.budget_read))]


class ProviderHours(BaseModel):
    provider_org: str | None = Field(description="null: hours whose provider is not chosen yet")
    name: str | None
    kind: str | None
    persons: int
    hours_per_month: Decimal


class DistrictHours(BaseModel):
    district: str
    persons: int
    hours_per_month: Decimal


class PersonHours(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    decision_id: uuid.UUID
    decision_version: int
    service_code: str
    service_type: str | None
    outcome: str = Field(description="granted | partly_granted")
    scope_kind: str
    provider_org: str | None
    hours_per_month: Decimal
    start_date: date
    end_date: date | None
    frame_min_hours: Decimal | None = Field(description="A frame's minimum (scope_kind frame)")
    frame_max_hours: Decimal | None = Field(description="A frame's maximum (scope_kind frame)")
    measures: list[dict[str, Any]] = Field(
        description="The ordered measures: code, description, times, per (day | week | month | quarter | "
        "year), minutes"
    )


@router.get("/providers/hours", summary="Decided hours per month per provider unit")
async def hours_per_provider(session: SessionDep, _: Reader) -> list[ProviderHours]:
    rows = await service.per_provider(session)
    return [
        ProviderHours(provider_org=org, name=name, kind=kind, persons=persons, hours_per_month=hours)
        for org, name, kind, persons, hours in rows
    ]


@router.get("/districts/hours", summary="Decided hours per month and persons per district")
async def hours_per_district(session: SessionDep, principal: Reader) -> list[DistrictHours]:
    rows = await service.per_district(session, principal)
    return [
        DistrictHours(district=district, persons=persons, hours_per_month=hours)
        for district, persons, hours in rows
    ]


@router.get("/persons/{person_id}/hours", summary="A person's decided hours per service")
async def hours_for_person(
    person_id: uuid.UUID, session: SessionDep, _: Reader, log_read: LoggedReadDep
) -> list[PersonHours]:
    return [PersonHours.model_validate(h) for h in await service.for_person(session, person_id, log_read)]
