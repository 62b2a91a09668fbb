"""configuration

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "case_office",
        sa.Column("code", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("phone", sa.Text(), nullable=False),
        sa.Column("email", sa.Text(), nullable=False),
        sa.Column("districts", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_case_office")),
        schema="assessment",
    )
    op.create_table(
        "copayment_band",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("income_min_g", sa.Numeric(precision=6, scale=2), nullable=False),
        sa.Column("income_max_g", sa.Numeric(precision=6, scale=2), nullable=True),
        sa.Column("hourly_price_ore", sa.Integer(), nullable=False),
        sa.Column("max_per_month_ore", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_copayment_band")),
        schema="assessment",
    )
    op.create_table(
        "legal_basis",
        sa.Column("code", sa.Text(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_legal_basis")),
        schema="assessment",
    )
    op.create_table(
        "municipality",
        sa.Column("tenant", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("preset", sa.Text(), nullable=True),
        sa.Column("appeal_body", sa.Text(), nullable=False),
        sa.Column("appeal_weeks", sa.Integer(), nullable=False),
        sa.Column("case_deadline_months", sa.Integer(), nullable=False),
        sa.Column("base_amount_g_ore", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tenant", name=op.f("pk_municipality")),
        schema="assessment",
    )
    op.create_table(
        "service_type",
        sa.Column("code", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("iplos_code", sa.Text(), nullable=False),
        sa.Column("kostra_function", sa.Text(), nullable=False),
        sa.Column("chargeable", sa.Boolean(), nullable=False),
        sa.Column("legal_basis", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_service_type")),
        schema="assessment",
    )


def downgrade() -> None:
    op.drop_table("service_type", schema="assessment")
    op.drop_table("municipality", schema="assessment")
    op.drop_table("legal_basis", schema="assessment")
    op.drop_table("copayment_band", schema="assessment")
    op.drop_table("case_office", schema="assessment")
