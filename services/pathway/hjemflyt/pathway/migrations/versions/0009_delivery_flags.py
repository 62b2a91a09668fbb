"""delivery flags from budget for the case office's worklists

Revision ID: 0009_delivery_flags
Revises: 0008_assignments
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_delivery_flags"
down_revision: str | None = "0008_assignments"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "delivery_flag",
        sa.Column("flag_id", sa.Uuid(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("district", sa.Text(), nullable=False),
        sa.Column("provider_org", sa.Text(), nullable=False),
        sa.Column("month", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("decided_hours", sa.Numeric(8, 2), nullable=False),
        sa.Column("frame_min_hours", sa.Numeric(8, 2), nullable=True),
        sa.Column("frame_max_hours", sa.Numeric(8, 2), nullable=True),
        sa.Column("delivered_hours", sa.Numeric(8, 2), nullable=False),
        sa.Column("flagged_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("flag_id", name=op.f("pk_delivery_flag")),
        schema="pathway",
    )
    op.create_index(
        op.f("ix_pathway_delivery_flag_person_id"),
        "delivery_flag",
        ["person_id"],
        unique=False,
        schema="pathway",
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_pathway_delivery_flag_person_id"), table_name="delivery_flag", schema="pathway")
    op.drop_table("delivery_flag", schema="pathway")
