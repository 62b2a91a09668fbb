from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    Text,
    UniqueConstraint,
    Uuid,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from hjemflyt.budget.db import Base


class Settlement(Base):
    """A private provider's statement for one month. `draft` is recalculated on request;
    `issued` closes the month for that provider and never changes again (its lines are a
    snapshot, not a view of the visits)."""

    __tablename__ = "settlement"
    __table_args__ = (
        UniqueConstraint("provider_org", "month"),
        CheckConstraint("status IN ('draft', 'issued')", name="status"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    provider_org: Mapped[str] = mapped_column(Text)
    month: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text)
    lines: Mapped[int] = mapped_column(Integer)
    # What is paid: the lines' amounts, without the parts beyond the decisions not approved.
    amount_ore: Mapped[int]
    # The parts of visit lines beyond what was decided (and not approved): withheld, not paid.
    withheld_ore: Mapped[int] = mapped_column(server_default=text("0"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(Text)
    calculated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    issued_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    issued_by: Mapped[str | None] = mapped_column(Text)


class SettlementLine(Base):
    """One line: a delivered visit of the month (`visit`), a visit of a closed month reported
    again or late (`correction`, the difference to what was settled for it), or an accepted
    dispute (`adjustment`). Unpriced lines stay on the statement with the reason."""

    __tablename__ = "settlement_line"
    __table_args__ = (
        UniqueConstraint("settlement_id", "line_no"),
        CheckConstraint("kind IN ('visit', 'correction', 'adjustment')", name="kind"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    settlement_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("settlement.id", ondelete="CASCADE"))
    line_no: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(Text)
    visit_id: Mapped[str | None] = mapped_column(Text)
    visit_date: Mapped[date | None] = mapped_column(Date)
    order_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    person_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    service_type: Mapped[str | None] = mapped_column(Text)
    planned_seconds: Mapped[int] = mapped_column(Integer)
    actual_seconds: Mapped[int] = mapped_column(Integer)
    price_ore_per_hour: Mapped[int | None]
    amount_ore: Mapped[int]
    unpriced_reason: Mapped[str | None] = mapped_column(Text)
    corrects_month: Mapped[str | None] = mapped_column(Text)
    previously_settled_ore: Mapped[int | None]
    correction_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    dispute_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    # The part of the visit beyond the person's decided hours for the month (see
    # delivered.rules): its seconds and what it would earn. Not in amount_ore unless the
    # contract owner approved it for the person on the draft (`beyond_decision_approved`).
    beyond_decision_seconds: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    beyond_decision_ore: Mapped[int] = mapped_column(server_default=text("0"))
    beyond_decision_approved: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))


class BeyondDecisionApproval(Base):
    """The contract owner approves paying a person's delivery beyond the decision on a draft
    statement (e.g. an urgent need the case office confirmed before the decision caught up).
    Approvals belong to the draft: issued, the statement is final; a later claim is a dispute."""

    __tablename__ = "settlement_beyond_approval"

    settlement_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("settlement.id", ondelete="CASCADE"), primary_key=True
    )
    person_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    note: Mapped[str] = mapped_column(Text)
    approved_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    approved_by: Mapped[str] = mapped_column(Text)


class Dispute(Base):
    """A provider disputes a line of an issued statement; the contract owner (manager)
    accepts or rejects it with an answer. An accepted dispute is paid (or recovered) as an
    adjustment line on the provider's next statement (`adjusted_in`)."""

    __tablename__ = "settlement_dispute"
    __table_args__ = (CheckConstraint("status IN ('open', 'accepted', 'rejected')", name="status"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    settlement_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("settlement.id"), index=True)
    line_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("settlement_line.id"))
    provider_org: Mapped[str] = mapped_column(Text, index=True)
    reason: Mapped[str] = mapped_column(Text)
    expected_amount_ore: Mapped[int | None]
    status: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(Text)
    answer: Mapped[str | None] = mapped_column(Text)
    adjustment_ore: Mapped[int | None]
    answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    answered_by: Mapped[str | None] = mapped_column(Text)
    adjusted_in: Mapped[uuid.UUID | None] = mapped_column(Uuid)
