from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from pydantic import BaseModel

from hjemflyt.shared.contracts.events import DecidedService, OrderRecipient


class OrderOut(BaseModel):
    id: UUID
    kind: str
    status: str
    decision_id: UUID
    decision_version: int
    provider_org: str
    district: str
    recipient: OrderRecipient
    services: list[DecidedService]
    start_date: date
    end_date: date | None
    case_office_contact: str | None
    created_at: datetime
