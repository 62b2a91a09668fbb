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
    basis: str = Field(default="decision", description="decision | assignment")
    recipient: OrderRecipient
    organisation_model: str | None = None
    services: list[DecidedService]
    decision_date: date | None = None
    start_date: date
    end_date: date | None
    evaluation_date: date | None = None
    purpose: str | None = None
    user_goal: str | None = Field(default=None, description="The person's goal, in their own words")
    end_reason: str | None = Field(default=None, description="Why it ends (kind ended)")
    case_office_contact: str | None
    pathway: dict[str, Any] | None = Field(
        default=None, description="The person's pathway when issued: pathway_id, kind, opened_on, planned_end"
    )
    routines: dict[str, Any] | None = Field(default=None, description="The district's routines in force")
    created_at: datetime
    updated_at: datetime | None
    ack: AckOut | None = Field(description="The newest version's acknowledgement")
    delivery: DeliveryOut | None = Field(description="Where the newest message to the provider stands")
