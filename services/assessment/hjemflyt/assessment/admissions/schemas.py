from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from hjemflyt.assessment.admissions.rules import InstitutionKind


class AdmissionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    admitted_at: AwareDatetime
    institution_kind: InstitutionKind = InstitutionKind.hospital
    expected_discharge_date: date | None = None


class DischargeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    discharged_at: AwareDatetime


class AdmissionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    person_id: UUID
    district: str
    institution_kind: InstitutionKind
    admitted_at: datetime
    expected_discharge_date: date | None
    discharged_at: datetime | None
    ready_for_discharge_at: datetime | None = Field(
        default=None,
        description="When the hospital says the person is ready for discharge (utskrivningsklar)",
    )
    ready_for_discharge_estimated: bool | None = Field(
        default=None, description="The hospital's time is an estimate (Anslag)"
    )
    cancelled_at: datetime | None = Field(
        default=None, description="The hospital cancelled the admission message: the stay did not happen"
    )
