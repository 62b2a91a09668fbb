from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from hjemflyt.shared.identity import IdentityKind


class NextOfKin(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    relation: str = Field(min_length=1, max_length=100, examples=["datter"])
    phone: str | None = Field(default=None, max_length=30)
    email: str | None = Field(default=None, max_length=200)


class GeneralPractitioner(BaseModel):
    """The person's GP (fastlege) and the GP's office, each with its HER-id from the national
    address register: Orientering om tjenestetilbud is addressed to them."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200, examples=["August September"])
    her_id: str = Field(pattern=r"^[0-9]{1,9}$", description="The GP's own HER-id", examples=["91100"])
    office_name: str = Field(min_length=1, max_length=200, examples=["Kattskinnet legesenter"])
    office_her_id: str = Field(
        pattern=r"^[0-9]{1,9}$", description="The GP office's HER-id", examples=["91096"]
    )


class Contact(BaseModel):
    """What may change about a person: contact details, next of kin, district."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=200)
    address: str | None = Field(default=None, min_length=1, max_length=300)
    phone: str | None = Field(default=None, max_length=30)
    email: str | None = Field(default=None, max_length=200, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    next_of_kin: list[NextOfKin] | None = Field(default=None, max_length=10)
    district: str | None = Field(default=None, min_length=1, max_length=63)
    gp: GeneralPractitioner | None = None


class PersonIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    identity_number: str = Field(
        description="fødselsnummer, D-, H- or FH-number; synthetic test numbers are accepted",
        examples=["15817612345"],
    )
    name: str = Field(min_length=1, max_length=200)
    address: str = Field(min_length=1, max_length=300)
    phone: str | None = Field(default=None, max_length=30)
    email: str | None = Field(default=None, max_length=200, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    next_of_kin: list[NextOfKin] = Field(default_factory=list, max_length=10)
    district: str = Field(min_length=1, max_length=63)
    gp: GeneralPractitioner | None = None


class PersonLookup(BaseModel):
    """Identity numbers travel in the body, never in a URL (URLs end up in logs)."""

    model_config = ConfigDict(extra="forbid")

    identity_number: str


class PersonOut(BaseModel):
    id: UUID
    identity_number: str
    identity_kind: IdentityKind
    synthetic: bool
    name: str
    address: str
    phone: str | None
    email: str | None = None
    next_of_kin: list[NextOfKin] = Field(default_factory=list)
    district: str
    gp: GeneralPractitioner | None = None
    died_on: date | None = None  # from the hospital's LOG_DOD message
    created_at: datetime
