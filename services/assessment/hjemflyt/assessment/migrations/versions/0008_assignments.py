"""assignments: pathway-1 assignments sent to a provider before any decision

Revision ID: 0008_assignments
Revises: 0007_measures
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0008_assignments"
down_revision: str | Sequence[str] | None = "0007_measures"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "assignment",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("district", sa.Text(), nullable=False),
        sa.Column("provider_org", sa.Text(), nullable=False),
        sa.Column("pathway_id", sa.Uuid(), nullable=True),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("services", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=True),
        sa.Column("user_goal", sa.Text(), nullable=True),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("planned_end_date", sa.Date(), nullable=False),
        sa.Column("end_reason", sa.Text(), nullable=True),
        sa.Column("superseded_by", sa.Uuid(), nullable=True),
        sa.Column("created_by", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_by", sa.Text(), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["assessment.person.id"], name=op.f("fk_assignment_person_id_person")
        ),
        sa.ForeignKeyConstraint(
            ["district"], ["assessment.district.code"], name=op.f("fk_assignment_district_district")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assignment")),
        schema="assessment",
    )
    op.create_index(
        "ix_assignment_person_provider",
        "assignment",
        ["person_id", "provider_org"],
        schema="assessment",
    )


def downgrade() -> None:
    op.drop_table("assignment", schema="assessment")
