from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, LargeBinary, Text
from sqlalchemy.orm import Mapped, mapped_column

from hjemflyt.notifications.db import Base


class WebhookEndpoint(Base):
    """Where a provider receives its messages, and the secrets they are signed with.

    Secrets are stored encrypted (we must sign with them, so a hash will not do). During a
    rotation the previous secret stays valid until `previous_valid_until`, and messages are
    signed with both, so the provider can switch its receiver without losing a message.
    """

    __tablename__ = "webhook_endpoint"

    provider_org: Mapped[str] = mapped_column(Text, primary_key=True)
    url: Mapped[str] = mapped_column(Text)
    secret: Mapped[bytes] = mapped_column(LargeBinary)
    previous_secret: Mapped[bytes | None] = mapped_column(LargeBinary)
    previous_valid_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    active: Mapped[bool]
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
