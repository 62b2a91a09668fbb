"""person decisions

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "decision",
        sa.Column("decision_id", sa.Uuid(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("district", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=True),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("evaluation_date", sa.Date(), nullable=True),
        sa.Column("end_reason", sa.Text(), nullable=True),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("status IN ('made', 'amended', 'ended')", name=op.f("ck_decision_status")),
        sa.PrimaryKeyConstraint("decision_id", name=op.f("pk_decision")),
        schema="pathway",
    )
    op.create_index(
        op.f("ix_pathway_decision_person_id"), "decision", ["person_id"], unique=False, schema="pathway"
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_pathway_decision_person_id"), table_name="decision", schema="pathway")
    op.drop_table("decision", schema="pathway")
