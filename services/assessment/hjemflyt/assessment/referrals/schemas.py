from __future__ import annotations

from datetime import date, datetime
from typing import Annotated
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from hjemflyt.assessment.referrals.rules import ApplicationStatus, ReferralStatus, Source, Task

# Checked against the municipality's catalogue by the service (unknown-service-type).
ServiceTypeCode = Annotated[str, Field(min_length=1, max_length=63)]


class ReferralIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    source: Source
    person_id: UUID = Field(description="A registered person (POST /v1/persons) you may see")
    summary: str = Field(min_length=1, max_length=10_000, description="What is asked for, and why")
    requested_services: list[ServiceTypeCode] = Field(
        default_factory=list,
        max_length=20,
        description="Service type codes of the municipality's catalogue, e.g. home-nursing",
    )
    sender_name: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="The GP, hospital or emergency GP service, or the next of kin's name",
    )
    sender_her_id: str | None = Field(
        default=None, pattern=r"^\d{1,9}$", description="HER-id (Adresseregisteret) of a health service"
    )
    sender_organisation: str | None = Field(
        default=None, max_length=20, description="organisasjonsnummer (9 digits) of a health service"
    )
    received_at: AwareDatetime | None = Field(
        default=None, description="When it reached the municipality (default: now); not in the future"
    )


class ReferralOut(BaseModel):
    id: UUID
    person_id: UUID
    district: str
    source: Source
    status: ReferralStatus
    received_at: datetime
    summary: str
    requested_services: list[str]
    sender_name: str | None
    sender_her_id: str | None
    sender_organisation: str | None
    plo_message_id: str | None = Field(description="MsgId of the PLO message it came in, if any")
    plo_message_type: str | None
    registered_by: str


class PloReferralOut(ReferralOut):
    person_registered: bool = Field(description="The patient was unknown and was registered from the message")
    duplicate: bool = Field(description="This message was received before; nothing new was stored")


class ApplicationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    person_id: UUID
    referral_id: UUID | None = Field(
        default=None, description="The referral it comes from; its status becomes `application`"
    )
    services: list[ServiceTypeCode] | None = Field(
        default=None,
        max_length=20,
        description="Service type codes applied for; default: the referral's requested services",
    )
    description: str = Field(min_length=1, max_length=10_000)
    received_date: date | None = Field(
        default=None, description="When the municipality received it (the clock starts); default today"
    )


class PreliminaryReplyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=2000, description="Why the case takes longer")
    expected_decision_date: date = Field(description="When a decision is expected; after today")


class PreliminaryReplyOut(BaseModel):
    sent_date: date
    reason: str
    expected_decision_date: date | None


class ApplicationOut(BaseModel):
    id: UUID
    person_id: UUID
    district: str
    referral_id: UUID | None
    status: ApplicationStatus
    received_date: date
    deadline_date: date = Field(description="Undecided after this day, a preliminary reply is due")
    services: list[str]
    description: str
    preliminary_reply: PreliminaryReplyOut | None
    decided_at: datetime | None
    registered_by: str
    created_at: datetime


class OverdueApplication(ApplicationOut):
    days_overdue: int = Field(description="Days since the deadline passed")
    task: Task
