from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, Identity, Index, Text, UniqueConstraint, Uuid
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from hjemflyt.pathway.db import Base


class TimelineEntry(Base):
    """One thing that happened to a person, in the order it happened.

    One entry per event and person: most events concern one person, a visit batch several.
    `seq` is the order pathway received events in (each stream is consumed in stream order):
    it orders entries of the same moment.
    """

    __tablename__ = "timeline_entry"
    __table_args__ = (
        Index("ix_timeline_person_time", "person_id", "occurred_at"),
        UniqueConstraint("event_id", "person_id", name="uq_timeline_entry_event_person"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    seq: Mapped[int] = mapped_column(BigInteger, Identity())
    event_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    person_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    district: Mapped[str | None] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(Text)
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    source: Mapped[str] = mapped_column(Text)
    reference: Mapped[str] = mapped_column(Text)
    details: Mapped[dict[str, Any]] = mapped_column(JSONB)
