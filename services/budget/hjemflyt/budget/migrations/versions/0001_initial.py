"""initial

Revision ID: 0001
Revises:
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from hjemflyt.shared.platform.migrations import create_platform_tables, drop_platform_tables

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_platform_tables(op.get_bind(), "budget")
    op.create_table(
        "decided_hours",
        sa.Column("decision_id", sa.Uuid(), nullable=False),
        sa.Column("service_code", sa.Text(), nullable=False),
        sa.Column("decision_version", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("district", sa.Text(), nullable=False),
        sa.Column("provider_org", sa.Text(), nullable=False),
        sa.Column("hours_per_month", sa.Numeric(precision=6, scale=2), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("decision_id", "service_code", name=op.f("pk_decided_hours")),
        schema="budget",
    )
    op.create_index(
        op.f("ix_budget_decided_hours_person_id"),
        "decided_hours",
        ["person_id"],
        unique=False,
        schema="budget",
    )
    op.create_index(
        op.f("ix_budget_decided_hours_provider_org"),
        "decided_hours",
        ["provider_org"],
        unique=False,
        schema="budget",
    )
    op.create_table(
        "provider_unit",
        sa.Column("provider_org", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("provider_org", name=op.f("pk_provider_unit")),
        schema="budget",
    )


def downgrade() -> None:
    op.drop_table("provider_unit", schema="budget")
    op.drop_index(op.f("ix_budget_decided_hours_provider_org"), table_name="decided_hours", schema="budget")
    op.drop_index(op.f("ix_budget_decided_hours_person_id"), table_name="decided_hours", schema="budget")
    op.drop_table("decided_hours", schema="budget")
    drop_platform_tables(op.get_bind(), "budget")
