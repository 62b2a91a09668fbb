from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field


class AllocationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    year: int = Field(ge=2000, le=2100)
    budgeting_date: date = Field(description="The date whose decided hours set each user's level")
    frame_ore: int = Field(description="The year's frame for home care in øre; above 0")
    rule_set_id: uuid.UUID | None = Field(
        default=None, description="Default: the rule set in force on the budgeting date"
    )


class UnitLine(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    provider_org: str
    kind: str
    model: str = Field(description="levels | hourly | frame | activity | none: the part financing it")
    persons: int
    persons_per_level: dict[str, int] = Field(description="Levels model: persons per band")
    focus_persons: int = Field(description="Decided hours above the focus threshold")
    need_ore: int = Field(description="The annual need the unit is funded for (never lowered in the year)")
    amount_ore: int = Field(description="The unit's allocation for the year")
    unfunded_ore: int = Field(description="Growth the buffer could not pay, awaiting a redistribution")
    notes: list[str]


class AllocationOut(BaseModel):
    id: uuid.UUID
    year: int
    budgeting_date: date
    rule_set_id: uuid.UUID
    tertial: int = Field(description="The latest tertial computed: 1 = the budgeting date")
    version: int
    frame_ore: int
    units: list[UnitLine]
    units_ore: int = Field(description="Sum of the unit lines")
    general_ore: int
    buffer_ore: int = Field(description="The buffer's balance")
    total_ore: int = Field(description="Units + general + buffer: always the frame")
    shortfall_ore: int = Field(description="At the budgeting date: needs beyond what the frame left")
    deficit_ore: int = Field(description="Growth not yet funded (sum of the units' unfunded_ore)")
    created_at: datetime
    created_by: str
    updated_at: datetime


class UnitGrowth(BaseModel):
    provider_org: str
    need_before_ore: int
    need_after_ore: int
    levels_growth_ore: int = Field(description="Growth of the annual need for the months left, pro rata")
    focus_ore: int = Field(description="Focus users above the top band in the tertial just ended")
    paid_ore: int = Field(description="Paid from the buffer")
    unfunded_ore: int


class TertialOut(BaseModel):
    tertial: int
    on: date
    remaining_months: int
    focus_months: list[int]
    growth: list[UnitGrowth]
    paid_from_buffer_ore: int
    deficit_ore: int
    notes: list[str]
    allocation: AllocationOut


class BufferEntryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    amount_ore: int = Field(description="+ into the buffer, - out of it")
    balance_ore: int
    provider_org: str | None
    reason: str
    cause: str
    redistribution_id: uuid.UUID | None
    created_by: str
    created_at: datetime


class BufferOut(BaseModel):
    allocation_id: uuid.UUID
    balance_ore: int
    entries: list[BufferEntryOut]


class ChangeOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    line: str = Field(description="A provider_org, general or buffer")
    before_ore: int | None
    after_ore: int
    reason: str
    cause: str
    redistribution_id: uuid.UUID | None
    changed_by: str
    changed_at: datetime


class UnitMoveOut(BaseModel):
    provider_org: str
    base_persons: int
    taken_ore: int = Field(description="Taken from the unit's base users")
    given_ore: int = Field(description="Its unfunded growth, covered")
    change_ore: int


class RedistributionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    allocation_id: uuid.UUID
    allocation_version: int
    tertial: int
    status: str = Field(description="proposed | approved | rejected")
    deficit_ore: int
    base_level: str
    base_persons: int
    cut_per_base_person_ore: int
    base_amount_before_ore: int = Field(description="A base user's annual amount now")
    base_amount_after_ore: int = Field(description="... and after the redistribution")
    moved_ore: int
    to_buffer_ore: int = Field(description="Freed beyond the deficit by the whole-øre cut")
    units: list[UnitMoveOut]
    proposed_at: datetime
    proposed_by: str
    decided_at: datetime | None
    decided_by: str | None
    decision_reason: str | None


class Approval(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: str | None = Field(default=None, max_length=2000)


class Rejection(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=2000)
