from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Date, DateTime, ForeignKey, Numeric, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hjemflyt.assessment.db import Base


class Decision(Base):
    __tablename__ = "decision"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    version: Mapped[int] = mapped_column(default=1)
    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("person.id"), index=True)
    district: Mapped[str] = mapped_column(ForeignKey("district.code"))
    status: Mapped[str] = mapped_column(Text)
    decision_date: Mapped[date] = mapped_column(Date)
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    evaluation_date: Mapped[date | None] = mapped_column(Date)
    made_by: Mapped[str] = mapped_column(Text)
    made_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    services: Mapped[list[DecisionService]] = relationship(
        lazy="raise", cascade="all, delete-orphan", order_by="DecisionService.service_code"
    )


class DecisionService(Base):
    """One granted service of a decision, with its scope and chosen provider."""

    __tablename__ = "decision_service"
    __table_args__ = (UniqueConstraint("decision_id", "service_code"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    decision_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("decision.id", ondelete="CASCADE"))
    service_code: Mapped[str] = mapped_column(Text)
    hours_per_month: Mapped[Decimal] = mapped_column(Numeric(6, 2))
    provider_org: Mapped[str] = mapped_column(Text)
