from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, Text
from sqlalchemy.orm import Mapped, mapped_column

from hjemflyt.budget.db import Base


class KostraFunction(Base):
    """The KOSTRA function an IPLOS service code is accounted under, as the municipality set
    it. No rows: the shipped default mapping applies (`kostra.rules.DEFAULT_FUNCTIONS`)."""

    __tablename__ = "kostra_function"

    service_code: Mapped[str] = mapped_column(Text, primary_key=True)
    function: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_by: Mapped[str] = mapped_column(Text)


class Inhabitants(Base):
    """Inhabitants of a district in an age band in a year (from Statistics Norway), put by a
    manager: the denominators of cost per inhabitant and users per 1000 inhabitants."""

    __tablename__ = "inhabitants"
    __table_args__ = (
        CheckConstraint("age_band IN ('0-66', '67-79', '80+')", name="age_band"),
        CheckConstraint("inhabitants >= 0", name="inhabitants"),
    )

    year: Mapped[int] = mapped_column(primary_key=True)
    district: Mapped[str] = mapped_column(Text, primary_key=True)
    age_band: Mapped[str] = mapped_column(Text, primary_key=True)
    inhabitants: Mapped[int]
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_by: Mapped[str] = mapped_column(Text)
