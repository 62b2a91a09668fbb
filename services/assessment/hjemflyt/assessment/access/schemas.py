"""The merged access log as the case office's API answers it."""

from __future__ import annotations

import uuid

from pydantic import BaseModel, Field

from hjemflyt.assessment.access.rules import Flag
from hjemflyt.shared.platform.access import AccessEvent


class ReviewedAccessEvent(AccessEvent):
    flags: list[Flag] | None = Field(
        default=None,
        description="Why the read is up for review (snooping): outside the reader's districts and "
        "caseload, no open case, or a provider not serving the person. Shown to auditors; null "
        "for the person (an unreviewed flag is not a finding).",
    )


class PersonAccessLog(BaseModel):
    person_id: uuid.UUID
    items: list[ReviewedAccessEvent]
    next_cursor: str | None = Field(description="Pass as `cursor` for older entries; null at the end.")
    unavailable: list[str] = Field(
        default_factory=list, description="Services that did not answer: their entries are missing here."
    )


class AccessReview(BaseModel):
    """Reads of every person flagged for review, newest first."""

    items: list[ReviewedAccessEvent]
    scanned: int = Field(description="Log entries this page looked at; flagged ones are in `items`.")
    next_cursor: str | None = Field(
        description="Pass as `cursor` to scan older entries (a page may hold none flagged); null at the end."
    )
    unavailable: list[str] = Field(default_factory=list)
