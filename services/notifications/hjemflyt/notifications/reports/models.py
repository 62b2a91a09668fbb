from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import Date, DateTime, Index, Integer, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from hjemflyt.notifications.db import Base


class StartConfirmation(Base):
    """The provider started delivering an order version, with the user's primary contact.
    One per order version (a changed order may be confirmed again, e.g. with a new primary
    contact). The contact's name and phone are for the case office and the pathway, never
    in events (those carry the pseudonymous staff id)."""

    __tablename__ = "start_confirmation"
    __table_args__ = (Index("ix_start_confirmation_person_id", "person_id"),)

    order_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    order_version: Mapped[int] = mapped_column(Integer, primary_key=True)
    provider_org: Mapped[str] = mapped_column(Text)
    person_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    district: Mapped[str] = mapped_column(Text)
    started_on: Mapped[date] = mapped_column(Date)
    contact_staff_id: Mapped[str] = mapped_column(Text)
    contact_name: Mapped[str] = mapped_column(Text)
    contact_phone: Mapped[str] = mapped_column(Text)
    confirmed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    confirmed_by: Mapped[str] = mapped_column(Text)


class Deviation(Base):
    """A deviation (avvik) reported by a provider about an order."""

    __tablename__ = "deviation"
    __table_args__ = (
        Index("ix_deviation_district_reported", "district", "reported_at"),
        Index("ix_deviation_order_id", "order_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    order_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    provider_org: Mapped[str] = mapped_column(Text)
    person_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    district: Mapped[str] = mapped_column(Text)
    severity: Mapped[str] = mapped_column(Text)
    category: Mapped[str] = mapped_column(Text)
    description: Mapped[str] = mapped_column(Text)
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    reported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    reported_by: Mapped[str] = mapped_column(Text)


class MastersDailyLifeReport(Base):
    """The provider reports that the person masters daily life: the case office may end it."""

    __tablename__ = "masters_daily_life_report"
    __table_args__ = (Index("ix_masters_daily_life_report_order_id", "order_id"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    order_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    provider_org: Mapped[str] = mapped_column(Text)
    person_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    district: Mapped[str] = mapped_column(Text)
    observed_on: Mapped[date] = mapped_column(Date)
    note: Mapped[str] = mapped_column(Text)
    reported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    reported_by: Mapped[str] = mapped_column(Text)
