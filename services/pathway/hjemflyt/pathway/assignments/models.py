from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, DateTime, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from hjemflyt.pathway.db import Base


class PersonAssignment(Base):
    """Read model of assessment's pathway assignments (orders before any decision, at most
    14 days), built from its events. An assignment is not a decision: it never satisfies a
    pathway's decision requirement, but while it runs the person has active services, so
    pathway 1's day-14 rule asks for a decision if it runs on. `status` is issued or ended;
    ended is final. An issued one runs from its start to its end date."""

    __tablename__ = "assignment"
    __table_args__ = (CheckConstraint("status IN ('issued', 'ended')", name="status"),)

    assignment_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    person_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    district: Mapped[str] = mapped_column(Text)
    provider_org: Mapped[str] = mapped_column(Text)
    pathway_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    status: Mapped[str] = mapped_column(Text)
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    end_reason: Mapped[str | None] = mapped_column(Text)
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
