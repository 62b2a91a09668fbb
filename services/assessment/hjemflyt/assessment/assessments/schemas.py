from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StringConstraints

from hjemflyt.shared.contracts.iplos import CURRENT_VERSION

MAX_TEXT = 4000

VariableKey = Annotated[str, StringConstraints(min_length=1, max_length=64)]
# Strict: "3", 3.0 and true are not scores. Whether 1-5 or 9 and whether the variable is in the
# assessment's code list version are rules, answered all at once with their names.
ScoreValue = Annotated[
    StrictInt,
    Field(
        description="1 no problems … 5 fully dependent, 9 not relevant",
        examples=[3],
        json_schema_extra={"enum": [1, 2, 3, 4, 5, 9]},
    ),
]
Text = Annotated[str, StringConstraints(strip_whitespace=True, max_length=MAX_TEXT)]


class ParticipantRole(StrEnum):
    person = "person"
    next_of_kin = "next_of_kin"
    case_officer = "case_officer"
    nurse = "nurse"
    physiotherapist = "physiotherapist"
    occupational_therapist = "occupational_therapist"
    other = "other"


class Participant(BaseModel):
    """Who took part in the home visit."""

    model_config = ConfigDict(extra="forbid")

    role: ParticipantRole
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)] | None = None


class GoalIn(BaseModel):
    """A goal in the person's own words, and when it is followed up."""

    model_config = ConfigDict(extra="forbid")

    text: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000)]
    follow_up_date: date | None = None


class AssessmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    person_id: UUID
    application_id: UUID | None = Field(
        default=None, description="The application (søknad) this assessment is for, if any"
    )
    iplos_version: Annotated[str, StringConstraints(max_length=16)] = Field(
        default=CURRENT_VERSION, description="The IPLOS code list version the scores follow"
    )
    visit_date: date | None = Field(default=None, description="The day of the home visit")
    participants: list[Participant] = Field(default_factory=list, max_length=20)
    home_situation: Text | None = None
    what_matters: Text | None = Field(
        default=None, description='The person\'s own answer to "Hva er viktig for deg?"'
    )
    goals: list[GoalIn] = Field(default_factory=list, max_length=20)
    scores: dict[VariableKey, ScoreValue] = Field(
        default_factory=dict,
        max_length=100,
        description="IPLOS function scores by variable key (see GET /v1/iplos/function-variables)",
        examples=[{"personal_hygiene": 3, "vision": 9}],
    )


class AssessmentPatch(BaseModel):
    """JSON merge patch of a draft: a field sent replaces the stored one, null clears it.
    `participants` and `goals` are replaced as a whole; `scores` are merged per variable, and
    a variable sent as null loses its score."""

    model_config = ConfigDict(extra="forbid")

    iplos_version: Annotated[str, StringConstraints(max_length=16)] | None = None
    visit_date: date | None = None
    participants: list[Participant] | None = Field(default=None, max_length=20)
    home_situation: Text | None = None
    what_matters: Text | None = None
    goals: list[GoalIn] | None = Field(default=None, max_length=20)
    scores: dict[VariableKey, ScoreValue | None] | None = Field(default=None, max_length=100)


class GoalOut(BaseModel):
    position: int
    text: str
    follow_up_date: date | None


class MissingItem(BaseModel):
    rule: str
    field: str
    message: str


class AssessmentOut(BaseModel):
    id: UUID
    version: int = Field(description="Send it back as If-Match to change or complete the assessment")
    person_id: UUID
    application_id: UUID | None
    district: str
    status: str = Field(description="draft | completed")
    visit_date: date | None
    participants: list[Participant]
    home_situation: str | None
    what_matters: str | None
    goals: list[GoalOut]
    iplos_version: str
    scores: dict[str, int]
    average_function_level: Decimal | None = Field(
        description="Mean of the scores 1-5, leaving out 9 (not relevant); an indicator"
    )
    missing: list[MissingItem] = Field(
        description="What must be in place before the assessment can be completed; empty when it can"
    )
    created_by: str
    created_at: datetime
    completed_at: datetime | None


class FunctionVariableOut(BaseModel):
    key: str
    name_nb: str
    name_en: str
    group: str
    group_name_nb: str
    register_code: int | None


class ScoreOut(BaseModel):
    score: int
    name_nb: str


class CodeListOut(BaseModel):
    version: str
    current: bool
    scores: list[ScoreOut]
    variables: list[FunctionVariableOut]
