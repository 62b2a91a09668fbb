from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, model_validator

from hjemflyt.notifications.messages.models import Message


class WireAck(BaseModel):
    required: bool
    deadline: datetime | None
    status: str | None = Field(
        description="awaiting | accepted | rejected | superseded; null if not required"
    )


class WireMessage(BaseModel):
    """A message as the provider receives it: the webhook body, and an inbox item."""

    id: UUID
    kind: str = Field(
        description="order.new, order.changed, order.paused, order.resumed, order.started, order.ended, ..."
    )
    provider_org: str
    position: int = Field(description="Place in your inbox; pass the last one you have as `after`")
    ordering_key: str = Field(description="The person id, or '*provider' for messages about no person")
    sequence: int = Field(description="Order of the messages with the same ordering_key")
    person_id: UUID | None
    order_id: UUID | None
    reference_id: UUID | None
    created_at: datetime
    ack: WireAck
    data: dict[str, Any] = Field(description="What the message says; for orders, the order")


class InboxPage(BaseModel):
    items: list[WireMessage]
    next_cursor: int = Field(
        description="Pass as `after` next time: the last item's position, or your `after` if there were none"
    )


class AckIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    accepted: bool
    reason: str | None = Field(default=None, min_length=1, max_length=2000, description="Required to reject")

    @model_validator(mode="after")
    def _reason_to_reject(self) -> AckIn:
        if not self.accepted and not (self.reason and self.reason.strip()):
            raise ValueError("a rejection needs a reason")
        return self


class DeliveryOut(BaseModel):
    state: str = Field(description="pending | delivered | dead | inbox")
    attempts: int
    last_error: str | None
    next_attempt_at: datetime | None
    delivered_at: datetime | None
    dead_at: datetime | None
    fetched_at: datetime | None = Field(description="First fetched from the inbox")


class AckOut(BaseModel):
    required: bool
    status: str | None
    deadline: datetime | None
    acknowledged_at: datetime | None
    reason: str | None
    late: bool
    escalated_at: datetime | None


class MessageOut(BaseModel):
    """A message with where its delivery and acknowledgement stand (case office, provider)."""

    id: UUID
    kind: str
    provider_org: str
    district: str | None
    position: int
    ordering_key: str
    sequence: int
    person_id: UUID | None
    order_id: UUID | None
    reference_id: UUID | None
    created_at: datetime
    delivery: DeliveryOut
    ack: AckOut


def ack_out(m: Message) -> AckOut:
    return AckOut(
        required=m.ack_status is not None,
        status=m.ack_status,
        deadline=m.ack_deadline,
        acknowledged_at=m.acked_at,
        reason=m.ack_reason,
        late=bool(m.acked_at and m.ack_deadline and m.acked_at > m.ack_deadline),
        escalated_at=m.escalated_at,
    )


def delivery_out(m: Message) -> DeliveryOut:
    return DeliveryOut(
        state=m.delivery_state,
        attempts=m.attempts,
        last_error=m.last_error,
        next_attempt_at=m.next_attempt_at if m.delivery_state == "pending" else None,
        delivered_at=m.delivered_at,
        dead_at=m.dead_at,
        fetched_at=m.fetched_at,
    )


def message_out(m: Message) -> MessageOut:
    return MessageOut(
        id=m.id,
        kind=m.kind,
        provider_org=m.provider_org,
        district=m.district,
        position=m.position,
        ordering_key=m.ordering_key,
        sequence=m.sequence,
        person_id=m.person_id,
        order_id=m.order_id,
        reference_id=m.reference_id,
        created_at=m.created_at,
        delivery=delivery_out(m),
        ack=ack_out(m),
    )
