"""initial

Revision ID: 0001
Revises:
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from hjemflyt.shared.platform.migrations import create_platform_tables, drop_platform_tables

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_platform_tables(op.get_bind(), "notifications")
    op.create_table(
        "provider",
        sa.Column("provider_org", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("service_codes", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("districts", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("provider_org", name=op.f("pk_provider")),
        schema="notifications",
    )
    op.create_table(
        "provider_order",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("decision_id", sa.Uuid(), nullable=False),
        sa.Column("decision_version", sa.Integer(), nullable=False),
        sa.Column("provider_org", sa.Text(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("district", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("content", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_provider_order")),
        sa.UniqueConstraint(
            "decision_id", "provider_org", "decision_version", name=op.f("uq_provider_order_decision_id")
        ),
        schema="notifications",
    )
    op.create_index(
        "ix_provider_order_inbox",
        "provider_order",
        ["provider_org", "created_at", "id"],
        unique=False,
        schema="notifications",
    )


def downgrade() -> None:
    op.drop_index("ix_provider_order_inbox", table_name="provider_order", schema="notifications")
    op.drop_table("provider_order", schema="notifications")
    op.drop_table("provider", schema="notifications")
    drop_platform_tables(op.get_bind(), "notifications")
