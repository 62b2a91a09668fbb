from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field


class ServiceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    service_code: str = Field(
        description="IPLOS service code, e.g. 15 (health services at home)", max_length=4
    )
    hours_per_month: Decimal = Field(max_digits=6, decimal_places=2)
    provider_org: str = Field(pattern=r"^\d{9}$", description="The chosen provider's organisation number")


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    person_id: UUID
    start_date: date
    end_date: date | None = None
    evaluation_date: date | None = None
    services: list[ServiceIn] = Field(max_length=20)


class ServiceOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    service_code: str
    service_name: str
    hours_per_month: Decimal
    provider_org: str


class DecisionOut(BaseModel):
    id: UUID
    version: int
    person_id: UUID
    district: str
    status: str
    decision_date: date
    start_date: date
    end_date: date | None
    evaluation_date: date | None
    made_by: str
    made_at: datetime
    services: list[ServiceOut]
