from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import Date, DateTime, ForeignKey, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from hjemflyt.assessment.db import Base


class Appeal(Base):
    """An appeal (klage) against a decision: received, re-assessed by the municipality, and if
    upheld forwarded to Statsforvalteren, whose outcome is recorded. Dates as IPLOS needs them."""

    __tablename__ = "appeal"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    decision_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("decision.id"), index=True)
    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("person.id"), index=True)
    district: Mapped[str] = mapped_column(ForeignKey("district.code"))
    received_date: Mapped[date] = mapped_column(Date)
    deadline_date: Mapped[date | None] = mapped_column(Date)
    late: Mapped[bool]
    grounds: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text)  # received | reassessing | forwarded | closed
    municipality_outcome: Mapped[str | None] = mapped_column(Text)  # upheld | changed | reversed
    municipality_decided_date: Mapped[date | None] = mapped_column(Date)
    municipality_reasoning: Mapped[str | None] = mapped_column(Text)
    new_decision_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("decision.id"))
    forwarded_date: Mapped[date | None] = mapped_column(Date)
    appeal_body: Mapped[str | None] = mapped_column(Text)
    final_outcome: Mapped[str | None] = mapped_column(Text)  # upheld | changed | reversed | returned
    final_date: Mapped[date | None] = mapped_column(Date)
    version: Mapped[int] = mapped_column(default=1)
    registered_by: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
