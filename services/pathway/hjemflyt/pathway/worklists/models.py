"""Read models behind the worklists, built from notifications' events.

Each row is keyed by the producer's id of the thing (order, report, task), never by event,
so a repeated fact with a new event id updates the same row and is never counted twice.
Columns stay null until the event that fills them arrives: an answer may come before its
report and an acknowledgement before its order (they travel as separate messages).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Boolean, Date, DateTime, Integer, Numeric, Text, Uuid
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from hjemflyt.pathway.db import Base


class ProviderOrder(Base):
    """An order as pathway knows it: the latest version sent and the latest answered."""

    __tablename__ = "provider_order"

    order_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    person_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    provider_org: Mapped[str] = mapped_column(Text)
    decision_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, index=True)
    # order.created carries no district; the later events and the decision do.
    district: Mapped[str | None] = mapped_column(Text)
    sent_version: Mapped[int | None] = mapped_column(Integer)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    acked_version: Mapped[int | None] = mapped_column(Integer)
    acked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    accepted: Mapped[bool | None] = mapped_column(Boolean)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ChangeOfNeedReport(Base):
    """A provider's change-of-need report and, once given, the case office's answer."""

    __tablename__ = "change_of_need"

    change_of_need_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    order_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    person_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    provider_org: Mapped[str] = mapped_column(Text)
    district: Mapped[str] = mapped_column(Text)
    proposed_hours_per_month: Mapped[Decimal | None] = mapped_column(Numeric(8, 2))
    reported_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    outcome: Mapped[str | None] = mapped_column(Text)


class CaseTask(Base):
    """A case-office task notifications opened (and maybe closed)."""

    __tablename__ = "case_task"

    task_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    kind: Mapped[str] = mapped_column(Text)
    reference_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    district: Mapped[str | None] = mapped_column(Text)
    person_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, index=True)
    provider_org: Mapped[str | None] = mapped_column(Text)
    order_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, index=True)
    due_date: Mapped[date | None] = mapped_column(Date)
    opened_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    resolution: Mapped[str | None] = mapped_column(Text)


class AdjustmentLogged(Base):
    """A provider's adjustment inside a decision (`order.adjusted`) and, once the case office
    overruled it, when (`adjustment.overruled`). Either event may come first."""

    __tablename__ = "adjustment"

    adjustment_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    order_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    person_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    provider_org: Mapped[str] = mapped_column(Text)
    district: Mapped[str] = mapped_column(Text)
    service_type: Mapped[str] = mapped_column(Text)
    measure_code: Mapped[str | None] = mapped_column(Text)
    measure_description: Mapped[str] = mapped_column(Text)
    change: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    reason: Mapped[str | None] = mapped_column(Text)
    adjusted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    overruled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class DeliveryFlag(Base):
    """A month's delivery to a person far from the decision, as budget flagged it
    (`budget.delivery.flagged`, one per person, provider, month and kind)."""

    __tablename__ = "delivery_flag"

    flag_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    person_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    district: Mapped[str] = mapped_column(Text)
    provider_org: Mapped[str] = mapped_column(Text)
    month: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(Text)
    decided_hours: Mapped[Decimal] = mapped_column(Numeric(8, 2))
    frame_min_hours: Mapped[Decimal | None] = mapped_column(Numeric(8, 2))
    frame_max_hours: Mapped[Decimal | None] = mapped_column(Numeric(8, 2))
    delivered_hours: Mapped[Decimal] = mapped_column(Numeric(8, 2))
    flagged_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
