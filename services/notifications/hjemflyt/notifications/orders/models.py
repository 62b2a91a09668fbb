from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, Index, Text, UniqueConstraint, Uuid
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from hjemflyt.notifications.db import Base


class Order(Base):
    """An order (oppdrag) for one provider, built from a decision. `content` is exactly
    what that provider needs, personal details included; only that provider can read it."""

    __tablename__ = "provider_order"
    __table_args__ = (
        UniqueConstraint("decision_id", "provider_org", "decision_version"),
        Index("ix_provider_order_inbox", "provider_org", "created_at", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    decision_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    decision_version: Mapped[int]
    provider_org: Mapped[str] = mapped_column(Text)
    person_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    district: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text)
    content: Mapped[dict[str, Any]] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
