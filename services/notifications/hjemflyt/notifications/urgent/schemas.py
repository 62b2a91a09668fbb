from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, model_validator


class Urgency(StrEnum):
    immediate = "immediate"
    within_hours = "within_hours"
    today = "today"


class UrgentRequestIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    order_id: UUID = Field(description="The provider's active order for the person")
    reason: str = Field(min_length=1, max_length=4000)
    urgency: Urgency
    requested_action: str = Field(min_length=1, max_length=4000)
    respond_within_minutes: int = Field(
        ge=1, le=24 * 60, description="The provider must accept or decline by then"
    )


class UrgentAnswerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    accepted: bool
    note: str | None = Field(default=None, max_length=4000, description="Required when declining")

    @model_validator(mode="after")
    def _declined_needs_note(self) -> UrgentAnswerIn:
        if not self.accepted and not (self.note and self.note.strip()):
            raise ValueError("a declined urgent request needs a note saying why")
        return self


class TrailEntry(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    at: datetime
    actor: str
    role: str
    organisation: str | None
    action: str
    details: dict[str, Any]


class UrgentRequestOut(BaseModel):
    id: UUID
    order_id: UUID
    person_id: UUID
    provider_org: str
    district: str
    reason: str
    urgency: Urgency
    requested_action: str
    respond_within_minutes: int
    respond_by: datetime
    status: str = Field(description="sent | accepted | declined | escalated")
    requested_at: datetime
    accepted: bool | None
    note: str | None
    answered_at: datetime | None
    escalated_at: datetime | None
    message_id: UUID | None
    trail: list[TrailEntry] = Field(default_factory=list)
