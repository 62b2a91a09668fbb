"""Events of the notifications service: orders (see events.py for the envelope rules).

An order is one decision's services for one provider; it changes with the decision's
versions, pauses while the person is admitted, and ends. These events are pseudonymous:
the order's content (name, identity number, address) goes only to the provider.
"""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from pydantic import Field

from hjemflyt.shared.contracts.events import EventData
from hjemflyt.shared.contracts.registry import EventType, register


class OrderChanged(EventData):
    """A new version of a running order was sent to its provider (the decision changed)."""

    order_id: UUID
    decision_id: UUID
    decision_version: int
    person_id: UUID
    provider_org: str
    district: str
    changed: list[str] = Field(description="What changed: services, hours, start_date, end_date ...")
    message_id: UUID
    changed_at: datetime


class OrderAcknowledged(EventData):
    """The provider accepted or rejected a version of an order."""

    order_id: UUID
    decision_id: UUID
    decision_version: int
    person_id: UUID
    provider_org: str
    district: str
    message_id: UUID
    accepted: bool
    reason: str | None = Field(
        default=None, description="The provider's reason for a rejection (free text, no personal details)"
    )
    late: bool = Field(description="Answered after the acknowledgement deadline")
    acknowledged_at: datetime


class OrderPaused(EventData):
    """The person was admitted: the provider was told to pause the order."""

    order_id: UUID
    person_id: UUID
    provider_org: str
    district: str
    admission_id: UUID
    paused_at: datetime


class OrderResumed(EventData):
    """The person came home: the provider was told to resume the order."""

    order_id: UUID
    person_id: UUID
    provider_org: str
    district: str
    admission_id: UUID
    resumed_at: datetime


class OrderEnded(EventData):
    """The decision ended (or was superseded): the provider was told the order ends."""

    order_id: UUID
    decision_id: UUID
    decision_version: int
    person_id: UUID
    provider_org: str
    district: str
    end_date: date | None
    ended_at: datetime


ORDER_CHANGED = register(
    EventType(
        "notifications",
        "order",
        "changed",
        1,
        OrderChanged,
        "A changed order (what changed) was sent to the provider.",
    )
)
ORDER_ACKNOWLEDGED = register(
    EventType(
        "notifications",
        "order",
        "acknowledged",
        1,
        OrderAcknowledged,
        "The provider accepted or rejected (with a reason) a new or changed order.",
    )
)
ORDER_PAUSED = register(
    EventType(
        "notifications",
        "order",
        "paused",
        1,
        OrderPaused,
        "The person was admitted; the provider was told to pause the order.",
    )
)
ORDER_RESUMED = register(
    EventType(
        "notifications",
        "order",
        "resumed",
        1,
        OrderResumed,
        "The person was discharged; the provider was told to resume the order.",
    )
)
ORDER_ENDED = register(
    EventType("notifications", "order", "ended", 1, OrderEnded, "The provider was told the order ends.")
)
