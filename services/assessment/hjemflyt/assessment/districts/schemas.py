from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from hjemflyt.assessment.districts.models import OrganisationModel


class DistrictIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    organisation_model: OrganisationModel
    case_office: str = Field(min_length=1, max_length=200, description="Who users and providers contact")


class DistrictOut(DistrictIn):
    model_config = ConfigDict(from_attributes=True)

    code: str
