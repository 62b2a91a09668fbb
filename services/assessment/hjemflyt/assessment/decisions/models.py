from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Date, DateTime, ForeignKey, Index, Numeric, Text, UniqueConstraint, Uuid
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hjemflyt.assessment.db import Base


class Decision(Base):
    """A decision (vedtak, an enkeltvedtak) with the content forvaltningsloven §§ 24-25 and
    the Stavanger template require. draft → made → sent → active → ended; every change of a
    made decision is a new version, kept in `decision_version`."""

    __tablename__ = "decision"
    __table_args__ = (
        Index("ix_decision_evaluation", "status", "evaluation_date"),
        # The decision clock's sweep (decisions/sweep.py): sent ones by start date, running
        # ones with an end date by end date.
        Index("ix_decision_sent_start", "start_date", postgresql_where="status = 'sent'"),
        Index(
            "ix_decision_running_end",
            "end_date",
            postgresql_where="status IN ('made', 'sent', 'active') AND end_date IS NOT NULL",
        ),
        UniqueConstraint("source_system", "external_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    version: Mapped[int] = mapped_column(default=1)
    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("person.id"), index=True)
    district: Mapped[str] = mapped_column(ForeignKey("district.code"))
    status: Mapped[str] = mapped_column(Text)
    application_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("application.id"))
    assessment_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("assessment.id"))
    supersedes_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("decision.id"))
    organisation_model: Mapped[str | None] = mapped_column(Text)
    justification: Mapped[str | None] = mapped_column(Text)
    purpose: Mapped[str | None] = mapped_column(Text)
    user_goal: Mapped[str | None] = mapped_column(Text)
    legal_basis: Mapped[list[str]] = mapped_column(ARRAY(Text), default=list)
    start_date: Mapped[date | None] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    evaluation_date: Mapped[date | None] = mapped_column(Date)
    household_income_g: Mapped[Decimal | None] = mapped_column(Numeric(6, 2))
    copayment: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    appeal_text: Mapped[str | None] = mapped_column(Text)
    appeal_deadline: Mapped[date | None] = mapped_column(Date)
    decision_date: Mapped[date | None] = mapped_column(Date)
    made_by: Mapped[str | None] = mapped_column(Text)
    made_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    activated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    end_reason: Mapped[str | None] = mapped_column(Text)
    source_system: Mapped[str | None] = mapped_column(Text)
    external_id: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    services: Mapped[list[DecisionService]] = relationship(
        lazy="raise", cascade="all, delete-orphan", order_by="DecisionService.service_type"
    )


class DecisionService(Base):
    """One service the decision answers: its outcome, scope, measures and chosen provider."""

    __tablename__ = "decision_service"
    __table_args__ = (UniqueConstraint("decision_id", "service_type"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    decision_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("decision.id", ondelete="CASCADE"))
    service_type: Mapped[str] = mapped_column(Text)
    service_code: Mapped[str] = mapped_column(Text)  # IPLOS code of the service type
    outcome: Mapped[str] = mapped_column(Text)  # granted | partly_granted | refused
    scope_kind: Mapped[str] = mapped_column(Text)  # hours_per_month | frame | minutes_per_measure
    hours_per_month: Mapped[Decimal] = mapped_column(Numeric(6, 2))
    frame_min_hours: Mapped[Decimal | None] = mapped_column(Numeric(6, 2))
    frame_max_hours: Mapped[Decimal | None] = mapped_column(Numeric(6, 2))
    refusal_reason: Mapped[str | None] = mapped_column(Text)
    provider_org: Mapped[str | None] = mapped_column(Text)

    measures: Mapped[list[Measure]] = relationship(
        lazy="raise", cascade="all, delete-orphan", order_by="Measure.position"
    )


class Measure(Base):
    """What the service means for the person ("Hjelp til dusj"), how often, and in
    purchaser-provider districts how many minutes each time. `code` names the measure in the
    municipality's catalogue; `description` is the catalogue's name unless the case officer
    wrote their own."""

    __tablename__ = "measure"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    decision_service_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("decision_service.id", ondelete="CASCADE")
    )
    position: Mapped[int]
    code: Mapped[str | None] = mapped_column(Text)  # of the measure catalogue (config.MeasureCode)
    description: Mapped[str] = mapped_column(Text)
    times: Mapped[int]
    per: Mapped[str] = mapped_column(Text)  # day | week | month | quarter | year
    minutes: Mapped[int | None]


class DecisionVersion(Base):
    """Every version of a decision: what it said, who changed it, when, and what changed."""

    __tablename__ = "decision_version"
    __table_args__ = (UniqueConstraint("decision_id", "version"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    decision_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("decision.id", ondelete="CASCADE"), index=True)
    version: Mapped[int]
    status: Mapped[str] = mapped_column(Text)
    action: Mapped[str] = mapped_column(Text)  # created | edited | made | sent | activated | amended | ended
    changes: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSONB)
    changed_by: Mapped[str] = mapped_column(Text)
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ProviderChoice(Base):
    """Provider choice (brukervalg): that the person was informed, and what they chose
    (Oslo's rule since May 2021). One row per service per decision; later choices replace it."""

    __tablename__ = "provider_choice"
    __table_args__ = (UniqueConstraint("decision_id", "service_type"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    decision_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("decision.id", ondelete="CASCADE"))
    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("person.id"), index=True)
    service_type: Mapped[str] = mapped_column(Text)
    informed_date: Mapped[date] = mapped_column(Date)
    informed_by: Mapped[str] = mapped_column(Text)
    provider_org: Mapped[str | None] = mapped_column(Text)
    chosen_by: Mapped[str | None] = mapped_column(Text)  # person | next_of_kin | guardian | case_officer
    chosen_date: Mapped[date | None] = mapped_column(Date)
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
