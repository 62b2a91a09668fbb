from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from hjemflyt.budget.financing.rules import RuleSetBody


class RuleSetIn(RuleSetBody):
    key: str = Field(
        pattern=r"^[a-z0-9][a-z0-9-]{0,62}$",
        description="The set's name in URLs and simulations; each save makes a new version of it",
    )


class Cliff(BaseModel):
    from_level: str
    to_level: str
    step_ore: int = Field(description="Annual amount of the upper level minus the lower one, øre")
    step_percent: str | None = Field(description="The step as % of the lower level's amount")


class RuleSetOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    key: str
    version: int
    name: str
    valid_from: date
    body: RuleSetBody
    created_at: datetime
    created_by: str
    adopted_at: datetime | None
    adopted_by: str | None
    annual_ore_per_level: dict[str, int] = Field(
        default_factory=dict, description="The levels part: each level's annual amount per person, øre"
    )
    cliffs: list[Cliff] = Field(
        default_factory=list, description="The levels part: the step at each band edge"
    )
