from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from hjemflyt.shared.contracts.events import AgeBand

ServiceCode = Annotated[str, StringConstraints(pattern=r"^\d{1,3}$")]
FunctionCode = Annotated[str, StringConstraints(pattern=r"^\d{3}$")]


class FunctionsIn(BaseModel):
    functions: dict[ServiceCode, FunctionCode] = Field(
        min_length=1, description="IPLOS service code -> KOSTRA function, e.g. {'15': '254'}"
    )


class FunctionsOut(BaseModel):
    functions: dict[str, str]
    default: bool = Field(description="True: the shipped default mapping (none has been put)")


class DistrictInhabitants(BaseModel):
    district: str = Field(min_length=1, max_length=100)
    inhabitants: dict[AgeBand, Annotated[int, Field(ge=0)]] = Field(
        min_length=1, description="Inhabitants per age band: 0-66, 67-79, 80+ (a band left out counts 0)"
    )


class PopulationIn(BaseModel):
    districts: list[DistrictInhabitants] = Field(min_length=1)


class PopulationOut(PopulationIn):
    year: int


class Ratio(BaseModel):
    users: int
    cost_ore: int
    cost_per_user_ore: int | None


class FunctionFigures(Ratio):
    function: str = Field(description="KOSTRA function, or 'unmapped'")


class UnitKostra(Ratio):
    provider_org: str
    name: str | None
    kind: str
    functions: list[FunctionFigures]


class AgeBandFigures(BaseModel):
    age_band: str = Field(description="0-66 | 67-79 | 80+ | unknown (no birth date in the decisions)")
    users: int
    inhabitants: int | None
    users_per_1000: Decimal | None


class AreaFigures(Ratio):
    inhabitants: int | None = Field(description="null: no population figures for the year")
    cost_per_inhabitant_ore: int | None
    age_bands: list[AgeBandFigures]


class DistrictKostra(AreaFigures):
    district: str


class KostraOut(BaseModel):
    year: int
    on: date = Field(description="Users and the rule set as of this date")
    rule_set_id: str
    rule_set_name: str
    functions: list[FunctionFigures] = Field(description="Cost per user per function")
    units: list[UnitKostra] = Field(description="Cost per user per unit, and per function within it")
    districts: list[DistrictKostra]
    municipality: AreaFigures
    flagged: dict[str, int] = Field(description="Persons whose cost is 0 or short, per reason")
