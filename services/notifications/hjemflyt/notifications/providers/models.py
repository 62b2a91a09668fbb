from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from hjemflyt.notifications.db import Base


class Provider(Base):
    """A provider (municipal unit or private company) and what it may deliver where."""

    __tablename__ = "provider"

    provider_org: Mapped[str] = mapped_column(Text, primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(Text)
    service_codes: Mapped[list[str]] = mapped_column(ARRAY(Text))
    districts: Mapped[list[str]] = mapped_column(ARRAY(Text))
    version: Mapped[int]
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
