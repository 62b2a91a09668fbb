"""Facts the indicators are computed from, kept compact: millions of visits a year.

Each table is filled from events and is idempotent: a redelivered or repeated event, and
events that arrive out of order, leave the same rows.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import ARRAY, Boolean, Date, DateTime, Index, Integer, Text, Uuid, text
from sqlalchemy.orm import Mapped, mapped_column

from hjemflyt.pathway.db import Base


class VisitFact(Base):
    """One reported visit: who, when (Oslo date), by which staff, cancelled or not.

    A visit reported again replaces the earlier report unless that one is newer
    (`reported_at`), so a late-arriving older report cannot undo a correction.
    """

    __tablename__ = "visit_fact"
    __table_args__ = (
        # First visit on or after a referral: one index probe per referral.
        Index("ix_visit_fact_person_date", "person_id", "visit_date", postgresql_where=text("NOT cancelled")),
    )

    provider_org: Mapped[str] = mapped_column(Text, primary_key=True)
    visit_id: Mapped[str] = mapped_column(Text, primary_key=True)
    person_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    district: Mapped[str] = mapped_column(Text)
    visit_date: Mapped[date] = mapped_column(Date)
    staff_id: Mapped[str | None] = mapped_column(Text)
    cancelled: Mapped[bool] = mapped_column(Boolean)
    reported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ReferralFact(Base):
    __tablename__ = "referral_fact"

    referral_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    person_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    district: Mapped[str] = mapped_column(Text)
    received_date: Mapped[date] = mapped_column(Date)


class DecisionFact(Base):
    """A decision as the indicators need it: its first decision date, the latest content
    (dates, IPLOS service codes) and whether it ended.

    `content_version` guards the content against stale versions; the end is final and kept
    apart, so an end that arrives before the decision's versions is not lost.
    """

    __tablename__ = "decision_fact"
    __table_args__ = (Index("ix_decision_fact_person_date", "person_id", "decision_date"),)

    decision_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    person_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    district: Mapped[str] = mapped_column(Text)
    decision_date: Mapped[date | None] = mapped_column(Date)
    content_version: Mapped[int] = mapped_column(Integer)
    start_date: Mapped[date | None] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    evaluation_date: Mapped[date | None] = mapped_column(Date)
    service_codes: Mapped[list[str]] = mapped_column(ARRAY(Text))
    ended_on: Mapped[date | None] = mapped_column(Date)


class AppealFact(Base):
    """One appeal decided at one stage (municipality, then perhaps the county governor)."""

    __tablename__ = "appeal_fact"

    appeal_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    stage: Mapped[str] = mapped_column(Text, primary_key=True)
    district: Mapped[str] = mapped_column(Text)
    outcome: Mapped[str] = mapped_column(Text)
    decided_date: Mapped[date] = mapped_column(Date)


class QualityBoardWeek(Base):
    """What the journal showed for a person in one ISO week (DOMAIN § 8), as recorded by the
    case system or the provider; no event carries it."""

    __tablename__ = "quality_board_week"

    person_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    week: Mapped[str] = mapped_column(Text, primary_key=True)
    district: Mapped[str] = mapped_column(Text)
    right_of_access_informed: Mapped[bool] = mapped_column(Boolean)
    care_plan_updated: Mapped[bool] = mapped_column(Boolean)
    nutrition: Mapped[bool] = mapped_column(Boolean)
    vital_signs: Mapped[bool] = mapped_column(Boolean)
    fall_assessment: Mapped[bool] = mapped_column(Boolean)
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    recorded_by: Mapped[str] = mapped_column(Text)
