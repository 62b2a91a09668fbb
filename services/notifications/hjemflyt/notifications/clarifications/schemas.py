from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field


class Direction(StrEnum):
    provider_to_case_office = "provider_to_case_office"
    case_office_to_provider = "case_office_to_provider"


class ProviderClarificationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    question: str = Field(min_length=1, max_length=4000)
    due_date: date | None = Field(default=None, description="Answer wanted by this day; default in 3 days")


class CaseOfficeClarificationIn(ProviderClarificationIn):
    order_id: UUID


class ClarificationAnswerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    answer: str = Field(min_length=1, max_length=4000)


class ClarificationOut(BaseModel):
    id: UUID
    direction: Direction
    order_id: UUID
    person_id: UUID
    provider_org: str
    district: str
    question: str
    due_date: date
    status: str = Field(description="open | answered")
    asked_at: datetime
    answer: str | None
    answered_at: datetime | None
    overdue: bool = Field(description="Not answered by the due date (a task was opened)")
