from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ARRAY, Boolean, DateTime, Index, Integer, Text, Uuid
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from hjemflyt.notifications.db import Base


class VisitBatch(Base):
    """One upload of visits, named by the provider (`batch_id`). Sending it again with the
    same content answers the stored receipt; different content under the same id is refused."""

    __tablename__ = "visit_batch"

    provider_org: Mapped[str] = mapped_column(Text, primary_key=True)
    batch_id: Mapped[str] = mapped_column(Text, primary_key=True)
    content_sha256: Mapped[str] = mapped_column(Text)
    visit_count: Mapped[int] = mapped_column(Integer)
    receipt: Mapped[dict[str, Any]] = mapped_column(JSONB)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    received_by: Mapped[str] = mapped_column(Text)


class Visit(Base):
    """One visit as the provider reported it; `visit_id` is the provider's own id, unique
    per provider. Staff only as a pseudonymous id."""

    __tablename__ = "visit"
    __table_args__ = (Index("ix_visit_order_planned", "order_id", "planned_start"),)

    provider_org: Mapped[str] = mapped_column(Text, primary_key=True)
    visit_id: Mapped[str] = mapped_column(Text, primary_key=True)
    batch_id: Mapped[str] = mapped_column(Text)
    order_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    person_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    district: Mapped[str] = mapped_column(Text)
    planned_start: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    planned_end: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actual_start: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    actual_end: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    staff_id: Mapped[str | None] = mapped_column(Text)
    measures_done: Mapped[list[str]] = mapped_column(ARRAY(Text))
    cancelled: Mapped[bool] = mapped_column(Boolean)
    cancel_cause: Mapped[str | None] = mapped_column(Text)
    reported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
