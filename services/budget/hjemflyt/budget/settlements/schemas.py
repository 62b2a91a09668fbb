from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from hjemflyt.budget.deliveries.rules import hours
from hjemflyt.budget.settlements.models import SettlementLine
from hjemflyt.shared.contracts.bounds import MONTH_PATTERN

MONTH = MONTH_PATTERN  # YYYY-MM in 1900..2100 (a year 0000 is no month: contracts.bounds)


class SettlementIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    provider_org: str = Field(pattern=r"^\d{9}$", description="The private provider's organisation number")
    month: str = Field(pattern=MONTH, description="YYYY-MM")


class SettlementOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    provider_org: str
    month: str
    status: str = Field(description="draft | issued (issued: the month is closed, the statement final)")
    lines: int
    amount_ore: int = Field(
        description="What is paid: the sum of the lines' amounts (parts beyond the decisions not approved "
        "are not in them)"
    )
    withheld_ore: int = Field(
        description="The visit lines' parts beyond the persons' decided hours, not approved: not paid"
    )
    created_at: datetime
    calculated_at: datetime
    issued_at: datetime | None


class LineOut(BaseModel):
    line_no: int
    kind: str = Field(description="visit | correction (of a closed month) | adjustment (an accepted dispute)")
    visit_id: str | None = Field(description="The provider's own id of the visit")
    visit_date: date | None
    order_id: uuid.UUID | None
    person_id: uuid.UUID | None = Field(description="Pseudonymous person id (as in the order)")
    service_type: str | None
    planned_hours: Decimal
    actual_hours: Decimal = Field(description="actual_end - actual_start; 0 for a cancelled visit")
    price_ore_per_hour: int | None
    amount_ore: int = Field(
        description="Exact actual duration times price, rounded half up per line; for a correction the "
        "difference to what was settled for the visit before; without the part beyond the decision "
        "unless approved"
    )
    unpriced_reason: str | None = Field(
        description="no-service-type | no-contract-price | outside-agreement | cancelled; null when priced"
    )
    corrects_month: str | None = Field(description="For corrections and adjustments: the month corrected")
    previously_settled_ore: int | None
    dispute_id: uuid.UUID | None
    beyond_decision_hours: Decimal = Field(
        description="The part of the visit beyond what the person's decisions allow in the month (the "
        "visits count against it in delivery order); 0 when within"
    )
    beyond_decision_ore: int = Field(
        description="What that part would earn: left out of amount_ore unless beyond_decision_approved"
    )
    beyond_decision_approved: bool = Field(description="The contract owner approved paying it on the draft")

    @classmethod
    def of(cls, line: SettlementLine) -> LineOut:
        return cls(
            line_no=line.line_no,
            kind=line.kind,
            visit_id=line.visit_id,
            visit_date=line.visit_date,
            order_id=line.order_id,
            person_id=line.person_id,
            service_type=line.service_type,
            planned_hours=hours(line.planned_seconds),
            actual_hours=hours(line.actual_seconds),
            price_ore_per_hour=line.price_ore_per_hour,
            amount_ore=line.amount_ore,
            unpriced_reason=line.unpriced_reason,
            corrects_month=line.corrects_month,
            previously_settled_ore=line.previously_settled_ore,
            dispute_id=line.dispute_id,
            beyond_decision_hours=hours(line.beyond_decision_seconds),
            beyond_decision_ore=line.beyond_decision_ore,
            beyond_decision_approved=line.beyond_decision_approved,
        )


class DisputeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    line_no: int = Field(ge=1)
    reason: str = Field(min_length=1, max_length=4000)
    expected_amount_ore: int | None = Field(
        default=None, description="What the provider's own records give for the line, if it says"
    )


class AnswerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    outcome: Literal["accepted", "rejected"]
    answer: str = Field(min_length=1, max_length=4000)
    adjustment_ore: int | None = Field(
        default=None,
        description="Accepted: the amount to pay (negative: recover) on the next statement; "
        "defaults to expected_amount_ore minus the line's amount",
    )


class DisputeOut(BaseModel):
    id: uuid.UUID
    settlement_id: uuid.UUID
    line_no: int
    provider_org: str
    reason: str
    expected_amount_ore: int | None
    status: str = Field(description="open | accepted | rejected")
    created_at: datetime
    answer: str | None
    adjustment_ore: int | None
    answered_at: datetime | None
    adjusted_in: uuid.UUID | None = Field(description="The statement that paid the adjustment")


class BeyondApprovalIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    person_id: uuid.UUID
    note: str = Field(
        min_length=1, max_length=4000, description="Why it is paid (e.g. confirmed by the case office)"
    )
