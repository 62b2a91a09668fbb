from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field


class ChangeOfNeedIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    observation: str = Field(min_length=1, max_length=4000, description="What the provider observed")
    proposed_change: str = Field(min_length=1, max_length=4000, description="What the provider proposes")
    evidence: str | None = Field(default=None, max_length=8000, description="e.g. scores, incidents, dates")
    proposed_hours_per_month: Decimal | None = Field(default=None, ge=0, le=744, decimal_places=2)


class Outcome(StrEnum):
    accepted = "accepted"
    partly_accepted = "partly_accepted"
    declined = "declined"
    reassessment_scheduled = "reassessment_scheduled"


class ChangeOfNeedAnswerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    outcome: Outcome
    answer: str = Field(min_length=1, max_length=4000, description="The answer to the provider")


class ChangeOfNeedOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    order_id: UUID
    person_id: UUID
    provider_org: str
    district: str
    observation: str
    proposed_change: str
    evidence: str | None
    proposed_hours_per_month: Decimal | None
    status: str = Field(description="awaiting | answered")
    reported_at: datetime
    outcome: Outcome | None
    answer: str | None
    answered_at: datetime | None
