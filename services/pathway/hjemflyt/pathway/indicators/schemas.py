"""Request and response models of the indicators and the weekly quality board."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from hjemflyt.pathway.indicators.rules import BoardItem


class Wait(BaseModel):
    """Days from referral (received date) to a later step, for referrals received in the month."""

    referrals: int = Field(description="Referrals received in the month")
    reached: int = Field(description="Of those, how many reached the step (the others are still waiting)")
    median_days: float | None
    mean_days: float | None


class Continuity(BaseModel):
    persons: int = Field(
        description="Home-nursing persons (IPLOS 15) with visits by named staff in the month"
    )
    mean_distinct_staff: float | None = Field(description="Mean number of distinct staff per such person")


class AppealCount(BaseModel):
    stage: str = Field(description="municipality | county_governor")
    outcome: str = Field(description="upheld | changed | reversed | returned")
    appeals: int


class DistrictMonth(BaseModel):
    district: str
    month: str = Field(description="YYYY-MM")
    as_of: date = Field(description="The day the stock figures (open, overdue, backlog) are taken")
    users: int = Field(description="Persons with a decision in force some day of the month")
    persons_in_pathway: int | None = None
    pathway_share: float | None = None
    pathways_closed: int | None = None
    closed_without_services: int | None = None
    ended_without_services_share: float | None = None
    pathways_open: int | None = None
    pathways_overdue: int | None = None
    overdue_share: float | None = None
    referral_to_decision: Wait
    referral_to_first_visit: Wait
    active_decisions: int = Field(description="Decisions in force on `as_of`")
    reassessment_backlog: int = Field(
        description="Of those, decisions whose evaluation date is before `as_of`"
    )
    continuity: Continuity
    appeals: list[AppealCount]


class UnitMonth(BaseModel):
    district: str
    unit: str = Field(description="The provider's organisation number")
    month: str
    continuity: Continuity


class Indicators(BaseModel):
    from_month: str = Field(alias="from")
    to_month: str = Field(alias="to")
    today: date
    districts: list[DistrictMonth]
    units: list[UnitMonth] = Field(
        description="Continuity per provider unit (the indicators that have a unit)"
    )

    model_config = ConfigDict(populate_by_name=True)


class QualityBoardIn(BaseModel):
    """What the journal shows for the person this week; an item left out is not shown."""

    model_config = ConfigDict(extra="forbid")

    district: str | None = Field(
        default=None, description="The person's district; default: that of their latest decision"
    )
    right_of_access_informed: bool = False
    care_plan_updated: bool = False
    nutrition: bool = False
    vital_signs: bool = False
    fall_assessment: bool = False


class QualityBoardPerson(BaseModel):
    person_id: uuid.UUID
    district: str
    status: str = Field(description="green when the journal shows every item, else red")
    missing: list[BoardItem]
    recorded_at: datetime | None


class QualityBoard(BaseModel):
    week: str
    persons: list[QualityBoardPerson]
