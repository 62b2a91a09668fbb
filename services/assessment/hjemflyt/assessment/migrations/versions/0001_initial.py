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
    create_platform_tables(op.get_bind(), "assessment")
    op.create_table(
        "approved_provider",
        sa.Column("provider_org", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("service_codes", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("districts", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("provider_org", name=op.f("pk_approved_provider")),
        schema="assessment",
    )
    op.create_table(
        "district",
        sa.Column("code", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("organisation_model", sa.Text(), nullable=False),
        sa.Column("case_office", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_district")),
        schema="assessment",
    )
    op.create_table(
        "person",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("identity_index", sa.Text(), nullable=False),
        sa.Column("identity_cipher", sa.LargeBinary(), nullable=False),
        sa.Column("identity_kind", sa.Text(), nullable=False),
        sa.Column("synthetic", sa.Boolean(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("address", sa.Text(), nullable=False),
        sa.Column("phone", sa.Text(), nullable=True),
        sa.Column("district", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["district"], ["assessment.district.code"], name=op.f("fk_person_district_district")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_person")),
        sa.UniqueConstraint("identity_index", name=op.f("uq_person_identity_index")),
        schema="assessment",
    )
    op.create_index(
        op.f("ix_assessment_person_district"), "person", ["district"], unique=False, schema="assessment"
    )
    op.create_table(
        "decision",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("district", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("decision_date", sa.Date(), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("evaluation_date", sa.Date(), nullable=True),
        sa.Column("made_by", sa.Text(), nullable=False),
        sa.Column("made_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["district"], ["assessment.district.code"], name=op.f("fk_decision_district_district")
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["assessment.person.id"], name=op.f("fk_decision_person_id_person")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_decision")),
        schema="assessment",
    )
    op.create_index(
        op.f("ix_assessment_decision_person_id"), "decision", ["person_id"], unique=False, schema="assessment"
    )
    op.create_table(
        "decision_service",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("decision_id", sa.Uuid(), nullable=False),
        sa.Column("service_code", sa.Text(), nullable=False),
        sa.Column("hours_per_month", sa.Numeric(precision=6, scale=2), nullable=False),
        sa.Column("provider_org", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["decision_id"],
            ["assessment.decision.id"],
            name=op.f("fk_decision_service_decision_id_decision"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_decision_service")),
        sa.UniqueConstraint("decision_id", "service_code", name=op.f("uq_decision_service_decision_id")),
        schema="assessment",
    )


def downgrade() -> None:
    op.drop_table("decision_service", schema="assessment")
    op.drop_index(op.f("ix_assessment_decision_person_id"), table_name="decision", schema="assessment")
    op.drop_table("decision", schema="assessment")
    op.drop_index(op.f("ix_assessment_person_district"), table_name="person", schema="assessment")
    op.drop_table("person", schema="assessment")
    op.drop_table("district", schema="assessment")
    op.drop_table("approved_provider", schema="assessment")
    drop_platform_tables(op.get_bind(), "assessment")
