from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, DateTime, ForeignKey, Index, Text, Uuid
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from hjemflyt.assessment.db import Base


class Assignment(Base):
    """A pathway assignment (Stavanger's pathway 1): what one provider is to do for at most
    14 days before any decision. issued → ended; version 1 when issued, 2 when ended (the
    provider's order follows the version). An issued one past its end date has run out."""

    __tablename__ = "assignment"
    __table_args__ = (Index("ix_assignment_person_provider", "person_id", "provider_org"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    version: Mapped[int] = mapped_column(default=1)
    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("person.id"))
    district: Mapped[str] = mapped_column(ForeignKey("district.code"))
    provider_org: Mapped[str] = mapped_column(Text)
    pathway_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)  # pathway's, not a foreign key
    status: Mapped[str] = mapped_column(Text)  # issued | ended
    # [{service_type, service_code, measures: [{code, description, times, per, minutes}]}]
    services: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    purpose: Mapped[str | None] = mapped_column(Text)
    user_goal: Mapped[str | None] = mapped_column(Text)
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)  # the last day; the actual one once ended
    planned_end_date: Mapped[date] = mapped_column(Date)  # as issued
    end_reason: Mapped[str | None] = mapped_column(Text)
    superseded_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)  # the decision
    created_by: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ended_by: Mapped[str | None] = mapped_column(Text)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
