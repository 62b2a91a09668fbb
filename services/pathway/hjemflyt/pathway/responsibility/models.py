"""Named responsibility for each person: who the municipality named, and who providers named."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import Date, DateTime, Integer, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from hjemflyt.pathway.db import Base


class Responsibility(Base):
    """What the case system set for the person (PUT): staff ids only, never names."""

    __tablename__ = "responsibility"

    person_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    service_lead: Mapped[str] = mapped_column(Text, index=True)
    primary_contact: Mapped[str | None] = mapped_column(Text, index=True)
    case_officer: Mapped[str | None] = mapped_column(Text, index=True)
    team: Mapped[str | None] = mapped_column(Text, index=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_by: Mapped[str] = mapped_column(Text)


class PrimaryContact(Base):
    """The primary contact a provider named when it confirmed an order's start (latest version)."""

    __tablename__ = "primary_contact"

    order_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    person_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    provider_org: Mapped[str] = mapped_column(Text)
    district: Mapped[str] = mapped_column(Text)
    order_version: Mapped[int] = mapped_column(Integer)
    staff_id: Mapped[str] = mapped_column(Text, index=True)
    started_on: Mapped[date] = mapped_column(Date)
    confirmed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
