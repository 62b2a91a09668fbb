from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import Date, DateTime, Index, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from hjemflyt.notifications.db import Base


class Clarification(Base):
    """A clarification request about an order, either way, with a due date; answered by the
    other side. Past the due date unanswered, the case office gets a task (`overdue_at`)."""

    __tablename__ = "clarification"
    __table_args__ = (
        Index("ix_clarification_due", "due_date", postgresql_where="status = 'open' AND overdue_at IS NULL"),
        Index("ix_clarification_district", "district", "asked_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    direction: Mapped[str] = mapped_column(Text)  # provider_to_case_office | case_office_to_provider
    order_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    provider_org: Mapped[str] = mapped_column(Text)
    person_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    district: Mapped[str] = mapped_column(Text)
    question: Mapped[str] = mapped_column(Text)
    due_date: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(Text)  # open | answered
    asked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    asked_by: Mapped[str] = mapped_column(Text)
    answer: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    answered_by: Mapped[str | None] = mapped_column(Text)
    overdue_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
