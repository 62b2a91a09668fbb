"""assignments: read model of assessment's pathway assignments (orders before a decision)

Revision ID: 0008_assignments
Revises: 0007_adjustments
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_assignments"
down_revision: str | Sequence[str] | None = "0007_adjustments"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "assignment",
        sa.Column("assignment_id", sa.Uuid(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("district", sa.Text(), nullable=False),
        sa.Column("provider_org", sa.Text(), nullable=False),
        sa.Column("pathway_id", sa.Uuid(), nullable=True),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("end_reason", sa.Text(), nullable=True),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("status IN ('issued', 'ended')", name=op.f("ck_assignment_status")),
        sa.PrimaryKeyConstraint("assignment_id", name=op.f("pk_assignment")),
        schema="pathway",
    )
    op.create_index(
        op.f("ix_pathway_assignment_person_id"), "assignment", ["person_id"], unique=False, schema="pathway"
    )


def downgrade() -> None:
    op.drop_table("assignment", schema="pathway")
