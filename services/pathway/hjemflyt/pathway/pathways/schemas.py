"""Request and response models of pathways."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from hjemflyt.pathway.pathways.rules import DateField, DecisionRule, Kind, Outcome, TaskKind


class TemplateIn(BaseModel):
    kind: Kind
    name: str = Field(min_length=1, max_length=200)
    max_days: int | None = Field(default=None, ge=1, le=3650, description="Maximum duration in days")
    max_months: int | None = Field(default=None, ge=1, le=120, description="Maximum duration in months")
    decision_rule: DecisionRule
    decision_after_days: int | None = Field(
        default=None,
        ge=1,
        le=3650,
        description="Only with required_after_days: a decision is required from this day",
    )
    start_checklist: list[str] = Field(
        default_factory=list, max_length=50, description="What must happen at the start"
    )
    end_checklist: list[str] = Field(
        default_factory=list, max_length=50, description="What must happen at the end"
    )


class TemplateOut(TemplateIn):
    version: int = Field(description="0: the built-in default (Stavanger's model), never changed here")


class TemplatesIn(BaseModel):
    templates: list[TemplateIn] = Field(min_length=1, max_length=4)


class PathwayOpenIn(BaseModel):
    person_id: uuid.UUID
    district: str = Field(min_length=1, max_length=100)
    kind: Kind
    opened_on: date | None = Field(default=None, description="Default: today (Europe/Oslo)")
    referral_id: uuid.UUID | None = Field(
        default=None, description="The referral it follows; default: the person's latest known referral"
    )
    responsible: str | None = Field(default=None, max_length=200, description="Responsible case officer")


class ClosureIn(BaseModel):
    outcome: Outcome


class CorrectionIn(BaseModel):
    field: DateField
    new_value: date
    reason: str = Field(min_length=3, max_length=2000)


class CorrectionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    field: DateField
    old_value: date
    new_value: date
    reason: str
    corrected_by: str
    corrected_at: datetime


class PathwayOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    person_id: uuid.UUID
    district: str
    kind: Kind
    status: str = Field(description="open | closed")
    template_version: int
    opened_on: date
    opened_at: datetime
    planned_end: date | None
    decision_rule: DecisionRule
    decision_due: date | None = Field(
        description="From this day a (new) decision is required while services run"
    )
    decision_covered: bool
    has_active_services: bool
    referral_id: uuid.UUID | None
    referral_on: date | None
    source: str = Field(description="referral.received | person.discharged | manual")
    responsible: str | None
    closed_at: datetime | None = Field(description="The clock's time of the closure (never back-dated)")
    closed_on: date | None = Field(description="The closing date; a correction may have changed it")
    outcome: Outcome | None
    closed_by: str | None
    overdue: bool = Field(default=False, description="Open past its planned end today")


class PathwayDetail(PathwayOut):
    corrections: list[CorrectionOut] = Field(default_factory=list)


class PathwayPage(BaseModel):
    items: list[PathwayOut]
    next_cursor: str | None = Field(
        default=None, description="Pass as `cursor` for the next page; null at the end."
    )


class TaskOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    kind: TaskKind
    pathway_id: uuid.UUID
    person_id: uuid.UUID
    district: str
    due: date
    opened_at: datetime
    closed_at: datetime | None
    resolution: str | None
