from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, model_validator

from hjemflyt.assessment.config.schemas import MEASURE_CODE_PATTERN
from hjemflyt.assessment.decisions.rules import EndReason, Outcome, ScopeKind, Status

Hours = Decimal


class MeasureIn(BaseModel):
    """A measure by its code in the municipality's measure catalogue, in free text, or both."""

    model_config = ConfigDict(extra="forbid")

    code: str | None = Field(
        default=None,
        pattern=MEASURE_CODE_PATTERN,
        description="A code of the measure catalogue (GET /v1/config/measure-codes), e.g. shower",
        examples=["shower"],
    )
    description: str | None = Field(
        default=None,
        min_length=1,
        max_length=300,
        description="Free text; with a code it adds to it, without one it is the measure. "
        "Default with a code: the catalogue's name of the measure",
        examples=["Hjelp til dusj"],
    )
    times: int = Field(ge=1, le=100, description="How many times per period")
    per: Literal["day", "week", "month", "quarter", "year"]
    minutes: int | None = Field(
        default=None,
        ge=1,
        le=600,
        description="Required in purchaser-provider districts (minutes per measure); "
        "with a code it defaults there to the catalogue's time norm",
    )

    @model_validator(mode="after")
    def _code_or_description(self) -> MeasureIn:
        if self.code is None and self.description is None:
            raise ValueError("a measure needs a code from the measure catalogue or a description")
        return self


class ServiceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    service_type: str = Field(
        max_length=63, description="A code from the service catalogue, e.g. home-nursing"
    )
    outcome: Outcome = Outcome.granted
    scope_kind: ScopeKind | None = Field(
        default=None, description="Default: what the district's organisation model writes"
    )
    hours_per_month: Hours | None = Field(default=None, max_digits=6, decimal_places=2)
    frame_min_hours: Hours | None = Field(default=None, max_digits=6, decimal_places=2)
    frame_max_hours: Hours | None = Field(default=None, max_digits=6, decimal_places=2)
    measures: list[MeasureIn] = Field(default_factory=list, max_length=50)
    refusal_reason: str | None = Field(default=None, max_length=4000)
    provider_org: str | None = Field(default=None, pattern=r"^\d{9}$", description="If already chosen")


class DecisionContent(BaseModel):
    """The editable content of a decision (all optional while it is a draft)."""

    model_config = ConfigDict(extra="forbid")

    justification: str | None = Field(default=None, max_length=20000)
    purpose: str | None = Field(default=None, max_length=4000)
    user_goal: str | None = Field(default=None, max_length=4000, description="In the person's own words")
    legal_basis: list[str] | None = Field(default=None, description="Default: the services' legal basis")
    start_date: date | None = None
    end_date: date | None = Field(default=None, description="None: indefinite")
    evaluation_date: date | None = None
    household_income_g: Decimal | None = Field(
        default=None, ge=0, max_digits=6, decimal_places=2, description="For co-payment, in multiples of G"
    )
    services: list[ServiceIn] | None = Field(default=None, max_length=20)


class DecisionIn(DecisionContent):
    person_id: UUID
    application_id: UUID | None = None
    assessment_id: UUID | None = None
    supersedes_id: UUID | None = Field(default=None, description="The running decision this one replaces")
    make: bool = Field(default=False, description="Make the decision at once (it must be complete)")


class MeasureOut(BaseModel):
    code: str | None = Field(default=None, description="The measure catalogue's code; null: free text only")
    description: str
    times: int
    per: str
    minutes: int | None


class ServiceOut(BaseModel):
    service_type: str
    service_name: str
    service_code: str
    outcome: Outcome
    scope_kind: ScopeKind
    hours_per_month: Decimal
    frame_min_hours: Decimal | None
    frame_max_hours: Decimal | None
    refusal_reason: str | None
    provider_org: str | None
    measures: list[MeasureOut]
    copayment: dict[str, Any] | None = None


class DecisionOut(BaseModel):
    id: UUID
    version: int
    status: Status
    person_id: UUID
    district: str
    organisation_model: str | None
    application_id: UUID | None
    assessment_id: UUID | None
    supersedes_id: UUID | None
    justification: str | None
    purpose: str | None
    user_goal: str | None
    legal_basis: list[str]
    start_date: date | None
    end_date: date | None
    evaluation_date: date | None
    household_income_g: Decimal | None
    appeal_text: str | None
    appeal_deadline: date | None
    decision_date: date | None
    made_by: str | None
    made_at: datetime | None
    sent_at: datetime | None
    activated_at: datetime | None
    ended_at: datetime | None
    end_reason: str | None
    services: list[ServiceOut]


class Completeness(BaseModel):
    complete: bool
    missing: list[dict[str, str | None]]


class EndIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    end_date: date = Field(description="The last day the decision runs.")
    reason: EndReason = Field(
        default=EndReason.ended,
        description="Before the decision's own end date (or when it runs indefinitely) only a reason "
        "the law allows: deceased, moved, nursing_home, person_wish, masters_daily_life, superseded "
        "(else 422 end-reason-not-allowed). `ended` only on or after its end date; `expired` is the "
        "clock's own and never accepted. The provider's ended order carries the reason.",
    )


class VersionOut(BaseModel):
    version: int
    status: str
    action: str
    changes: list[dict[str, Any]]
    changed_by: str
    changed_at: datetime


class ProviderChoiceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    service_type: str
    informed_date: date = Field(description="When the person was told they may choose (Oslo's rule)")
    provider_org: str | None = Field(default=None, pattern=r"^\d{9}$", description="None: not chosen yet")
    chosen_by: Literal["person", "next_of_kin", "guardian", "case_officer"] | None = None
    chosen_date: date | None = None


class ProviderChoiceOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    decision_id: UUID
    service_type: str
    informed_date: date
    informed_by: str
    provider_org: str | None
    chosen_by: str | None
    chosen_date: date | None
    recorded_at: datetime
