from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

StaffId = Field(pattern=r"^[A-Za-z0-9._:-]{1,64}$", description="Pseudonymous staff id")


class PrimaryContact(BaseModel):
    model_config = ConfigDict(extra="forbid")

    staff_id: str = StaffId
    name: str = Field(min_length=1, max_length=200)
    phone: str = Field(pattern=r"^\+?[0-9][0-9 ]{6,19}$", description="e.g. +47 22 00 00 00")


class StartIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    started_on: date
    primary_contact: PrimaryContact


class StartOut(BaseModel):
    order_id: UUID
    order_version: int
    person_id: UUID
    provider_org: str
    district: str
    started_on: date
    primary_contact: PrimaryContact
    confirmed_at: datetime


class Severity(StrEnum):
    low = "low"
    medium = "medium"
    high = "high"
    critical = "critical"


class DeviationCategory(StrEnum):
    medication = "medication"
    fall = "fall"
    missed_visit = "missed_visit"
    late_visit = "late_visit"
    hygiene = "hygiene"
    nutrition = "nutrition"
    violence_or_threat = "violence_or_threat"
    privacy = "privacy"
    equipment = "equipment"
    documentation = "documentation"
    cooperation = "cooperation"
    other = "other"


class DeviationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    severity: Severity
    category: DeviationCategory
    description: str = Field(min_length=1, max_length=4000)
    occurred_at: AwareDatetime


class DeviationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    order_id: UUID
    person_id: UUID
    provider_org: str
    district: str
    severity: Severity
    category: DeviationCategory
    description: str
    occurred_at: datetime
    reported_at: datetime
    task_opened: bool = False


class MastersDailyLifeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    observed_on: date
    note: str = Field(min_length=1, max_length=4000, description="What shows that the person masters this")


class MastersDailyLifeOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    order_id: UUID
    person_id: UUID
    provider_org: str
    district: str
    observed_on: date
    note: str
    reported_at: datetime
