from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, DateTime, ForeignKey, LargeBinary, Text, UniqueConstraint, Uuid
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from hjemflyt.assessment.db import Base


class Person(Base):
    """A person who receives or asks for services. The identity number is stored only
    encrypted, with an HMAC index for lookups; `id` is the pseudonym used everywhere else."""

    __tablename__ = "person"
    __table_args__ = (UniqueConstraint("source_system", "external_id"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    identity_index: Mapped[str] = mapped_column(Text, unique=True)
    identity_cipher: Mapped[bytes] = mapped_column(LargeBinary)
    identity_kind: Mapped[str] = mapped_column(Text)
    synthetic: Mapped[bool]
    name: Mapped[str] = mapped_column(Text)
    address: Mapped[str] = mapped_column(Text)
    phone: Mapped[str | None] = mapped_column(Text)
    district: Mapped[str] = mapped_column(ForeignKey("district.code"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(Text)
    email: Mapped[str | None] = mapped_column(Text)
    next_of_kin: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    source_system: Mapped[str | None] = mapped_column(Text)
    external_id: Mapped[str | None] = mapped_column(Text)
    # The person's GP (fastlege) and the GP's office, by HER-id: where Orientering om
    # tjenestetilbud goes when a decision is sent.
    gp_name: Mapped[str | None] = mapped_column(Text)
    gp_her_id: Mapped[str | None] = mapped_column(Text)
    gp_office_name: Mapped[str | None] = mapped_column(Text)
    gp_office_her_id: Mapped[str | None] = mapped_column(Text)
    # The date of death, from the hospital's LOG_DOD message (IPLOS reports it).
    died_on: Mapped[date | None] = mapped_column(Date)
