"""Pathway tables: templates per municipality, pathways, their date corrections, deadline
tasks and the referrals pathway has heard of.

Read by other modules of pathway (worklists, indicators): `Pathway` is the one row per
pathway; `PathwayTask` the deadline tasks; use `PathwayRepository` for scoped reads.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Text,
    UniqueConstraint,
    Uuid,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from hjemflyt.pathway.db import Base


class PathwayTemplate(Base):
    """One version of the municipality's template for a pathway kind; the highest version
    of a kind is in force for pathways opened from then on (each pathway keeps its version)."""

    __tablename__ = "pathway_template"
    __table_args__ = (
        CheckConstraint("kind BETWEEN 0 AND 3", name="kind"),
        CheckConstraint(
            "decision_rule IN ('none', 'required_after_days', 'required', 'as_needed')", name="decision_rule"
        ),
        CheckConstraint("NOT (max_days IS NOT NULL AND max_months IS NOT NULL)", name="one_duration"),
    )

    kind: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    # Neither: no maximum (palliative care).
    max_days: Mapped[int | None] = mapped_column(Integer)
    max_months: Mapped[int | None] = mapped_column(Integer)
    decision_rule: Mapped[str] = mapped_column(Text)
    decision_after_days: Mapped[int | None] = mapped_column(Integer)
    start_checklist: Mapped[list[str]] = mapped_column(JSONB)
    end_checklist: Mapped[list[str]] = mapped_column(JSONB)
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    changed_by: Mapped[str] = mapped_column(Text)


class PathwayReferral(Base):
    """A referral pathway heard of: the earliest date a pathway of the person may start."""

    __tablename__ = "pathway_referral"

    referral_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    person_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    district: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(Text)
    received_on: Mapped[date] = mapped_column(Date)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Pathway(Base):
    """One person's pathway (pasientforløp) of kind 0-3.

    `status` open | closed. `opened_on`/`closed_on` are the legal dates (Europe/Oslo);
    `opened_at`/`closed_at` the clock's time when it was recorded (never back-dated: a
    back-dated date is a `PathwayCorrection`). `planned_end` follows the template (null: no
    maximum). `decision_due` is when a decision is required by the template's rule (null:
    never); `decision_covered` is set once a decision made in the pathway runs past it.
    `has_active_services`: the person holds a running decision, kept from decision events.
    """

    __tablename__ = "pathway"
    __table_args__ = (
        CheckConstraint("kind BETWEEN 0 AND 3", name="kind"),
        CheckConstraint("status IN ('open', 'closed')", name="status"),
        CheckConstraint(
            "outcome IS NULL OR outcome IN ('no_services', 'reduced', 'unchanged', 'increased')",
            name="outcome",
        ),
        CheckConstraint("(status = 'closed') = (closed_at IS NOT NULL)", name="closed_at"),
        # One open pathway per person and kind.
        Index(
            "uq_pathway_open_person_kind",
            "person_id",
            "kind",
            unique=True,
            postgresql_where=text("status = 'open'"),
        ),
        # One pathway per fact (a referral, an admission): the same fact again opens nothing.
        UniqueConstraint("source", "source_ref", name="uq_pathway_source_ref"),
        Index("ix_pathway_open_planned_end", "planned_end", postgresql_where=text("status = 'open'")),
        Index("ix_pathway_district_status", "district", "status"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    person_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    district: Mapped[str] = mapped_column(Text)
    kind: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(Text)
    template_version: Mapped[int] = mapped_column(Integer)
    opened_on: Mapped[date] = mapped_column(Date)
    opened_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    planned_end: Mapped[date | None] = mapped_column(Date)
    # The template's decision rule when it opened: none | required_after_days | required | as_needed.
    decision_rule: Mapped[str] = mapped_column(Text)
    decision_due: Mapped[date | None] = mapped_column(Date)
    decision_covered: Mapped[bool] = mapped_column(server_default=text("false"))
    has_active_services: Mapped[bool] = mapped_column(server_default=text("false"))
    referral_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    referral_on: Mapped[date | None] = mapped_column(Date)
    # The event type that opened it ("referral.received", "person.discharged") or "manual".
    source: Mapped[str] = mapped_column(Text)
    # The fact's id (referral, admission); null for manual openings.
    source_ref: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    responsible: Mapped[str | None] = mapped_column(Text)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_on: Mapped[date | None] = mapped_column(Date)
    outcome: Mapped[str | None] = mapped_column(Text)
    # Who or what closed it: a principal's subject or the event type.
    closed_by: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class PathwayCorrection(Base):
    """A recorded change of a pathway's date (back-dating), with who, why and when."""

    __tablename__ = "pathway_correction"
    __table_args__ = (CheckConstraint("field IN ('opened_on', 'closed_on')", name="field"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    pathway_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("pathway.id"), index=True)
    field: Mapped[str] = mapped_column(Text)
    old_value: Mapped[date] = mapped_column(Date)
    new_value: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text)
    corrected_by: Mapped[str] = mapped_column(Text)
    corrected_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class PathwayTask(Base):
    """A deadline task for the case office: decision_required | new_decision_required |
    overdue. Once per (pathway, kind); closed when the pathway closes or a decision covers it."""

    __tablename__ = "pathway_task"
    __table_args__ = (
        CheckConstraint("kind IN ('decision_required', 'new_decision_required', 'overdue')", name="kind"),
        UniqueConstraint("pathway_id", "kind", name="uq_pathway_task_pathway_kind"),
        Index("ix_pathway_task_open_district", "district", postgresql_where=text("closed_at IS NULL")),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    kind: Mapped[str] = mapped_column(Text)
    pathway_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("pathway.id"))
    person_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    district: Mapped[str] = mapped_column(Text)
    due: Mapped[date] = mapped_column(Date)
    opened_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    resolution: Mapped[str | None] = mapped_column(Text)
