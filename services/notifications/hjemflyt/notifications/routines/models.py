from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import Date, DateTime, ForeignKey, Index, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from hjemflyt.notifications.db import Base


class Routine(Base):
    """A document of the district routine registry: a municipality-wide template (district
    None) or a district's override of the template with the same key."""

    __tablename__ = "routine"
    __table_args__ = (
        UniqueConstraint(
            "key", "district", name="uq_routine_key_district", postgresql_nulls_not_distinct=True
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    kind: Mapped[str] = mapped_column(Text)  # routine | contacts | on_call | pathway | services
    key: Mapped[str] = mapped_column(Text)
    district: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(Text)


class RoutineVersion(Base):
    """One version of a routine: draft -> comment -> published (-> superseded by the next
    publication). Published text never changes; a change is a new draft."""

    __tablename__ = "routine_version"
    __table_args__ = (
        UniqueConstraint("routine_id", "number", name="uq_routine_version_number"),
        # At most one version in the making (draft or comment period) per routine.
        Index(
            "uq_routine_version_open",
            "routine_id",
            unique=True,
            postgresql_where="status IN ('draft', 'comment')",
        ),
        Index("ix_routine_version_published", "routine_id", "published_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    routine_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("routine.id"))
    number: Mapped[int]
    status: Mapped[str] = mapped_column(Text)
    title: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    comment_until: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    published_by: Mapped[str | None] = mapped_column(Text)


class RoutineComment(Base):
    """A provider's comment on a version in its comment period."""

    __tablename__ = "routine_comment"
    __table_args__ = (Index("ix_routine_comment_version", "version_id", "created_at"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    version_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("routine_version.id"))
    provider_org: Mapped[str] = mapped_column(Text)
    author: Mapped[str] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class RoutineDelivery(Base):
    """A published version pushed to one provider, and where its acknowledgement stands:
    awaiting -> accepted | rejected, or superseded when a newer version is published first.
    Reminders are counted here so the sweep sends at most one per interval."""

    __tablename__ = "routine_delivery"
    __table_args__ = (
        UniqueConstraint("version_id", "provider_org", name="uq_routine_delivery_provider"),
        UniqueConstraint("message_id", name="uq_routine_delivery_message"),
        Index("ix_routine_delivery_awaiting", "created_at", postgresql_where="status = 'awaiting'"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    routine_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("routine.id"))
    version_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("routine_version.id"))
    provider_org: Mapped[str] = mapped_column(Text)
    message_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    district: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text)
    ack_deadline: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    acknowledged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reason: Mapped[str | None] = mapped_column(Text)
    reminders_sent: Mapped[int] = mapped_column(default=0)
    last_reminded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
