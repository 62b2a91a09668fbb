from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, Date, DateTime, ForeignKey, Identity, Text, Uuid
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from hjemflyt.budget.db import Base


class Allocation(Base):
    """A year's frame allocated among provider units at the budgeting date, kept up to date
    each tertial. Its lines (units, general part, buffer) add up to `frame_ore` exactly.

    `version` grows with every change, so a redistribution proposed against an older
    state is refused as stale. The buffer's balance is kept here and in the ledger
    (`allocation_buffer_entry`), which it always equals.
    """

    __tablename__ = "allocation"
    __table_args__ = (CheckConstraint("tertial BETWEEN 1 AND 3", name="tertial"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    year: Mapped[int] = mapped_column(unique=True)
    budgeting_date: Mapped[date] = mapped_column(Date)
    rule_set_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("rule_set.id"))
    frame_ore: Mapped[int] = mapped_column(BigInteger)
    general_ore: Mapped[int] = mapped_column(BigInteger)
    buffer_ore: Mapped[int] = mapped_column(BigInteger)
    shortfall_ore: Mapped[int] = mapped_column(BigInteger)
    tertial: Mapped[int]
    version: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class AllocationUnit(Base):
    """One unit's line: what it is funded for (`need_ore`, the annual need) and its amount.

    `need_ore` never falls during the year (units are not cut); `unfunded_ore` is growth
    the buffer could not pay, waiting for a redistribution.
    """

    __tablename__ = "allocation_unit"

    allocation_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("allocation.id", ondelete="CASCADE"), primary_key=True
    )
    provider_org: Mapped[str] = mapped_column(Text, primary_key=True)
    kind: Mapped[str] = mapped_column(Text)
    model: Mapped[str] = mapped_column(Text)
    persons: Mapped[int]
    persons_per_level: Mapped[dict[str, int]] = mapped_column(JSONB)
    focus_persons: Mapped[int]
    need_ore: Mapped[int] = mapped_column(BigInteger)
    amount_ore: Mapped[int] = mapped_column(BigInteger)
    unfunded_ore: Mapped[int] = mapped_column(BigInteger)
    notes: Mapped[list[str]] = mapped_column(JSONB)


class AllocationChange(Base):
    """Every change to a line of an allocation, with its reason: who, when, before, after.
    `line` is a provider_org, `general` or `buffer`; `before_ore` is None when the line is made."""

    __tablename__ = "allocation_change"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    allocation_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("allocation.id", ondelete="CASCADE"), index=True
    )
    line: Mapped[str] = mapped_column(Text)
    before_ore: Mapped[int | None] = mapped_column(BigInteger)
    after_ore: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(Text)
    cause: Mapped[str] = mapped_column(Text)  # budgeting | tertial-2 | tertial-3 | redistribution
    redistribution_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    changed_by: Mapped[str] = mapped_column(Text)
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class BufferEntry(Base):
    """The buffer as a ledger: + money in (the share, surplus, freed base money), - money out
    to a unit (`provider_org`). The balance is the sum."""

    __tablename__ = "allocation_buffer_entry"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    allocation_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("allocation.id", ondelete="CASCADE"), index=True
    )
    amount_ore: Mapped[int] = mapped_column(BigInteger)
    balance_ore: Mapped[int] = mapped_column(BigInteger)
    provider_org: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text)
    cause: Mapped[str] = mapped_column(Text)
    redistribution_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    created_by: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Redistribution(Base):
    """A proposal to lower the base band's amount and move the money to units whose growth
    the buffer could not pay; a manager approves or rejects it, once."""

    __tablename__ = "redistribution"
    __table_args__ = (CheckConstraint("status IN ('proposed', 'approved', 'rejected')", name="status"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    allocation_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("allocation.id", ondelete="CASCADE"), index=True
    )
    allocation_version: Mapped[int]
    tertial: Mapped[int]
    status: Mapped[str] = mapped_column(Text)
    deficit_ore: Mapped[int] = mapped_column(BigInteger)
    base_level: Mapped[str] = mapped_column(Text)
    base_persons: Mapped[int]
    cut_per_base_person_ore: Mapped[int] = mapped_column(BigInteger)
    base_amount_before_ore: Mapped[int] = mapped_column(BigInteger)
    base_amount_after_ore: Mapped[int] = mapped_column(BigInteger)
    moved_ore: Mapped[int] = mapped_column(BigInteger)
    to_buffer_ore: Mapped[int] = mapped_column(BigInteger)
    units: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    proposed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    proposed_by: Mapped[str] = mapped_column(Text)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decided_by: Mapped[str | None] = mapped_column(Text)
    decision_reason: Mapped[str | None] = mapped_column(Text)
