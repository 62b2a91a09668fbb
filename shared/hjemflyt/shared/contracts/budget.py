"""Events of the budget service: allocations, redistributions and provider settlements.

Money in øre. No persons: these are figures per unit and per provider.
"""

from __future__ import annotations

from datetime import date, datetime
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
