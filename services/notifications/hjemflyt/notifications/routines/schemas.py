from __future__ import annotations

from datetime import date, datetime
from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from hjemflyt.notifications.routines.rules import RoutineKind, VersionStatus

Code = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")]
Title = Annotated[str, Field(min_length=1, max_length=300)]
Body = Annotated[str, Field(min_length=1, max_length=100_000)]


class RoutineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: RoutineKind
    key: Code = Field(description="Overrides share the template's key, e.g. on-call-numbers")
    district: Code | None = Field(default=None, description="None: a municipality-wide template")
    title: Title
    body: Body


class VersionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: Title
    body: Body


class VersionPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: Title | None = None
    body: Body | None = None


class CommentPeriodIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    until: date = Field(description="Last day providers may comment")


class CommentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=10_000)


class CommentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    provider_org: str
    author: str
    text: str
    created_at: datetime


class AcknowledgementOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    provider_org: str
    version_id: UUID
    message_id: UUID
    district: str | None
    status: str = Field(description="awaiting | accepted | rejected | superseded")
    ack_deadline: datetime
    acknowledged_at: datetime | None
    reason: str | None
    reminders_sent: int
    last_reminded_at: datetime | None


class VersionOut(BaseModel):
    id: UUID
    number: int
    status: VersionStatus
    title: str
    body: str
    comment_until: date | None
    created_at: datetime
    created_by: str
    updated_at: datetime
    published_at: datetime | None
    acknowledgements: list[AcknowledgementOut] = Field(default_factory=list)


class RoutineOut(BaseModel):
    id: UUID
    kind: RoutineKind
    key: str
    district: str | None
    created_at: datetime
    versions: list[VersionOut]


class RoutineSummary(BaseModel):
    id: UUID
    kind: RoutineKind
    key: str
    district: str | None
    published_number: int | None
    published_at: datetime | None


class EffectiveRoutine(BaseModel):
    routine_id: UUID
    version_id: UUID
    kind: RoutineKind
    key: str
    district: str | None = Field(description="None: the municipality-wide template applies")
    number: int
    title: str
    body: str
    published_at: datetime


class EffectiveSet(BaseModel):
    district: str
    version: int = Field(description="Increases with every publication that affects the district")
    published_at: datetime | None
    routines: list[EffectiveRoutine]
