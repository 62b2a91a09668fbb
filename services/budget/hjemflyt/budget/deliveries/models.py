from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import Boolean, Date, DateTime, Index, Integer, Text, Uuid, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from hjemflyt.budget.db import Base


class DeliveredVisit(Base):
    """A visit as a provider reported it (`visits.reported`): the input of settlements and of
    actual hours. `month` (YYYY-MM) and `visit_date` are where it was planned, in Norway.

    A re-report with other content replaces the row while its month is open; once the month
    is settled for the provider the row stays as settled and the re-report is a
    `VisitCorrection` for the next statement instead.
    """

    __tablename__ = "delivered_visit"
    __table_args__ = (
        Index("ix_delivered_visit_provider_month", "provider_org", "month"),
        Index("ix_delivered_visit_month_person", "month", "person_id"),
    )

    provider_org: Mapped[str] = mapped_column(Text, primary_key=True)
    visit_id: Mapped[str] = mapped_column(Text, primary_key=True)
    order_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    person_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    district: Mapped[str] = mapped_column(Text)
    service_type: Mapped[str | None] = mapped_column(Text)
    visit_date: Mapped[date] = mapped_column(Date)
    month: Mapped[str] = mapped_column(Text)
    planned_start: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    planned_end: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actual_start: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    actual_end: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    cancelled: Mapped[bool] = mapped_column(Boolean)
    cancel_cause: Mapped[str | None] = mapped_column(Text)
    # Exact durations in seconds: money is computed from these, never from rounded hours.
    planned_seconds: Mapped[int] = mapped_column(Integer)
    actual_seconds: Mapped[int] = mapped_column(Integer)
    content_sha256: Mapped[str] = mapped_column(Text)
    reported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # Measure codes done: the activity model's income (time norm per measure). Not part of
    # the content hash: a measure-only change does not change a provider's statement.
    measures: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default=text("'{}'"))


class VisitCorrection(Base):
    """A visit reported (again, or late) for a month already settled for its provider: the
    new content, waiting for the provider's next statement (`settled_in` is set when that
    statement is issued). At most one pending per visit: a newer re-report replaces it."""

    __tablename__ = "visit_correction"
    __table_args__ = (Index("ix_visit_correction_provider_visit", "provider_org", "visit_id"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    provider_org: Mapped[str] = mapped_column(Text)
    visit_id: Mapped[str] = mapped_column(Text)
    corrects_month: Mapped[str] = mapped_column(Text)
    order_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    person_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    district: Mapped[str] = mapped_column(Text)
    service_type: Mapped[str | None] = mapped_column(Text)
    visit_date: Mapped[date] = mapped_column(Date)
    month: Mapped[str] = mapped_column(Text)
    planned_start: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    planned_end: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actual_start: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    actual_end: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    cancelled: Mapped[bool] = mapped_column(Boolean)
    cancel_cause: Mapped[str | None] = mapped_column(Text)
    planned_seconds: Mapped[int] = mapped_column(Integer)
    actual_seconds: Mapped[int] = mapped_column(Integer)
    content_sha256: Mapped[str] = mapped_column(Text)
    reported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    settled_in: Mapped[uuid.UUID | None] = mapped_column(Uuid)


class Admission(Base):
    """A hospital or institution stay (`person.admitted`, `person.discharged`): the person's
    home services pause. `discharged_at` None: still admitted."""

    __tablename__ = "admission"

    admission_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    person_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    district: Mapped[str] = mapped_column(Text)
    institution_kind: Mapped[str | None] = mapped_column(Text)
    admitted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    discharged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
