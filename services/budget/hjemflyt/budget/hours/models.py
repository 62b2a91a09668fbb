from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

from sqlalchemy import Date, Numeric, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from hjemflyt.budget.db import Base


class DecidedHours(Base):
    """Decided hours per month of one service in one decision: the input of every financing model."""

    __tablename__ = "decided_hours"

    decision_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    service_code: Mapped[str] = mapped_column(Text, primary_key=True)
    decision_version: Mapped[int]
    person_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    district: Mapped[str] = mapped_column(Text)
    provider_org: Mapped[str] = mapped_column(Text, index=True)
    hours_per_month: Mapped[Decimal] = mapped_column(Numeric(6, 2))
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)


class ProviderUnit(Base):
    """Read model of the provider registry: names and kinds of provider units."""

    __tablename__ = "provider_unit"

    provider_org: Mapped[str] = mapped_column(Text, primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(Text)
    version: Mapped[int]
