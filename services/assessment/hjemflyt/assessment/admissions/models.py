from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import Boolean, Date, DateTime, ForeignKey, Index, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from hjemflyt.assessment.db import Base


class Admission(Base):
    """A stay in hospital or an institution (innleggelse). Home services pause while it
    lasts; at most one is open per person. A hospital's logistics messages add when the
    person is ready for discharge (utskrivningsklar), and a cancelled admission message
    marks the stay cancelled (kept, never deleted; no longer open)."""

    __tablename__ = "admission"
    __table_args__ = (
        Index(
            "uq_admission_open_per_person",
            "person_id",
            unique=True,
            postgresql_where="discharged_at IS NULL AND cancelled_at IS NULL",
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("person.id"), index=True)
    district: Mapped[str] = mapped_column(Text)
    institution_kind: Mapped[str] = mapped_column(Text)
    admitted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expected_discharge_date: Mapped[date | None] = mapped_column(Date)
    discharged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(Text)
    discharged_by: Mapped[str | None] = mapped_column(Text)
    ready_for_discharge_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    ready_for_discharge_estimated: Mapped[bool | None] = mapped_column(Boolean)
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
