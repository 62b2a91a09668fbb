from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict

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
