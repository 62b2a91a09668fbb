from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict


class MessageOut(BaseModel):
    """A national health message and its state: pending, sent, ok, rejected (with the
    receiver's reason), invalid (never sent) or received."""

    model_config = ConfigDict(from_attributes=True)

    id: UUID
    msg_id: str
    direction: str
    msg_type: str
    shipment: str | None
    status: str
    person_id: UUID | None
    decision_id: UUID | None
    counterpart_her_id: str | None
    refers_to: str | None
    created_at: datetime
    sent_at: datetime | None
    receipt_at: datetime | None
    receipt_reason: str | None


class TaskOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    kind: str
    message_id: UUID | None
    person_id: UUID | None
    decision_id: UUID | None
    district: str | None
    detail: str
    created_at: datetime
    resolved_at: datetime | None
