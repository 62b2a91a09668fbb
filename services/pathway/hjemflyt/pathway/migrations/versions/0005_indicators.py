"""indicators: visit, referral, decision and appeal facts; the weekly quality board

Revision ID: 0005
Revises: 0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0005"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "visit_fact",
        sa.Column("provider_org", sa.Text(), nullable=False),
        sa.Column("visit_id", sa.Text(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("district", sa.Text(), nullable=False),
        sa.Column("visit_date", sa.Date(), nullable=False),
        sa.Column("staff_id", sa.Text(), nullable=True),
        sa.Column("cancelled", sa.Boolean(), nullable=False),
        sa.Column("reported_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("provider_org", "visit_id", name=op.f("pk_visit_fact")),
        schema="pathway",
    )
    op.create_index(
        "ix_visit_fact_person_date",
        "visit_fact",
        ["person_id", "visit_date"],
        unique=False,
        schema="pathway",
        postgresql_where=sa.text("NOT cancelled"),
    )
    op.create_table(
        "referral_fact",
        sa.Column("referral_id", sa.Uuid(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("district", sa.Text(), nullable=False),
        sa.Column("received_date", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("referral_id", name=op.f("pk_referral_fact")),
        schema="pathway",
    )
    op.create_table(
        "decision_fact",
        sa.Column("decision_id", sa.Uuid(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("district", sa.Text(), nullable=False),
        sa.Column("decision_date", sa.Date(), nullable=True),
        sa.Column("content_version", sa.Integer(), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=True),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("evaluation_date", sa.Date(), nullable=True),
        sa.Column("service_codes", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("ended_on", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("decision_id", name=op.f("pk_decision_fact")),
        schema="pathway",
    )
    op.create_index(
        "ix_decision_fact_person_date",
        "decision_fact",
        ["person_id", "decision_date"],
        unique=False,
        schema="pathway",
    )
    op.create_table(
        "appeal_fact",
        sa.Column("appeal_id", sa.Uuid(), nullable=False),
        sa.Column("stage", sa.Text(), nullable=False),
        sa.Column("district", sa.Text(), nullable=False),
        sa.Column("outcome", sa.Text(), nullable=False),
        sa.Column("decided_date", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("appeal_id", "stage", name=op.f("pk_appeal_fact")),
        schema="pathway",
    )
    op.create_table(
        "quality_board_week",
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("week", sa.Text(), nullable=False),
        sa.Column("district", sa.Text(), nullable=False),
        sa.Column("right_of_access_informed", sa.Boolean(), nullable=False),
        sa.Column("care_plan_updated", sa.Boolean(), nullable=False),
        sa.Column("nutrition", sa.Boolean(), nullable=False),
        sa.Column("vital_signs", sa.Boolean(), nullable=False),
        sa.Column("fall_assessment", sa.Boolean(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("person_id", "week", name=op.f("pk_quality_board_week")),
        schema="pathway",
    )


def downgrade() -> None:
    op.drop_table("quality_board_week", schema="pathway")
    op.drop_table("appeal_fact", schema="pathway")
    op.drop_index("ix_decision_fact_person_date", table_name="decision_fact", schema="pathway")
    op.drop_table("decision_fact", schema="pathway")
    op.drop_table("referral_fact", schema="pathway")
    op.drop_index("ix_visit_fact_person_date", table_name="visit_fact", schema="pathway")
    op.drop_table("visit_fact", schema="pathway")
