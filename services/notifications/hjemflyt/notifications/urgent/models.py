from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, DateTime, Identity, Index, Integer, Text, Uuid
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from hjemflyt.notifications.db import Base


class UrgentRequest(Base):
    """An urgent request (e.g. emergency GP to home nursing) to the provider of an active
    order: accepted or declined by `respond_by`; declined or unanswered escalates."""

    __tablename__ = "urgent_request"
    __table_args__ = (
        Index("ix_urgent_request_due", "respond_by", postgresql_where="status = 'sent'"),
        Index("ix_urgent_request_district", "district", "requested_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    order_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    provider_org: Mapped[str] = mapped_column(Text)
    person_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    district: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text)
    urgency: Mapped[str] = mapped_column(Text)
    requested_action: Mapped[str] = mapped_column(Text)
    respond_within_minutes: Mapped[int] = mapped_column(Integer)
    respond_by: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # sent -> accepted | declined | escalated (no answer in time; a late answer is still kept)
    status: Mapped[str] = mapped_column(Text)
    requested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    requested_by: Mapped[str] = mapped_column(Text)
    accepted: Mapped[bool | None] = mapped_column(Boolean)
    note: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    answered_by: Mapped[str | None] = mapped_column(Text)
    escalated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    message_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)


class UrgentRequestTrail(Base):
    """The audit trail of an urgent request: every state change, who, what, when."""

    __tablename__ = "urgent_request_trail"
    __table_args__ = (Index("ix_urgent_request_trail_urgent_request_id", "urgent_request_id"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    urgent_request_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(Text)
    role: Mapped[str] = mapped_column(Text)
    organisation: Mapped[str | None] = mapped_column(Text)
    action: Mapped[str] = mapped_column(Text)  # sent | accepted | declined | escalated | acknowledged
    details: Mapped[dict[str, Any]] = mapped_column(JSONB)
