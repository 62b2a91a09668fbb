from __future__ import annotations

from enum import StrEnum

from sqlalchemy import Text
from sqlalchemy.orm import Mapped, mapped_column

from hjemflyt.assessment.db import Base


class OrganisationModel(StrEnum):
    """How a district organises case handling (DOMAIN § 2); configuration, never a code branch."""

    purchaser_provider = "purchaser_provider"
    trust_model = "trust_model"
    professional_freedom = "professional_freedom"


class District(Base):
    __tablename__ = "district"

    code: Mapped[str] = mapped_column(Text, primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    organisation_model: Mapped[str] = mapped_column(Text)
    case_office: Mapped[str] = mapped_column(Text)
