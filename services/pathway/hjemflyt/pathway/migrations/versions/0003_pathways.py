"""pathways: templates, pathways, corrections, deadline tasks, referrals

Revision ID: 0003
Revises: 0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "pathway_template",
        sa.Column("kind", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("max_days", sa.Integer(), nullable=True),
        sa.Column("max_months", sa.Integer(), nullable=True),
        sa.Column("decision_rule", sa.Text(), nullable=False),
        sa.Column("decision_after_days", sa.Integer(), nullable=True),
        sa.Column("start_checklist", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("end_checklist", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changed_by", sa.Text(), nullable=False),
        sa.CheckConstraint("kind BETWEEN 0 AND 3", name=op.f("ck_pathway_template_kind")),
        sa.CheckConstraint(
            "decision_rule IN ('none', 'required_after_days', 'required', 'as_needed')",
            name=op.f("ck_pathway_template_decision_rule"),
        ),
        sa.CheckConstraint(
            "NOT (max_days IS NOT NULL AND max_months IS NOT NULL)",
            name=op.f("ck_pathway_template_one_duration"),
        ),
        sa.PrimaryKeyConstraint("kind", "version", name=op.f("pk_pathway_template")),
        schema="pathway",
    )
    op.create_table(
        "pathway_referral",
        sa.Column("referral_id", sa.Uuid(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("district", sa.Text(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("referral_id", name=op.f("pk_pathway_referral")),
        schema="pathway",
    )
    op.create_index(
        op.f("ix_pathway_pathway_referral_person_id"),
        "pathway_referral",
        ["person_id"],
        unique=False,
        schema="pathway",
    )
    op.create_table(
        "pathway",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("district", sa.Text(), nullable=False),
        sa.Column("kind", sa.Integer(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("template_version", sa.Integer(), nullable=False),
        sa.Column("opened_on", sa.Date(), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("planned_end", sa.Date(), nullable=True),
        sa.Column("decision_rule", sa.Text(), nullable=False),
        sa.Column("decision_due", sa.Date(), nullable=True),
        sa.Column("decision_covered", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("has_active_services", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("referral_id", sa.Uuid(), nullable=True),
        sa.Column("referral_on", sa.Date(), nullable=True),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("source_ref", sa.Uuid(), nullable=True),
        sa.Column("responsible", sa.Text(), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_on", sa.Date(), nullable=True),
        sa.Column("outcome", sa.Text(), nullable=True),
        sa.Column("closed_by", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind BETWEEN 0 AND 3", name=op.f("ck_pathway_kind")),
        sa.CheckConstraint("status IN ('open', 'closed')", name=op.f("ck_pathway_status")),
        sa.CheckConstraint(
            "outcome IS NULL OR outcome IN ('no_services', 'reduced', 'unchanged', 'increased')",
            name=op.f("ck_pathway_outcome"),
        ),
        sa.CheckConstraint(
            "(status = 'closed') = (closed_at IS NOT NULL)", name=op.f("ck_pathway_closed_at")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pathway")),
        sa.UniqueConstraint("source", "source_ref", name="uq_pathway_source_ref"),
        schema="pathway",
    )
    op.create_index(
        op.f("ix_pathway_pathway_person_id"), "pathway", ["person_id"], unique=False, schema="pathway"
    )
    op.create_index(
        "uq_pathway_open_person_kind",
        "pathway",
        ["person_id", "kind"],
        unique=True,
        schema="pathway",
        postgresql_where=sa.text("status = 'open'"),
    )
    op.create_index(
        "ix_pathway_open_planned_end",
        "pathway",
        ["planned_end"],
        unique=False,
        schema="pathway",
        postgresql_where=sa.text("status = 'open'"),
    )
    op.create_index(
        "ix_pathway_district_status", "pathway", ["district", "status"], unique=False, schema="pathway"
    )
    op.create_table(
        "pathway_correction",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("pathway_id", sa.Uuid(), nullable=False),
        sa.Column("field", sa.Text(), nullable=False),
        sa.Column("old_value", sa.Date(), nullable=False),
        sa.Column("new_value", sa.Date(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("corrected_by", sa.Text(), nullable=False),
        sa.Column("corrected_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("field IN ('opened_on', 'closed_on')", name=op.f("ck_pathway_correction_field")),
        sa.ForeignKeyConstraint(
            ["pathway_id"], ["pathway.pathway.id"], name=op.f("fk_pathway_correction_pathway_id_pathway")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pathway_correction")),
        schema="pathway",
    )
    op.create_index(
        op.f("ix_pathway_pathway_correction_pathway_id"),
        "pathway_correction",
        ["pathway_id"],
        unique=False,
        schema="pathway",
    )
    op.create_table(
        "pathway_task",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("pathway_id", sa.Uuid(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("district", sa.Text(), nullable=False),
        sa.Column("due", sa.Date(), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolution", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "kind IN ('decision_required', 'new_decision_required', 'overdue')",
            name=op.f("ck_pathway_task_kind"),
        ),
        sa.ForeignKeyConstraint(
            ["pathway_id"], ["pathway.pathway.id"], name=op.f("fk_pathway_task_pathway_id_pathway")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pathway_task")),
        sa.UniqueConstraint("pathway_id", "kind", name="uq_pathway_task_pathway_kind"),
        schema="pathway",
    )
    op.create_index(
        "ix_pathway_task_open_district",
        "pathway_task",
        ["district"],
        unique=False,
        schema="pathway",
        postgresql_where=sa.text("closed_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_pathway_task_open_district", table_name="pathway_task", schema="pathway")
    op.drop_table("pathway_task", schema="pathway")
    op.drop_index(
        op.f("ix_pathway_pathway_correction_pathway_id"), table_name="pathway_correction", schema="pathway"
    )
    op.drop_table("pathway_correction", schema="pathway")
    op.drop_index("ix_pathway_district_status", table_name="pathway", schema="pathway")
    op.drop_index("ix_pathway_open_planned_end", table_name="pathway", schema="pathway")
    op.drop_index("uq_pathway_open_person_kind", table_name="pathway", schema="pathway")
    op.drop_index(op.f("ix_pathway_pathway_person_id"), table_name="pathway", schema="pathway")
    op.drop_table("pathway", schema="pathway")
    op.drop_index(
        op.f("ix_pathway_pathway_referral_person_id"), table_name="pathway_referral", schema="pathway"
    )
    op.drop_table("pathway_referral", schema="pathway")
    op.drop_table("pathway_template", schema="pathway")
