from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, DateTime, Index, Text, UniqueConstraint, Uuid
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from hjemflyt.notifications.db import Base


class Task(Base):
    """Something the case office must do because of a provider message: an order not
    acknowledged in time, a rejected order (choose again), a message that could not be
    delivered, a change-of-need report to answer, a clarification request, an urgent
    request nobody accepted, a routine not acknowledged, "the person masters this".

    One task per (kind, reference_id): creating it twice is a no-op.
    """

    __tablename__ = "task"
    __table_args__ = (
        UniqueConstraint("kind", "reference_id"),
        Index("ix_task_open", "district", "created_at", postgresql_where="status = 'open'"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    kind: Mapped[str] = mapped_column(Text)
    reference_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    status: Mapped[str] = mapped_column(Text)  # open | done
    district: Mapped[str | None] = mapped_column(Text)
    person_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    provider_org: Mapped[str | None] = mapped_column(Text)
    order_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    title: Mapped[str] = mapped_column(Text)
    # Pseudonymous details only (ids, codes, reasons); never names or identity numbers.
    details: Mapped[dict[str, Any]] = mapped_column(JSONB)
    due_date: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_by: Mapped[str | None] = mapped_column(Text)
    resolution: Mapped[str | None] = mapped_column(Text)
