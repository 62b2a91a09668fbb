"""Events of the budget service: allocations, redistributions, provider settlements and
deliveries flagged against the decision.

Money in øre. Persons only by their pseudonymous id (delivery.flagged): no names, no
identity numbers.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from uuid import UUID

from pydantic import BaseModel, Field

from hjemflyt.shared.contracts.events import EventData
from hjemflyt.shared.contracts.registry import EventType, register


class UnitAmount(BaseModel):
    provider_org: str
    amount_ore: int


class AllocationMade(EventData):
    """An allocation of the year's frame among units was made or recomputed."""

    allocation_id: UUID
    year: int
    budgeting_date: date
    rule_set_id: UUID
    frame_ore: int
    units: list[UnitAmount]
    general_ore: int = Field(description="The general part (not allocated by users)")
    buffer_ore: int = Field(description="The buffer's balance after this allocation")
    reason: str = Field(description="budgeting | tertial-2 | tertial-3 | redistribution | ...")
    made_at: datetime


class RedistributionApproved(EventData):
    """A manager approved a redistribution: the base rate lowered, money moved between units."""

    redistribution_id: UUID
    allocation_id: UUID
    moved_ore: int
    units: list[UnitAmount] = Field(description="The change per unit (negative: money taken)")
    approved_at: datetime


class SettlementIssued(EventData):
    """A monthly statement for a private provider was issued; the month is closed."""

    settlement_id: UUID
    provider_org: str
    month: str = Field(pattern=r"^\d{4}-\d{2}$")
    lines: int
    amount_ore: int
    issued_at: datetime
    # Added with decided versus delivered (issue 12); 0 from statements issued before it.
    withheld_ore: int = Field(
        default=0, description="Parts of visits beyond the persons' decisions, not approved: not paid"
    )


class DeliveryFlagged(EventData):
    """A month's delivery to a person at a provider lies far from the decision: above the
    decided hours or the frame's maximum, or far below them (under half of the decided
    hours, or under the frame's minimum). Raised once per person, provider, month and kind,
    after the month is over (when the provider's statement is issued, or by budget's sweep a
    few days after the month's end); the case office follows it up on its worklist."""

    flag_id: UUID = Field(
        description="Derived from person, provider, month and kind: the same flag, the same id"
    )
    person_id: UUID
    district: str
    provider_org: str
    month: str = Field(pattern=r"^\d{4}-\d{2}$")
    kind: str = Field(description="above_hours | above_frame_max | below_half_hours | below_frame_min")
    decided_hours: Decimal = Field(description="Decided hours in the month (a frame at its maximum)")
    frame_min_hours: Decimal | None = Field(default=None, description="The frame's minimum in the month")
    frame_max_hours: Decimal | None = Field(default=None, description="The frame's maximum in the month")
    delivered_hours: Decimal = Field(description="Hours delivered on visits in the month")
    flagged_at: datetime


ALLOCATION_MADE = register(
    EventType(
        "budget",
        "allocation",
        "made",
        1,
        AllocationMade,
        "The year's frame was allocated among provider units (at the budgeting date or a tertial).",
    )
)
REDISTRIBUTION_APPROVED = register(
    EventType(
        "budget",
        "redistribution",
        "approved",
        1,
        RedistributionApproved,
        "A manager approved moving money to level and focus users by lowering the base rate.",
    )
)
SETTLEMENT_ISSUED = register(
    EventType(
        "budget",
        "settlement",
        "issued",
        1,
        SettlementIssued,
        "A private provider's monthly statement was issued from delivered visits and contract prices.",
    )
)
DELIVERY_FLAGGED = register(
    EventType(
        "budget",
        "delivery",
        "flagged",
        1,
        DeliveryFlagged,
        "A person's delivered hours in a month lie above the decision or far below it.",
    )
)
