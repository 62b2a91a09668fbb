from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints, TypeAdapter

MAX_VISITS = 100_000
# 100,000 visits of ~350 bytes each, with room for long measure lists.
MAX_BODY_BYTES = 64 * 1024 * 1024
BATCH_ID_PATTERN = r"^[A-Za-z0-9._:-]{1,100}$"

Code = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._:-]{1,40}$")]


class CancelCause(StrEnum):
    user_not_home = "user_not_home"
    user_cancelled = "user_cancelled"
    admitted = "admitted"
    provider_cancelled = "provider_cancelled"
    other = "other"


class VisitIn(BaseModel):
    """One visit. A visit that took place has actual times and a staff id; a cancelled one
    has a cause (and actual times only if someone came, e.g. the user was not home)."""

    model_config = ConfigDict(extra="forbid")

    visit_id: str = Field(
        pattern=r"^[A-Za-z0-9._:-]{1,100}$",
        description="Your own id of the visit, unique in your organisation",
    )
    order_id: UUID
    planned_start: AwareDatetime
    planned_end: AwareDatetime
    actual_start: AwareDatetime | None = None
    actual_end: AwareDatetime | None = None
    staff_id: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9._:-]{1,64}$",
        description="Pseudonymous staff id (never a name or an identity number)",
    )
    measures_done: list[Code] = Field(
        default_factory=list,
        max_length=50,
        description="Codes of the measures done on the visit: the municipality's measure catalogue codes "
        "as the order sends them with each measure (e.g. shower, wound-care), once for each time a "
        "measure was done",
    )
    cancelled: bool = False
    cancel_cause: CancelCause | None = Field(default=None, description="Required if and only if cancelled")
    service_type: Code | None = Field(
        default=None,
        description="The service type code the visit delivered: one of the order's service types. "
        "May be left out when the order holds one service type (it is filled in); needed for a "
        "visit to be priced in the monthly settlement when the order holds several",
    )


class VisitBatchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    visits: list[VisitIn] = Field(min_length=1, max_length=MAX_VISITS)


BATCH = TypeAdapter(VisitBatchIn)
VISITS = TypeAdapter(list[VisitIn])


class VisitBatchReceipt(BaseModel):
    batch_id: str
    provider_org: str
    visits: int
    cancelled: int
    orders: int
    persons: int
    first_planned_start: datetime
    last_planned_start: datetime
    content_sha256: str = Field(description="Of the batch's visits as understood (not the raw bytes)")
    events: int = Field(description="`visits.reported` events published for the batch")
    received_at: datetime


class VisitOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    visit_id: str
    batch_id: str
    order_id: UUID
    planned_start: datetime
    planned_end: datetime
    actual_start: datetime | None
    actual_end: datetime | None
    staff_id: str | None
    measures_done: list[str]
    cancelled: bool
    cancel_cause: str | None
    reported_at: datetime
