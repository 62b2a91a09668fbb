from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, DateTime, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from hjemflyt.pathway.db import Base


class PersonDecision(Base):
    """Read model of one decision's latest known version, built from assessment's events.

    `status` is made, amended or ended; ended is final: no later (or late) version of the
    decision opens it again. The version guards against events that arrive out of order.
    """

    __tablename__ = "decision"
    __table_args__ = (CheckConstraint("status IN ('made', 'amended', 'ended')", name="status"),)

    decision_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    person_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    district: Mapped[str] = mapped_column(Text)
    version: Mapped[int]
    status: Mapped[str] = mapped_column(Text)
    # None only when the decision's end is all pathway has heard of it.
    start_date: Mapped[date | None] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    evaluation_date: Mapped[date | None] = mapped_column(Date)
    end_reason: Mapped[str | None] = mapped_column(Text)
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
