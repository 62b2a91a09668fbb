from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, Column, Date, DateTime, Numeric, SmallInteger, Table, Text, Uuid
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from hjemflyt.assessment.db import Base, metadata


class Municipality(Base):
    """Settings of the municipality this deployment serves (one row per tenant)."""

    __tablename__ = "municipality"

    tenant: Mapped[str] = mapped_column(Text, primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    preset: Mapped[str | None] = mapped_column(Text)
    appeal_body: Mapped[str] = mapped_column(Text)
    appeal_weeks: Mapped[int]
    case_deadline_months: Mapped[int]
    base_amount_g_ore: Mapped[int]
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ServiceType(Base):
    """A service in the municipality's catalogue, with its IPLOS code and KOSTRA function."""

    __tablename__ = "service_type"

    code: Mapped[str] = mapped_column(Text, primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    iplos_code: Mapped[str] = mapped_column(Text)
    kostra_function: Mapped[str] = mapped_column(Text)
    chargeable: Mapped[bool]
    legal_basis: Mapped[list[str]] = mapped_column(ARRAY(Text))
    active: Mapped[bool] = mapped_column(default=True)


class LegalBasis(Base):
    """A legal reference a decision can rest on; texts change with the law, so they are data."""

    __tablename__ = "legal_basis"

    code: Mapped[str] = mapped_column(Text, primary_key=True)
    title: Mapped[str] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)


class CopaymentBand(Base):
    """Co-payment for chargeable services by household income in multiples of G."""

    __tablename__ = "copayment_band"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    valid_from: Mapped[date] = mapped_column(Date)
    income_min_g: Mapped[Decimal] = mapped_column(Numeric(6, 2))
    income_max_g: Mapped[Decimal | None] = mapped_column(Numeric(6, 2))
    hourly_price_ore: Mapped[int]
    max_per_month_ore: Mapped[int]


class MeasureCode(Base):
    """A measure in the municipality's catalogue (tiltakskatalog) with its time norm: what a
    decision orders by code, a provider reports as done, and the activity model pays for
    (norm minutes times the rate, DOMAIN § 6). `service_type` None: usable under any service."""

    __tablename__ = "measure_code"
    __table_args__ = (CheckConstraint("norm_minutes BETWEEN 1 AND 600", name="norm_minutes"),)

    code: Mapped[str] = mapped_column(Text, primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    service_type: Mapped[str | None] = mapped_column(Text)
    norm_minutes: Mapped[int]
    active: Mapped[bool] = mapped_column(default=True)


class CaseOffice(Base):
    __tablename__ = "case_office"

    code: Mapped[str] = mapped_column(Text, primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    phone: Mapped[str] = mapped_column(Text)
    email: Mapped[str] = mapped_column(Text)
    districts: Mapped[list[str]] = mapped_column(ARRAY(Text))


# One row; its token changes (by triggers, migrations 0005_perf and 0007) in the same
# transaction as any write to municipality, service_type, legal_basis, copayment_band or
# measure_code. Processes cache the configuration and compare this token to know whether
# their copy is current.
config_version = Table(
    "config_version",
    metadata,
    Column("id", SmallInteger, primary_key=True, default=1),
    Column("token", Uuid, nullable=False),
)
