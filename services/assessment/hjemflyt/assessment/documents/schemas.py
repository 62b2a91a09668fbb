from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel

from hjemflyt.assessment.documents.rules import Status


class Sender(BaseModel):
    name: str
    her_id: str | None


class SectionOut(BaseModel):
    heading: str
    lines: list[str]


class VersionOut(BaseModel):
    id: UUID
    version: int
    status: Status
    msg_id: str
    received_at: datetime


class DocumentSummary(BaseModel):
    """A document without its content (the list)."""

    id: UUID
    person_id: UUID
    kind: str  # the PLO message type (MsgInfo/Type)
    title: str
    sender: Sender
    msg_id: str
    issued_at: datetime | None
    received_at: datetime
    status: Status
    version: int
    chain_id: UUID
    replaces_id: UUID | None
    cancelled_at: datetime | None


class DocumentOut(DocumentSummary):
    """A document with its readable content: sections, and the same as plain text. The
    original message: `?format=xml` or `Accept: application/xml`."""

    sections: list[SectionOut]
    text: str
    versions: list[VersionOut]
