from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, model_validator

from hjemflyt.notifications.adjustments.rules import EscalationLevel, Per


class PlanIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    times: int | None = Field(default=None, ge=1, le=1000, description="How many times per `per`")
    per: Per | None = None
    minutes: int | None = Field(default=None, ge=1, le=1440, description="Minutes each time")


class MeasureRef(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str | None = Field(default=None, min_length=1, max_length=50, description="Catalogue code")
    description: str | None = Field(
        default=None, min_length=1, max_length=500, description="As the order describes it (uncoded measures)"
    )

    @model_validator(mode="after")
    def named(self) -> MeasureRef:
        if self.code is None and self.description is None:
            raise ValueError("name the measure by code or description")
        return self


class AdjustmentIn(BaseModel):
    """One adjustment of one measure: frequency (times/per), minutes and/or content."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    adjustment_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=100,
        pattern=r"^[A-Za-z0-9._:-]+$",
        description="Your own id for this adjustment: sending it again returns the same record",
    )
    service_type: str = Field(
        min_length=1, max_length=50, description="As on the order (or its service_code)"
    )
    measure: MeasureRef
    new_measure: bool = Field(
        default=False, description="A measure the order does not hold (a content change)"
    )
    from_: PlanIn | None = Field(
        default=None, alias="from", description="How the measure runs now, as you see it (checked if sent)"
    )
    to: PlanIn = Field(default_factory=PlanIn, description="What changes; omitted fields stay as they are")
    content: str | None = Field(
        default=None, min_length=1, max_length=2000, description="A change of content, in words"
    )
    reason: str = Field(min_length=1, max_length=1000, description="Why (no personal data)")


class MeasureOut(BaseModel):
    code: str | None
    description: str
    times: int
    per: str
    minutes: int | None


class BoundsOut(BaseModel):
    scope_kind: str
    min_hours: Decimal | None
    max_hours: Decimal | None


class OverruleOut(BaseModel):
    overruled_at: datetime
    reason: str
    instruction: str | None
    decided_by: EscalationLevel
    escalation_path: list[EscalationLevel]
    message_id: UUID | None


class AdjustmentOut(BaseModel):
    id: UUID
    adjustment_id: str | None = Field(description="The provider's own id, if it gave one")
    order_id: UUID
    decision_id: UUID
    decision_version: int
    person_id: UUID
    provider_org: str
    district: str
    service_type: str
    measure_code: str | None
    measure_description: str
    new_measure: bool
    before: MeasureOut | None
    after: MeasureOut
    content: str | None
    reason: str
    planned_hours_before: Decimal | None = Field(
        description="Planned hours a month of the service (known minutes)"
    )
    planned_hours_after: Decimal | None
    bounds: BoundsOut
    status: str = Field(description="in_force | overruled")
    adjusted_at: datetime
    overrule: OverruleOut | None


class OverruleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=2000, description="Why the adjustment is overruled")
    decided_by: EscalationLevel = Field(
        default=EscalationLevel.case_office, description="The level with decision authority that decided"
    )
    escalation_path: list[EscalationLevel] = Field(
        default_factory=list,
        max_length=3,
        description="The levels the disagreement went through, lowest first, ending with `decided_by` "
        "(default: just `decided_by`)",
    )
    instruction: str | None = Field(
        default=None,
        max_length=2000,
        description="What the provider does now (default: as before the adjustment)",
    )
