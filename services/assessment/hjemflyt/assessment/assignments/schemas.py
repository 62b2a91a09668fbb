from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from hjemflyt.assessment.assignments.rules import Status
from hjemflyt.assessment.decisions.schemas import MeasureIn


class AssignmentServiceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    service_type: str = Field(max_length=63, description="A code from the service catalogue")
    measures: list[MeasureIn] = Field(
        default_factory=list,
        max_length=50,
        description="By catalogue code, free text or both, as in decisions",
    )


class AssignmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    person_id: UUID
    provider_org: str = Field(pattern=r"^\d{9}$")
    pathway_id: UUID | None = Field(default=None, description="The pathway the person is in (pathway's id)")
    services: list[AssignmentServiceIn] = Field(max_length=20)
    purpose: str | None = Field(default=None, max_length=4000)
    user_goal: str | None = Field(default=None, max_length=4000, description="In the person's own words")
    start_date: date
    end_date: date = Field(description="The last day; at most 14 days from the start, both included")


class AssignmentMeasureOut(BaseModel):
    code: str | None
    description: str
    times: int
    per: str
    minutes: int | None


class AssignmentServiceOut(BaseModel):
    service_type: str
    service_name: str
    service_code: str
    hours_per_month: Decimal
    measures: list[AssignmentMeasureOut]


class AssignmentOut(BaseModel):
    id: UUID
    version: int
    status: Status
    person_id: UUID
    district: str
    provider_org: str
    pathway_id: UUID | None
    services: list[AssignmentServiceOut]
    purpose: str | None
    user_goal: str | None
    start_date: date
    end_date: date
    planned_end_date: date
    end_reason: str | None
    superseded_by: UUID | None
    created_by: str
    created_at: datetime
    ended_at: datetime | None


class AssignmentEndIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    end_date: date | None = Field(default=None, description="The last day measures ran; default today")
    reason: Literal["ended", "masters_daily_life", "deceased", "moved", "nursing_home", "own_wish"] = "ended"
