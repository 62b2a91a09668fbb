from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import DateTime, Index, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from hjemflyt.notifications.db import Base


class PersonPathway(Base):
    """A pathway of a person, from `pathway.opened` and `pathway.closed` (pathway's stream).

    One row per pathway; `closed_on` is set when it closes, so a late or repeated `opened`
    cannot reopen it. An order names the person's open pathway when it is issued.
    """

    __tablename__ = "person_pathway"
    __table_args__ = (Index("ix_person_pathway_person_id", "person_id", "opened_on"),)

    pathway_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    person_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    district: Mapped[str] = mapped_column(Text)
    kind: Mapped[int]
    opened_on: Mapped[date]
    planned_end: Mapped[date | None]
    closed_on: Mapped[date | None]
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
