"""Event payloads of hjemflyt, one model per event type, and their registration.

Payloads carry a pseudonymous `person_id`, never identity numbers or names, except the
provider order (`order.issued`), which carries exactly what that one provider needs and
is consumed only by the notifications service.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from hjemflyt.shared.contracts.registry import EventType, register


class EventData(BaseModel):
    # Consumers ignore fields they do not know, so producers may add optional fields.
    model_config = ConfigDict(extra="ignore", frozen=True)


class ProviderKind(StrEnum):
    municipal = "municipal"
    private = "private"


# --- notifications -------------------------------------------------------------------


class ProviderRegistered(EventData):
    provider_org: str = Field(pattern=r"^\d{9}$", description="organisasjonsnummer")
    name: str
    kind: ProviderKind
    service_codes: list[str] = Field(description="IPLOS service codes the provider may deliver")
    districts: list[str]
    version: int = Field(ge=1, description="Increases with every change of the provider")


class OrderCreated(EventData):
    order_id: UUID
    decision_id: UUID
    decision_version: int
    person_id: UUID
    provider_org: str
    created_at: datetime


# --- assessment ----------------------------------------------------------------------


class DecidedService(EventData):
    service_code: str = Field(description="IPLOS service code, e.g. 15 = health services at home")
    service_name: str
    hours_per_month: Decimal = Field(ge=0)
    provider_org: str = Field(pattern=r"^\d{9}$")


class DecisionMade(EventData):
    decision_id: UUID
    version: int = Field(ge=1)
    person_id: UUID
    district: str
    decision_date: date
    start_date: date
    end_date: date | None = None
    evaluation_date: date | None = None
    services: list[DecidedService]
    made_at: datetime


class OrderRecipient(EventData):
    """Personal details one provider needs to deliver to the person."""

    identity_number: str
    name: str
    address: str
    phone: str | None = None


class OrderIssued(EventData):
    decision_id: UUID
    decision_version: int
    person_id: UUID
    district: str
    provider_org: str
    recipient: OrderRecipient
    services: list[DecidedService]
    start_date: date
    end_date: date | None = None
    case_office_contact: str | None = None
    issued_at: datetime


PROVIDER_REGISTERED = register(
    EventType(
        "notifications",
        "provider",
        "registered",
        1,
        ProviderRegistered,
        "A provider was registered or changed: what it may deliver and where.",
    )
)
ORDER_CREATED = register(
    EventType(
        "notifications",
        "order",
        "created",
        1,
        OrderCreated,
        "An order for a provider was created from a decision and placed in its inbox.",
    )
)
DECISION_MADE = register(
    EventType(
        "assessment",
        "decision",
        "made",
        1,
        DecisionMade,
        "A decision (vedtak) was made: the services granted, their scope and chosen providers.",
    )
)
ORDER_ISSUED = register(
    EventType(
        "assessment",
        "order",
        "issued",
        1,
        OrderIssued,
        "What one provider needs to deliver a decision, personal details included. "
        "Only the notifications service consumes it.",
        personal_data=True,
    )
)
