from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, DateTime, ForeignKey, Text, Uuid
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hjemflyt.assessment.db import Base


class Assessment(Base):
    """The assessment (kartlegging): a home visit, IPLOS function scores, the home situation
    and the person's own answer to "what matters to you?"."""

    __tablename__ = "assessment"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("person.id"), index=True)
    application_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("application.id"), index=True)
    district: Mapped[str] = mapped_column(ForeignKey("district.code"))
    visit_date: Mapped[date | None] = mapped_column(Date)
    participants: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    home_situation: Mapped[str | None] = mapped_column(Text)
    what_matters: Mapped[str | None] = mapped_column(Text)
    iplos_version: Mapped[str] = mapped_column(Text)
    scores: Mapped[dict[str, int]] = mapped_column(JSONB, default=dict)
    status: Mapped[str] = mapped_column(Text)  # draft | completed
    version: Mapped[int] = mapped_column(default=1)
    created_by: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    goals: Mapped[list[AssessmentGoal]] = relationship(
        lazy="raise", cascade="all, delete-orphan", order_by="AssessmentGoal.position"
    )


class AssessmentGoal(Base):
    """A goal in the person's own words, with when it is followed up."""

    __tablename__ = "assessment_goal"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    assessment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("assessment.id", ondelete="CASCADE"))
    position: Mapped[int]
    text: Mapped[str] = mapped_column(Text)
    follow_up_date: Mapped[date | None] = mapped_column(Date)
