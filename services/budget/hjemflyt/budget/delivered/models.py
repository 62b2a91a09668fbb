from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, DateTime, Index, Numeric, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from hjemflyt.budget.db import Base


class DeliveryFlag(Base):
    """A month's delivery to a person far from the decision, told to the case office once
    (`delivery.flagged`). The id is derived from person, provider, month and kind, so a
    flag is raised (and published) at most once however often the month is looked at."""

    __tablename__ = "delivery_flag"
    __table_args__ = (
        CheckConstraint(
            "kind IN ('above_hours', 'above_frame_max', 'below_half_hours', 'below_frame_min')", name="kind"
        ),
        Index("ix_delivery_flag_month_provider", "month", "provider_org"),
    )

    flag_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    person_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    provider_org: Mapped[str] = mapped_column(Text)
    district: Mapped[str] = mapped_column(Text)
    month: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(Text)
    decided_hours: Mapped[Decimal] = mapped_column(Numeric(8, 2))
    frame_min_hours: Mapped[Decimal | None] = mapped_column(Numeric(8, 2))
    frame_max_hours: Mapped[Decimal | None] = mapped_column(Numeric(8, 2))
    delivered_hours: Mapped[Decimal] = mapped_column(Numeric(8, 2))
    # statement-issued | month-end-sweep: when it was found.
    trigger: Mapped[str] = mapped_column(Text)
    flagged_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class DeliverySweep(Base):
    """A month the month-end sweep has judged (once, `GRACE_DAYS` after its end): the sweep
    can then run every few seconds on the service clock and only look at months not judged."""

    __tablename__ = "delivery_sweep"

    month: Mapped[str] = mapped_column(Text, primary_key=True)
    flags: Mapped[int]
    swept_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
