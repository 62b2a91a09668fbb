from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, ForeignKey, Integer, LargeBinary, Text, UniqueConstraint, Uuid
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from hjemflyt.assessment.db import Base


class PersonDocument(Base):
    """A health document about a person, received as a PLO message (Innleggelsesrapport,
    Utskrivningsrapport, Medisinske opplysninger, Helseopplysninger til lege).

    One row per version: a change (Endring) adds a version to the chain and marks the one
    before `replaced`; a cancellation (Kansellering) marks the current one `cancelled`.
    `sections` is the readable rendering; the original message is kept only encrypted
    (`xml_cipher`, AES-GCM with the service's field key: it names the patient by identity
    number)."""

    __tablename__ = "person_document"
    __table_args__ = (UniqueConstraint("chain_id", "version"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("person.id"), index=True)
    kind: Mapped[str] = mapped_column(Text)  # MsgInfo/Type, e.g. UTSKRIVNINGSRAPPORT
    title: Mapped[str] = mapped_column(Text)
    sender_name: Mapped[str] = mapped_column(Text)
    sender_her_id: Mapped[str | None] = mapped_column(Text)
    msg_id: Mapped[str] = mapped_column(Text, unique=True)
    message_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("plo_message.id"))
    shipment: Mapped[str] = mapped_column(Text)  # N | E
    issued_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    sections: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    xml_cipher: Mapped[bytes] = mapped_column(LargeBinary)
    status: Mapped[str] = mapped_column(Text)  # current | replaced | cancelled
    chain_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)  # id of the first version
    version: Mapped[int] = mapped_column(Integer)
    replaces_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    cancelled_by_msg_id: Mapped[str | None] = mapped_column(Text)
