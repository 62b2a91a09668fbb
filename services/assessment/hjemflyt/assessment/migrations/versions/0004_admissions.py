"""admissions: hospital and institution stays, which pause home services

Revision ID: 0004
Revises: 0003
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "admission",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("district", sa.Text(), nullable=False),
        sa.Column("institution_kind", sa.Text(), nullable=False),
        sa.Column("admitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expected_discharge_date", sa.Date(), nullable=True),
        sa.Column("discharged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Text(), nullable=False),
        sa.Column("discharged_by", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["person_id"], ["assessment.person.id"], name=op.f("fk_admission_person_id_person")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_admission")),
        schema="assessment",
    )
    op.create_index(
        op.f("ix_assessment_admission_person_id"), "admission", ["person_id"], schema="assessment"
    )
    op.create_index(
        "uq_admission_open_per_person",
        "admission",
        ["person_id"],
        unique=True,
        schema="assessment",
        postgresql_where="discharged_at IS NULL",
    )


def downgrade() -> None:
    op.drop_table("admission", schema="assessment")
