from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import DateTime, Index, Numeric, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from hjemflyt.notifications.db import Base


class ChangeOfNeed(Base):
    """A change-of-need report (endringsmelding) from a provider, and the case office's answer."""

    __tablename__ = "change_of_need"
    __table_args__ = (
        Index("ix_change_of_need_status", "district", "status", "reported_at"),
        Index("ix_change_of_need_order_id", "order_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    order_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    provider_org: Mapped[str] = mapped_column(Text)
    person_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    district: Mapped[str] = mapped_column(Text)
    observation: Mapped[str] = mapped_column(Text)
    proposed_change: Mapped[str] = mapped_column(Text)
    evidence: Mapped[str | None] = mapped_column(Text)
    proposed_hours_per_month: Mapped[Decimal | None] = mapped_column(Numeric(7, 2))
    status: Mapped[str] = mapped_column(Text)  # awaiting | answered
    reported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    reported_by: Mapped[str] = mapped_column(Text)
    outcome: Mapped[str | None] = mapped_column(Text)
    answer: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    answered_by: Mapped[str | None] = mapped_column(Text)
    message_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
