from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from hjemflyt.shared.identity import IdentityKind


class PersonIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    identity_number: str = Field(
        description="fødselsnummer, D-, H- or FH-number; synthetic test numbers are accepted",
        examples=["15817612345"],
    )
    name: str = Field(min_length=1, max_length=200)
    address: str = Field(min_length=1, max_length=300)
    phone: str | None = Field(default=None, max_length=30)
    district: str = Field(min_length=1, max_length=63)


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
    district: str
    created_at: datetime


class AccessLogEntry(BaseModel):
    at: datetime
    actor: str
    role: str
    organisation: str | None
    action: str
    resource: str
    resource_id: str | None
    purpose: str
