from __future__ import annotations

from sqlalchemy import Text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from hjemflyt.assessment.db import Base


class ApprovedProvider(Base):
    """Read model of the provider registry (owned by notifications), built from its events."""

    __tablename__ = "approved_provider"

    provider_org: Mapped[str] = mapped_column(Text, primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(Text)
    service_codes: Mapped[list[str]] = mapped_column(ARRAY(Text))
    districts: Mapped[list[str]] = mapped_column(ARRAY(Text))
    version: Mapped[int]
