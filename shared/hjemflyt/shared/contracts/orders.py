"""Events of the notifications service: orders (see events.py for the envelope rules).

An order is one decision's services for one provider; it changes with the decision's
versions, pauses while the person is admitted, and ends. These events are pseudonymous:
the order's content (name, identity number, address) goes only to the provider.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
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


class MeasureChange(EventData):
    """One measure before and after an adjustment (`*_from` is None for a new measure)."""

    times_from: int | None = None
    times_to: int
    per_from: str | None = Field(default=None, description="day | week | month | quarter | year")
    per_to: str
    minutes_from: int | None = None
    minutes_to: int | None = None
    content_changed: bool = Field(default=False, description="The provider described a change of content")


class OrderAdjusted(EventData):
    """The provider adjusted an order inside the decision's bounds (trust model / friere
    faglighet): frequency, time or content of one measure, logged with its reason. No
    names or identity numbers; the reason is the provider's free text (no personal data)."""

    order_id: UUID
    decision_id: UUID
    decision_version: int
    person_id: UUID
    provider_org: str
    district: str
    adjustment_id: UUID
    service_type: str
    measure_code: str | None = None
    measure_description: str = Field(description="The measure as the order names it (or the new measure)")
    new_measure: bool = Field(default=False, description="A measure the order did not hold (content change)")
    change: MeasureChange
    planned_hours_before: Decimal | None = Field(
        default=None, description="Planned hours per month of the service before (measures with minutes)"
    )
    planned_hours_after: Decimal | None = None
    reason: str = Field(description="Why the provider adjusted (free text, no personal data)")
    adjusted_at: datetime


class AdjustmentOverruled(EventData):
    """The case office overruled a provider's adjustment: the body with decision authority
    wins. The provider was sent an `adjustment.overruled` message to acknowledge."""

    adjustment_id: UUID
    order_id: UUID
    decision_id: UUID
    person_id: UUID
    provider_org: str
    district: str
    service_type: str
    measure_code: str | None = None
    measure_description: str
    decided_by: str = Field(
        description="The level whose decision stands: case_office | unit_head | head_of_services"
    )
    escalation_path: list[str] = Field(description="The levels the disagreement went through, in order")
    message_id: UUID
    overruled_at: datetime


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
ORDER_ADJUSTED = register(
    EventType(
        "notifications",
        "order",
        "adjusted",
        1,
        OrderAdjusted,
        "The provider adjusted a measure of the order inside the decision's bounds, with its reason.",
    )
)
ADJUSTMENT_OVERRULED = register(
    EventType(
        "notifications",
        "adjustment",
        "overruled",
        1,
        AdjustmentOverruled,
        "The case office overruled a provider's adjustment; the provider was told.",
    )
)
