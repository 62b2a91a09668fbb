from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, DateTime, Text, text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from hjemflyt.notifications.db import Base


class Provider(Base):
    """A provider (municipal unit or private company) and what it may deliver where, under
    which framework agreement and at which contract prices, and whom to contact there."""

    __tablename__ = "provider"

    provider_org: Mapped[str] = mapped_column(Text, primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(Text)
    service_codes: Mapped[list[str]] = mapped_column(ARRAY(Text))
    districts: Mapped[list[str]] = mapped_column(ARRAY(Text))
    version: Mapped[int]
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # The municipality's service type codes the agreement covers, and the price per hour in
    # øre for each ({"home-nursing": 65000}).
    service_types: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default=text("'{}'"))
    contract_prices: Mapped[dict[str, int]] = mapped_column(JSONB, server_default=text("'{}'"))
    # [{"role", "name", "phone", "email"}]: the provider's named work contacts.
    contacts: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, server_default=text("'[]'"))
    agreement_valid_from: Mapped[date | None] = mapped_column(Date)
    agreement_valid_to: Mapped[date | None] = mapped_column(Date)
