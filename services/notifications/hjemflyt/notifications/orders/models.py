from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, Index, Text, UniqueConstraint, Uuid
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from hjemflyt.notifications.db import Base


class Order(Base):
    """An order (oppdrag) for one provider: one row per decision and provider, holding the
    newest version sent. Each version the provider was sent (new, changed, paused, resumed,
    ended) is a message (`messages.Message.order_id`), which keeps the history exactly as
    the provider received it. `content` is exactly what that provider needs, personal
    details included; only that provider and the case office of the district can read it.

    `status`: sent (awaiting the provider's answer) -> accepted | rejected; paused while the
    person is admitted (`resume_status` is what it returns to); ended.
    """

    __tablename__ = "provider_order"
    __table_args__ = (
        UniqueConstraint("decision_id", "provider_org"),
        Index("ix_provider_order_inbox", "provider_org", "created_at", "id"),
        Index("ix_provider_order_district", "district", "created_at", "id"),
        Index("ix_provider_order_person_id", "person_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    decision_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    decision_version: Mapped[int]
    provider_org: Mapped[str] = mapped_column(Text)
    person_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    district: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(Text)  # of the newest version: new | changed | ended
    status: Mapped[str] = mapped_column(Text)
    content: Mapped[dict[str, Any]] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    resume_status: Mapped[str | None] = mapped_column(Text)
    # The admission that paused it; its discharge resumes it.
    paused_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)
