from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Boolean, DateTime, Index, Integer, Numeric, Text, UniqueConstraint, Uuid
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from hjemflyt.notifications.db import Base


class Adjustment(Base):
    """One adjustment a provider made inside a decision's bounds (friere faglighet / trust
    model), with its reason; and, if the case office overruled it, who decided, why and the
    escalation path. `before` / `after` are the measure ({code, description, times, per,
    minutes}) as it ran before and runs after (`before` None for a new measure).

    `client_id` is the provider's own id for the adjustment: the same id again returns this
    row. Only adjustments `in_force` of the order's current version count towards the plan.
    """

    __tablename__ = "adjustment"
    __table_args__ = (
        UniqueConstraint("provider_org", "client_id"),
        Index("ix_adjustment_order", "order_id", "adjusted_at"),
        Index("ix_adjustment_person_id", "person_id", "adjusted_at"),
        Index("ix_adjustment_district", "district", "adjusted_at", "id"),
        Index("ix_adjustment_provider", "provider_org", "adjusted_at", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    client_id: Mapped[str | None] = mapped_column(Text)
    order_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    decision_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    decision_version: Mapped[int] = mapped_column(Integer)
    provider_org: Mapped[str] = mapped_column(Text)
    person_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    district: Mapped[str] = mapped_column(Text)
    service_type: Mapped[str] = mapped_column(Text)
    measure_code: Mapped[str | None] = mapped_column(Text)
    measure_description: Mapped[str] = mapped_column(Text)
    new_measure: Mapped[bool] = mapped_column(Boolean)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    after: Mapped[dict[str, Any]] = mapped_column(JSONB)
    content: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text)
    planned_hours_before: Mapped[Decimal | None] = mapped_column(Numeric(8, 2))
    planned_hours_after: Mapped[Decimal | None] = mapped_column(Numeric(8, 2))
    bounds: Mapped[dict[str, Any]] = mapped_column(JSONB)
    request_hash: Mapped[str] = mapped_column(Text)
    adjusted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    adjusted_by: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text)  # in_force | overruled
    overruled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    overruled_by: Mapped[str | None] = mapped_column(Text)
    overrule_reason: Mapped[str | None] = mapped_column(Text)
    overrule_instruction: Mapped[str | None] = mapped_column(Text)
    decided_by: Mapped[str | None] = mapped_column(Text)
    escalation_path: Mapped[list[str] | None] = mapped_column(JSONB)
    message_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
