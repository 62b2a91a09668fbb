from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from hjemflyt.assessment.appeals.rules import AppealStatus, Awaiting, FinalOutcome, MunicipalityOutcome


class AppealIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    decision_id: UUID
    received_date: date | None = Field(
        default=None, description="When the municipality received the appeal (default: today, Norway)"
    )
    grounds: str = Field(
        min_length=1, max_length=20000, description="What the person appeals and why, in their words"
    )


class MunicipalityDecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    outcome: MunicipalityOutcome = Field(
        description="upheld: the decision stands and the appeal goes to the appeal body; "
        "changed/reversed: the person is given (part of) what they asked and the appeal is closed"
    )
    reasoning: str = Field(min_length=1, max_length=20000, description="The municipality's reasons")
    decided_date: date
    new_decision_id: UUID | None = Field(
        default=None, description="The new decision of the same person that gives what was asked"
    )


class FinalOutcomeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    outcome: FinalOutcome = Field(
        description="The appeal body's outcome; returned: sent back for a new assessment"
    )
    decided_date: date


class AppealOut(BaseModel):
    id: UUID
    version: int
    decision_id: UUID
    person_id: UUID
    district: str
    status: AppealStatus
    awaiting: Awaiting | None = Field(description="What the open appeal waits for; null when closed")
    received_date: date
    deadline_date: date | None
    late: bool = Field(description="Received after the deadline: flagged, never refused (fvl. § 31)")
    grounds: str
    municipality_outcome: MunicipalityOutcome | None
    municipality_decided_date: date | None
    municipality_reasoning: str | None
    new_decision_id: UUID | None
    forwarded_date: date | None
    appeal_body: str | None
    final_outcome: FinalOutcome | None
    final_date: date | None
    answered_date: date | None = Field(description="When the appeal was answered (IPLOS)")
    registered_by: str
    created_at: datetime
