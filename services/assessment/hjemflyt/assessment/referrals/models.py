from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import Date, DateTime, ForeignKey, Index, Text, Uuid
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from hjemflyt.assessment.db import Base


class Referral(Base):
    """A request for help through the one door in (henvendelse): from the person, next of kin,
    GP, hospital or emergency GP, possibly as a PLO message."""

    __tablename__ = "referral"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("person.id"), index=True)
    district: Mapped[str] = mapped_column(ForeignKey("district.code"))
    source: Mapped[str] = mapped_column(Text)  # person | next_of_kin | gp | hospital | emergency_gp
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    sender_name: Mapped[str | None] = mapped_column(Text)
    sender_her_id: Mapped[str | None] = mapped_column(Text)
    sender_organisation: Mapped[str | None] = mapped_column(Text)
    summary: Mapped[str] = mapped_column(Text)
    requested_services: Mapped[list[str]] = mapped_column(ARRAY(Text))
    plo_message_id: Mapped[str | None] = mapped_column(Text, unique=True)
    plo_message_type: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text)  # received | application | closed
    registered_by: Mapped[str] = mapped_column(Text)


class Application(Base):
    """An application (søknad): starts the case-handling clock (forvaltningsloven § 11 a)."""

    __tablename__ = "application"
    __table_args__ = (Index("ix_application_open_deadline", "status", "deadline_date"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("person.id"), index=True)
    district: Mapped[str] = mapped_column(ForeignKey("district.code"))
    referral_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("referral.id"))
    received_date: Mapped[date] = mapped_column(Date)
    deadline_date: Mapped[date] = mapped_column(Date)
    services: Mapped[list[str]] = mapped_column(ARRAY(Text))
    description: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text)  # received | assessing | decided | withdrawn
    preliminary_reply_date: Mapped[date | None] = mapped_column(Date)
    preliminary_reply_reason: Mapped[str | None] = mapped_column(Text)
    expected_decision_date: Mapped[date | None] = mapped_column(Date)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    registered_by: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
