from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, Index, Text, UniqueConstraint, Uuid
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from hjemflyt.notifications.db import Base


class Message(Base):
    """One structured message to one provider (an order version, a published routine, a
    clarification request, an answer to a change-of-need report, an urgent request ...).

    Messages to a provider about one person are delivered in `sequence` order: the
    `ordering_key` is the person id, or a fixed key for messages about no person
    ("routines"). `body` is exactly what the provider receives, nothing more. The delivery
    columns say where the webhook delivery stands; the inbox serves every message whatever
    its delivery state.
    """

    __tablename__ = "message"
    __table_args__ = (
        UniqueConstraint("provider_org", "ordering_key", "sequence", name="uq_message_sequence"),
        UniqueConstraint("provider_org", "position", name="uq_message_position"),
        Index(
            "ix_message_due",
            "next_attempt_at",
            postgresql_where="delivery_state = 'pending'",
        ),
        Index("ix_message_order_id", "order_id"),
        Index(
            "ix_message_ack_due",
            "ack_deadline",
            postgresql_where="ack_status = 'awaiting'",
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    # The provider's inbox position (its cursor): per provider, increasing in commit order,
    # because the counter row stays locked until the inserting transaction commits.
    position: Mapped[int] = mapped_column(BigInteger)
    provider_org: Mapped[str] = mapped_column(Text)
    ordering_key: Mapped[str] = mapped_column(Text)
    sequence: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(Text)
    person_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    district: Mapped[str | None] = mapped_column(Text)
    order_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    # What the message refers to in its own module (a routine version, a report ...).
    reference_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    body: Mapped[dict[str, Any]] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    # Acknowledgement: only for messages the provider must accept or reject.
    ack_status: Mapped[str | None] = mapped_column(Text)  # awaiting | accepted | rejected
    ack_deadline: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    acked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    ack_reason: Mapped[str | None] = mapped_column(Text)
    escalated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    # Webhook delivery: pending -> delivered | dead; `inbox` when the provider has no webhook.
    delivery_state: Mapped[str] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(Text)
    # When the current delivery effort began (first try, or a redelivery by the case
    # office): the retry window counts from here.
    retry_from: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    dead_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # First time the provider fetched it from the inbox (pull delivery).
    fetched_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class MessageSequence(Base):
    """The last number given per provider and ordering key: per person (`sequence`) and,
    under the key INBOX_KEY, the provider's inbox position. Incremented with an upsert
    whose row lock lasts until commit, so numbers become visible in the order given."""

    __tablename__ = "message_sequence"

    provider_org: Mapped[str] = mapped_column(Text, primary_key=True)
    ordering_key: Mapped[str] = mapped_column(Text, primary_key=True)
    last: Mapped[int] = mapped_column(BigInteger)
