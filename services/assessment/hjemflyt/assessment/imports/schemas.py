"""Request and response models of the bulk import of persons with their active decisions.

An item is validated on its own (see `service.import_persons`), so the request's OpenAPI
schema is `ImportBatchIn`, while the endpoint reads the items leniently and answers a
malformed item with a per-item problem instead of failing the whole batch.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from hjemflyt.assessment.decisions.schemas import ServiceIn

# Items per request. A 1,000-person batch with one decision each is about 1 MB of JSON.
MAX_ITEMS = 1000
# Largest request body of the import route (the platform's default is 1 MiB): room for a full
# batch with two or three decisions per person and long justifications.
MAX_BODY_BYTES = 4 * 1024 * 1024

ExternalId = str


class DecisionImportIn(BaseModel):
    """An active decision as the case system holds it: made and sent there, on `decision_date`."""

    model_config = ConfigDict(extra="forbid")

    external_id: ExternalId = Field(
        min_length=1, max_length=200, description="The case system's id of the decision (unique per system)"
    )
    decision_date: date = Field(description="When the decision was made in the case system")
    start_date: date
    end_date: date | None = Field(default=None, description="None: indefinite")
    evaluation_date: date | None = None
    justification: str = Field(max_length=20000)
    purpose: str | None = Field(
        default=None, max_length=4000, description="Default: the standard purpose text of new decisions"
    )
    user_goal: str = Field(max_length=4000, description="In the person's own words")
    legal_basis: list[str] | None = Field(default=None, description="Default: the services' legal basis")
    household_income_g: Decimal | None = Field(
        default=None, ge=0, max_digits=6, decimal_places=2, description="For co-payment, in multiples of G"
    )
    services: list[ServiceIn] = Field(min_length=1, max_length=20)


class PersonImportIn(BaseModel):
    """A person and their active decisions, keyed by the case system's own ids."""

    model_config = ConfigDict(extra="forbid")

    source_system: str = Field(
        min_length=1, max_length=63, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$", examples=["gerica"]
    )
    external_id: ExternalId = Field(min_length=1, max_length=200, description="The case system's person id")
    identity_number: str = Field(
        max_length=20, description="fødselsnummer, D-, H- or FH-number; synthetic test numbers are accepted"
    )
    name: str = Field(min_length=1, max_length=200)
    address: str = Field(min_length=1, max_length=300)
    phone: str | None = Field(default=None, max_length=30)
    district: str = Field(min_length=1, max_length=63)
    decisions: list[DecisionImportIn] = Field(default_factory=list, max_length=50)


class ImportBatchIn(BaseModel):
    """What the endpoint documents. Items are validated one by one, so one bad item does not
    fail the others."""

    model_config = ConfigDict(extra="forbid")

    items: list[PersonImportIn] = Field(max_length=MAX_ITEMS)


class Outcome(StrEnum):
    created = "created"
    updated = "updated"
    unchanged = "unchanged"
    rejected = "rejected"


class DecisionResult(BaseModel):
    external_id: str
    status: Outcome
    decision_id: UUID | None = None
    version: int | None = None


class ItemResult(BaseModel):
    index: int = Field(description="Position of the item in the request")
    source_system: str | None = None
    external_id: str | None = None
    status: Outcome
    person_id: UUID | None = None
    decisions: list[DecisionResult] = Field(default_factory=list)
    problem: dict[str, Any] | None = Field(
        default=None, description="RFC 9457 problem details of a rejected item; nothing of it was stored"
    )


class ImportResult(BaseModel):
    created: int = Field(description="Items whose person was new")
    updated: int = Field(description="Items that changed the person or any of their decisions")
    unchanged: int
    rejected: int
    items: list[ItemResult]
