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
    create_platform_tables(op.get_bind(), "pathway")
    op.create_table(
        "timeline_entry",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("district", sa.Text(), nullable=True),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("reference", sa.Text(), nullable=False),
        sa.Column("details", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_timeline_entry")),
        sa.UniqueConstraint("event_id", name=op.f("uq_timeline_entry_event_id")),
        schema="pathway",
    )
    op.create_index(
        "ix_timeline_person_time",
        "timeline_entry",
        ["person_id", "occurred_at"],
        unique=False,
        schema="pathway",
    )


def downgrade() -> None:
    op.drop_index("ix_timeline_person_time", table_name="timeline_entry", schema="pathway")
    op.drop_table("timeline_entry", schema="pathway")
    drop_platform_tables(op.get_bind(), "pathway")
