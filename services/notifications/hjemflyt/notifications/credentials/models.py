from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Index, LargeBinary, Text
from sqlalchemy.orm import Mapped, mapped_column

from hjemflyt.notifications.db import Base


class ProviderCredential(Base):
    """An OAuth2 client of a provider's system (client credentials grant at POST /v1/token).

    Only a salted scrypt hash of the secret is kept (`kdf` names the parameters, so they can
    be raised later without invalidating existing secrets). Revoked clients stay as history.
    """

    __tablename__ = "provider_credential"
    __table_args__ = (Index("ix_provider_credential_provider_org", "provider_org"),)

    client_id: Mapped[str] = mapped_column(Text, primary_key=True)
    provider_org: Mapped[str] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    secret_hash: Mapped[bytes] = mapped_column(LargeBinary)
    salt: Mapped[bytes] = mapped_column(LargeBinary)
    kdf: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(Text)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_by: Mapped[str | None] = mapped_column(Text)
