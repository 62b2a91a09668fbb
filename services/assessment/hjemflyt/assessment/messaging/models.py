from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, LargeBinary, Text, UniqueConstraint, Uuid, text
from sqlalchemy.orm import Mapped, mapped_column

from hjemflyt.assessment.db import Base


class PloMessage(Base):
    """A national health message hjemflyt sent or received, stored before it is sent (the
    directory or HTTP transport reads it from here) and kept with its state and receipt.

    Outgoing: pending → sent → ok | rejected; `invalid` never leaves (a task says why).
    Incoming: received (an AppRec for it is stored as an outgoing message)."""

    __tablename__ = "plo_message"
    __table_args__ = (
        UniqueConstraint("direction", "msg_id"),
        Index("ix_plo_message_pending", "created_at", postgresql_where=text("status = 'pending'")),
        Index("ix_plo_message_awaiting", "sent_at", postgresql_where=text("status = 'sent'")),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    msg_id: Mapped[str] = mapped_column(Text)
    direction: Mapped[str] = mapped_column(Text)  # out | in
    msg_type: Mapped[str] = mapped_column(Text)  # MsgInfo/Type, or APPREC
    shipment: Mapped[str | None] = mapped_column(Text)  # N | E | K (PLO payloads)
    status: Mapped[str] = mapped_column(Text)
    origin: Mapped[str | None] = mapped_column(Text, unique=True)  # what produced it: once only
    person_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, index=True)
    decision_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, index=True)
    counterpart_her_id: Mapped[str | None] = mapped_column(Text)
    refers_to: Mapped[str | None] = mapped_column(Text)  # MsgId of the message this changes/cancels/answers
    effect: Mapped[str | None] = mapped_column(Text)  # incoming: what it created, "<kind>:<uuid>"
    body: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    receipt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    receipt_reason: Mapped[str | None] = mapped_column(Text)


class PloTask(Base):
    """Something about a message a case officer must look at: a message that did not validate
    (never sent), a receipt that did not come in time, a negative receipt."""

    __tablename__ = "plo_task"
    __table_args__ = (UniqueConstraint("kind", "message_id"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    kind: Mapped[str] = mapped_column(Text)
    message_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("plo_message.id"))
    person_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, index=True)
    decision_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    district: Mapped[str | None] = mapped_column(Text)
    detail: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
