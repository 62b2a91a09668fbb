from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

from pydantic import BaseModel, Field, model_validator

from hjemflyt.budget.financing.rules import RuleSetBody


class SimulationIn(BaseModel):
    baseline_rule_set_id: uuid.UUID | None = Field(
        default=None, description="A stored rule set version; default: the adopted one in force on `on`"
    )
    alternative: RuleSetBody | None = Field(default=None, description="The rule set to try, inline")
    alternative_rule_set_id: uuid.UUID | None = Field(
        default=None, description="Or a stored rule set version (saved and never adopted, say)"
    )
    on: date | None = Field(default=None, description="The population and the baseline as of; default today")
    limit: int = Field(default=50, ge=0, le=1000, description="Gainers and losers listed, each")
    offset: int = Field(default=0, ge=0, description="Skip this many of the gainers and of the losers")

    @model_validator(mode="after")
    def _one_alternative(self) -> SimulationIn:
        if (self.alternative is None) == (self.alternative_rule_set_id is None):
            raise ValueError("give exactly one of alternative and alternative_rule_set_id")
        return self


class RuleSetRef(BaseModel):
    rule_set_id: uuid.UUID | None = Field(description="null: an inline alternative")
    name: str
    valid_from: date


class UnitChange(BaseModel):
    provider_org: str
    name: str | None
    kind: str
    persons: int
    before_ore: int
    after_ore: int
    difference_ore: int


class PersonChange(BaseModel):
    person_id: uuid.UUID = Field(description="Pseudonymous")
    provider_org: str
    district: str
    hours_per_month: Decimal = Field(description="Decided hours per month at the unit, unweighted")
    weighted_hours_before: Decimal | None = Field(description="Levels only: with the baseline's weights")
    weighted_hours_after: Decimal | None = Field(description="Levels only: with the alternative's weights")
    level_before: str | None
    level_after: str | None
    model_before: str
    model_after: str
    before_ore: int
    after_ore: int
    difference_ore: int


class Totals(BaseModel):
    persons: int = Field(description="Persons at units (a person at two units counts twice)")
    before_ore: int
    after_ore: int
    difference_ore: int
    gainers: int
    losers: int
    unchanged: int
    gained_ore: int = Field(description="Sum of the gains")
    lost_ore: int = Field(description="Sum of the losses (negative)")


class SimulationOut(BaseModel):
    on: date
    baseline: RuleSetRef
    alternative: RuleSetRef
    totals: Totals
    units: list[UnitChange]
    levels_before: dict[str, int] = Field(description="Persons per level under the baseline")
    levels_after: dict[str, int] = Field(description="Persons per level under the alternative")
    flagged: dict[str, int] = Field(description="Persons whose amount is 0 or short, per reason")
    gains: list[PersonChange] = Field(description="Biggest gain first")
    losses: list[PersonChange] = Field(description="Biggest loss first")
    limit: int
    offset: int


class PersonNearEdge(BaseModel):
    person_id: uuid.UUID
    provider_org: str
    weighted_hours: Decimal


class EdgeOut(BaseModel):
    from_level: str
    to_level: str
    edge_hours: Decimal
    step_ore: int = Field(description="Annual amount of the upper level minus the lower one")
    below: int = Field(description="Persons in [edge - within, edge): would gain the step")
    above: int = Field(description="Persons in [edge, edge + within): would lose the step")
    at_stake_below_ore: int
    at_stake_above_ore: int
    at_stake_ore: int = Field(description="(below + above) * step")
    persons_below: list[PersonNearEdge] = Field(description="Nearest the edge first, at most `limit`")
    persons_above: list[PersonNearEdge]


class LevelsPartOut(BaseModel):
    applies_to: list[str]
    persons: int
    edges: list[EdgeOut]


class CliffsOut(BaseModel):
    rule_set: RuleSetRef
    on: date
    within_hours: Decimal
    parts: list[LevelsPartOut]
