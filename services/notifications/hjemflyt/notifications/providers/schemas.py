from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from hjemflyt.notifications.providers.rules import normalise_email, normalise_phone
from hjemflyt.shared.contracts.codes import IPLOS_SERVICES
from hjemflyt.shared.contracts.events import ProviderKind

ServiceType = Annotated[
    str,
    Field(
        pattern=r"^[a-z0-9][a-z0-9-]{0,62}$",
        description="A service type code of the municipality's catalogue, e.g. home-nursing",
    ),
]


class ContactRole(StrEnum):
    contract_manager = "contract_manager"  # kontraktsansvarlig
    daily_manager = "daily_manager"  # daglig leder
    professional_lead = "professional_lead"  # fagansvarlig
    on_call = "on_call"  # vakttelefon
    technical = "technical"  # integration / IT
    other = "other"


class Contact(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: ContactRole
    name: str = Field(min_length=1, max_length=200)
    phone: Annotated[str, Field(max_length=40), AfterValidator(normalise_phone)] | None = Field(
        default=None, description="8 digits (Norwegian) or +country code; stored as +47XXXXXXXX"
    )
    email: Annotated[str, Field(max_length=254), AfterValidator(normalise_email)] | None = None


class ContractPrice(BaseModel):
    model_config = ConfigDict(extra="forbid")

    service_type: ServiceType
    ore_per_hour: int = Field(strict=True, gt=0, le=10_000_000, description="Price per hour in øre")


class ProviderIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    kind: ProviderKind
    service_codes: list[str] = Field(min_length=1, max_length=30, description="IPLOS service codes")
    districts: list[str] = Field(min_length=1, max_length=100)
    service_types: list[ServiceType] = Field(
        default_factory=list,
        max_length=100,
        description="The municipality's service types under the agreement",
    )
    contract_prices: list[ContractPrice] = Field(
        default_factory=list,
        max_length=100,
        description="One price per service type; required for each service type of a private provider",
    )
    contacts: list[Contact] = Field(default_factory=list, max_length=50)
    agreement_valid_from: date | None = Field(
        default=None, description="First day of the framework agreement"
    )
    agreement_valid_to: date | None = Field(default=None, description="Last day of the framework agreement")

    @field_validator("service_codes")
    @classmethod
    def _known_codes(cls, codes: list[str]) -> list[str]:
        unknown = sorted(set(codes) - IPLOS_SERVICES.keys())
        if unknown:
            raise ValueError(f"unknown IPLOS service codes: {', '.join(unknown)}")
        return sorted(set(codes), key=int)

    @field_validator("districts")
    @classmethod
    def _distinct(cls, districts: list[str]) -> list[str]:
        return sorted(set(districts))

    @field_validator("service_types")
    @classmethod
    def _distinct_types(cls, types: list[str]) -> list[str]:
        return sorted(set(types))


class ProviderOut(ProviderIn):
    provider_org: str
    version: int
    updated_at: datetime
