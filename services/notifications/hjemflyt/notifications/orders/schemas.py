from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, Field

from hjemflyt.notifications.messages.schemas import AckOut, DeliveryOut
from hjemflyt.shared.contracts.events import DecidedService, OrderRecipient


class OrderOut(BaseModel):
    id: UUID
    kind: str = Field(description="Of the newest version: new | changed | ended")
    status: str = Field(description="sent | accepted | rejected | paused | ended")
    decision_id: UUID
    decision_version: int
    provider_org: str
    person_id: UUID
    district: str
    recipient: OrderRecipient
    services: list[DecidedService]
    start_date: date
    end_date: date | None
    case_office_contact: str | None
    routines: dict[str, Any] | None = Field(default=None, description="The district's routines in force")
    created_at: datetime
    updated_at: datetime | None
    ack: AckOut | None = Field(description="The newest version's acknowledgement")
    delivery: DeliveryOut | None = Field(description="Where the newest message to the provider stands")
