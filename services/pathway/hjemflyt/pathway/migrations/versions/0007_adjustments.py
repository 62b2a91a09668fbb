"""worklists: providers' adjustments inside decisions (and overrules) as a read model

Revision ID: 0007_adjustments
Revises: 0006
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0007_adjustments"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "adjustment",
        sa.Column("adjustment_id", sa.Uuid(), nullable=False),
        sa.Column("order_id", sa.Uuid(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("provider_org", sa.Text(), nullable=False),
        sa.Column("district", sa.Text(), nullable=False),
        sa.Column("service_type", sa.Text(), nullable=False),
        sa.Column("measure_code", sa.Text(), nullable=True),
        sa.Column("measure_description", sa.Text(), nullable=False),
        sa.Column("change", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("adjusted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("overruled_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("adjustment_id", name=op.f("pk_adjustment")),
        schema="pathway",
    )
    op.create_index(op.f("ix_pathway_adjustment_person_id"), "adjustment", ["person_id"], schema="pathway")


def downgrade() -> None:
    op.drop_table("adjustment", schema="pathway")
