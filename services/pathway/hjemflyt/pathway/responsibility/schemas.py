from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator

from hjemflyt.pathway.responsibility.rules import Gap, staff_id_problem

STAFF_ID_HELP = "A pseudonymous staff id or staff user id, never a name"


class ResponsibilityIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    service_lead: str = Field(description=f"The service lead (tjenesteansvarlig). {STAFF_ID_HELP}")
    primary_contact: str | None = Field(
        default=None,
        description="The primary contact (primærkontakt) if the municipality names one; otherwise "
        f"those providers named when confirming the start count. {STAFF_ID_HELP}",
    )
    case_officer: str | None = Field(default=None, description=f"The case officer. {STAFF_ID_HELP}")
    team: str | None = Field(default=None, description="The team or unit following the person up (a code)")

    @field_validator("service_lead", "primary_contact", "case_officer", "team")
    @classmethod
    def _staff_id(cls, value: str | None) -> str | None:
        if value is not None and (problem := staff_id_problem(value)) is not None:
            raise ValueError(problem)
        return value


class ProviderContact(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    provider_org: str
    order_id: uuid.UUID
    staff_id: str = Field(description="The provider's pseudonymous staff id")
    started_on: date
    confirmed_at: datetime


class ResponsibilityOut(BaseModel):
    person_id: uuid.UUID
    service_lead: str | None
    primary_contact: str | None = Field(description="As the municipality named it")
    case_officer: str | None
    team: str | None
    provider_contacts: list[ProviderContact] = Field(
        description="Primary contacts providers named on running orders (start confirmations)"
    )
    active_decision: bool = Field(description="The person holds a running or coming decision")
    gaps: list[Gap] = Field(description="What is missing for a person with a running decision")
    updated_at: datetime | None
    updated_by: str | None


class GapOut(BaseModel):
    person_id: uuid.UUID
    district: str
    missing: list[Gap]
    service_lead: str | None
    primary_contact: str | None
    provider_contacts: int


class GapPage(BaseModel):
    items: list[GapOut]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null at the end.")
