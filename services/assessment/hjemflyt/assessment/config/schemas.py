from __future__ import annotations

from datetime import date
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from hjemflyt.shared.contracts.codes import IPLOS_SERVICES

Code = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")


class MunicipalityIn(BaseModel):
    model_config = ConfigDict(extra="forbid", from_attributes=True)

    name: str = Field(min_length=1, max_length=200)
    appeal_body: str = Field(min_length=1, max_length=200, description="Where upheld appeals are forwarded")
    appeal_weeks: int = Field(default=4, ge=1, le=52, description="Appeal deadline (pbrl § 7-2: four weeks)")
    case_deadline_months: int = Field(
        default=1, ge=1, le=12, description="After this, an undecided application needs a preliminary reply"
    )
    base_amount_g_ore: int = Field(default=13_016_000, gt=0, description="The national base amount G in øre")


class MunicipalityOut(MunicipalityIn):
    tenant: str
    preset: str | None


class ServiceTypeIn(BaseModel):
    model_config = ConfigDict(extra="forbid", from_attributes=True)

    name: str = Field(min_length=1, max_length=200)
    iplos_code: str
    kostra_function: str = Field(pattern=r"^\d{3}$")
    chargeable: bool = Field(description="False for home nursing and personal care, which are free")
    legal_basis: list[str] = Field(min_length=1)
    active: bool = True

    @model_validator(mode="after")
    def _known_iplos(self) -> ServiceTypeIn:
        if self.iplos_code not in IPLOS_SERVICES:
            raise ValueError(f"unknown IPLOS service code {self.iplos_code!r}")
        return self


class ServiceTypeOut(ServiceTypeIn):
    code: str


class LegalBasisIn(BaseModel):
    model_config = ConfigDict(extra="forbid", from_attributes=True)

    title: str = Field(min_length=1, max_length=200)
    text: str = Field(min_length=1, max_length=2000)


class LegalBasisOut(LegalBasisIn):
    code: str


class CopaymentBandIn(BaseModel):
    model_config = ConfigDict(extra="forbid", from_attributes=True)

    valid_from: date
    income_min_g: Decimal = Field(ge=0, max_digits=6, decimal_places=2)
    income_max_g: Decimal | None = Field(default=None, gt=0, max_digits=6, decimal_places=2)
    hourly_price_ore: int = Field(ge=0)
    max_per_month_ore: int = Field(ge=0)

    @model_validator(mode="after")
    def _range(self) -> CopaymentBandIn:
        if self.income_max_g is not None and self.income_max_g <= self.income_min_g:
            raise ValueError("income_max_g must be above income_min_g")
        return self


# Measure codes travel on orders and come back in visit reports (at most 40 characters there).
MEASURE_CODE_PATTERN = r"^[a-z0-9][a-z0-9-]{0,39}$"
MAX_NORM_MINUTES = 600


class MeasureCodeIn(BaseModel):
    """A measure of the municipality's catalogue with its time norm (DOMAIN § 6)."""

    model_config = ConfigDict(extra="forbid", from_attributes=True)

    name: str = Field(min_length=1, max_length=300, examples=["Dusj/helvask"])
    service_type: str | None = Field(
        default=None,
        max_length=63,
        description="The service type (catalogue code) the measure belongs to; null: any service",
    )
    norm_minutes: int = Field(
        ge=1,
        le=MAX_NORM_MINUTES,
        description="Time norm per occurrence: the minutes a purchaser-provider decision orders when it "
        "gives none, and what the activity model pays for",
    )
    active: bool = Field(default=True, description="An inactive code is kept for old decisions, not for new")


class MeasureCodeOut(MeasureCodeIn):
    code: str


class MeasureCodeNew(MeasureCodeIn):
    code: str = Field(pattern=MEASURE_CODE_PATTERN, examples=["shower"])


class CaseOfficeIn(BaseModel):
    model_config = ConfigDict(extra="forbid", from_attributes=True)

    name: str = Field(min_length=1, max_length=200)
    phone: str = Field(min_length=1, max_length=30)
    email: str = Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=200)
    districts: list[str] = Field(default_factory=list)


class CaseOfficeOut(CaseOfficeIn):
    code: str


class ConfigurationOut(BaseModel):
    municipality: MunicipalityOut | None
    service_types: list[ServiceTypeOut]
    legal_basis: list[LegalBasisOut]
    copayment_bands: list[CopaymentBandIn]
    case_offices: list[CaseOfficeOut]
    measure_codes: list[MeasureCodeOut]
