from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

from hjemflyt.shared.contracts.codes import IPLOS_SERVICES
from hjemflyt.shared.contracts.events import ProviderKind


class ProviderIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    kind: ProviderKind
    service_codes: list[str] = Field(min_length=1, max_length=30, description="IPLOS service codes")
    districts: list[str] = Field(min_length=1, max_length=100)

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


class ProviderOut(ProviderIn):
    model_config = ConfigDict(from_attributes=True)

    provider_org: str
    version: int
