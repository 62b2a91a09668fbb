from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import CheckConstraint, Date, DateTime, Numeric, Text, Uuid, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from hjemflyt.budget.db import Base


class DecidedHours(Base):
    """Decided hours per month of one service in one decision: the input of every financing model.

    Only services that count (granted or partly granted, hours above 0) of decisions that have
    not ended. `provider_org` is None until the person has chosen a provider.
    """

    __tablename__ = "decided_hours"

    decision_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    # The service's identity in the decision: its catalogue type, else its IPLOS code.
    service_key: Mapped[str] = mapped_column(Text, primary_key=True)
    service_code: Mapped[str] = mapped_column(Text)
    service_type: Mapped[str | None] = mapped_column(Text)
    outcome: Mapped[str] = mapped_column(Text)
    scope_kind: Mapped[str] = mapped_column(Text)
    decision_version: Mapped[int]
    person_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    district: Mapped[str] = mapped_column(Text, index=True)
    provider_org: Mapped[str | None] = mapped_column(Text, index=True)
    hours_per_month: Mapped[Decimal] = mapped_column(Numeric(6, 2))
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    # KOSTRA age band at the decision date (0-66 | 67-79 | 80+); None from older events.
    age_band: Mapped[str | None] = mapped_column(Text)
    # The structured order's scope (issue 12): a frame's minimum and maximum (scope_kind
    # frame; hours_per_month is then the maximum) and the ordered measures as in the event
    # (code, description, times, per, minutes). Empty from decisions that do not give them.
    frame_min_hours: Mapped[Decimal | None] = mapped_column(Numeric(6, 2))
    frame_max_hours: Mapped[Decimal | None] = mapped_column(Numeric(6, 2))
    measures: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, server_default=text("'[]'::jsonb"))


class EndedHours(Base):
    """The decided services of decisions that have ended, as they stood, with the day they
    ended: decided versus delivered compares months gone by, when the decision may have
    ended since (the counted hours above forget an ended decision at once)."""

    __tablename__ = "ended_hours"

    decision_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    service_key: Mapped[str] = mapped_column(Text, primary_key=True)
    service_code: Mapped[str] = mapped_column(Text)
    service_type: Mapped[str | None] = mapped_column(Text)
    outcome: Mapped[str] = mapped_column(Text)
    scope_kind: Mapped[str] = mapped_column(Text)
    decision_version: Mapped[int]
    person_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    district: Mapped[str] = mapped_column(Text)
    provider_org: Mapped[str | None] = mapped_column(Text)
    hours_per_month: Mapped[Decimal] = mapped_column(Numeric(6, 2))
    start_date: Mapped[date] = mapped_column(Date)
    # The day it ended (the decision's end date as `decision.ended` gives it).
    end_date: Mapped[date | None] = mapped_column(Date)
    age_band: Mapped[str | None] = mapped_column(Text)
    frame_min_hours: Mapped[Decimal | None] = mapped_column(Numeric(6, 2))
    frame_max_hours: Mapped[Decimal | None] = mapped_column(Numeric(6, 2))
    measures: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, server_default=text("'[]'::jsonb"))


class DecisionState(Base):
    """The latest version of each decision budget has applied, and whether it has ended.

    Guards against stale versions; an ended decision's row is its tombstone, so no version
    arriving late counts its hours again.
    """

    __tablename__ = "decision"
    __table_args__ = (CheckConstraint("status IN ('active', 'ended')", name="status"),)

    decision_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    version: Mapped[int]
    person_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    district: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text)
    end_date: Mapped[date | None] = mapped_column(Date)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ProviderChoice(Base):
    """The provider a person chose for one service of a decision (from `provider.chosen`).

    Kept so a choice applies even when it is handled before the decision it belongs to.
    """

    __tablename__ = "provider_choice"

    decision_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    service_key: Mapped[str] = mapped_column(Text, primary_key=True)
    service_code: Mapped[str] = mapped_column(Text)
    provider_org: Mapped[str] = mapped_column(Text)
    chosen_date: Mapped[date] = mapped_column(Date)


class ProviderUnit(Base):
    """Read model of the provider registry: names and kinds of provider units, contract prices."""

    __tablename__ = "provider_unit"

    provider_org: Mapped[str] = mapped_column(Text, primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(Text)
    version: Mapped[int]
    # The framework agreement as of the latest registry version: price per hour in øre by
    # service type code, and the agreement period (settlements price visits with these).
    contract_prices_ore_per_hour: Mapped[dict[str, int]] = mapped_column(
        JSONB, server_default=text("'{}'::jsonb")
    )
    agreement_valid_from: Mapped[date | None] = mapped_column(Date)
    agreement_valid_to: Mapped[date | None] = mapped_column(Date)
