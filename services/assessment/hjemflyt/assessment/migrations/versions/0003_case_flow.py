"""case_flow

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
        "referral",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("district", sa.Text(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sender_name", sa.Text(), nullable=True),
        sa.Column("sender_her_id", sa.Text(), nullable=True),
        sa.Column("sender_organisation", sa.Text(), nullable=True),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("requested_services", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("plo_message_id", sa.Text(), nullable=True),
        sa.Column("plo_message_type", sa.Text(), nullable=True),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("registered_by", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["district"], ["assessment.district.code"], name=op.f("fk_referral_district_district")
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["assessment.person.id"], name=op.f("fk_referral_person_id_person")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referral")),
        sa.UniqueConstraint("plo_message_id", name=op.f("uq_referral_plo_message_id")),
        schema="assessment",
    )
    op.create_index(
        op.f("ix_assessment_referral_person_id"), "referral", ["person_id"], unique=False, schema="assessment"
    )
    op.create_table(
        "application",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("district", sa.Text(), nullable=False),
        sa.Column("referral_id", sa.Uuid(), nullable=True),
        sa.Column("received_date", sa.Date(), nullable=False),
        sa.Column("deadline_date", sa.Date(), nullable=False),
        sa.Column("services", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("preliminary_reply_date", sa.Date(), nullable=True),
        sa.Column("preliminary_reply_reason", sa.Text(), nullable=True),
        sa.Column("expected_decision_date", sa.Date(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("registered_by", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.ForeignKeyConstraint(
            ["district"], ["assessment.district.code"], name=op.f("fk_application_district_district")
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["assessment.person.id"], name=op.f("fk_application_person_id_person")
        ),
        sa.ForeignKeyConstraint(
            ["referral_id"], ["assessment.referral.id"], name=op.f("fk_application_referral_id_referral")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_application")),
        schema="assessment",
    )
    op.create_index(
        "ix_application_open_deadline",
        "application",
        ["status", "deadline_date"],
        unique=False,
        schema="assessment",
    )
    op.create_index(
        op.f("ix_assessment_application_person_id"),
        "application",
        ["person_id"],
        unique=False,
        schema="assessment",
    )
    op.create_table(
        "assessment",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("application_id", sa.Uuid(), nullable=True),
        sa.Column("district", sa.Text(), nullable=False),
        sa.Column("visit_date", sa.Date(), nullable=True),
        sa.Column("participants", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("home_situation", sa.Text(), nullable=True),
        sa.Column("what_matters", sa.Text(), nullable=True),
        sa.Column("iplos_version", sa.Text(), nullable=False),
        sa.Column("scores", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.Text(), nullable=False, server_default="migration"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["assessment.application.id"],
            name=op.f("fk_assessment_application_id_application"),
        ),
        sa.ForeignKeyConstraint(
            ["district"], ["assessment.district.code"], name=op.f("fk_assessment_district_district")
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["assessment.person.id"], name=op.f("fk_assessment_person_id_person")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assessment")),
        schema="assessment",
    )
    op.create_index(
        op.f("ix_assessment_assessment_application_id"),
        "assessment",
        ["application_id"],
        unique=False,
        schema="assessment",
    )
    op.create_index(
        op.f("ix_assessment_assessment_person_id"),
        "assessment",
        ["person_id"],
        unique=False,
        schema="assessment",
    )
    op.create_table(
        "assessment_goal",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("assessment_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("follow_up_date", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["assessment_id"],
            ["assessment.assessment.id"],
            name=op.f("fk_assessment_goal_assessment_id_assessment"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assessment_goal")),
        schema="assessment",
    )
    op.create_table(
        "appeal",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("decision_id", sa.Uuid(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("district", sa.Text(), nullable=False),
        sa.Column("received_date", sa.Date(), nullable=False),
        sa.Column("deadline_date", sa.Date(), nullable=True),
        sa.Column("late", sa.Boolean(), nullable=False),
        sa.Column("grounds", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("municipality_outcome", sa.Text(), nullable=True),
        sa.Column("municipality_decided_date", sa.Date(), nullable=True),
        sa.Column("municipality_reasoning", sa.Text(), nullable=True),
        sa.Column("new_decision_id", sa.Uuid(), nullable=True),
        sa.Column("forwarded_date", sa.Date(), nullable=True),
        sa.Column("appeal_body", sa.Text(), nullable=True),
        sa.Column("final_outcome", sa.Text(), nullable=True),
        sa.Column("final_date", sa.Date(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("registered_by", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.ForeignKeyConstraint(
            ["decision_id"], ["assessment.decision.id"], name=op.f("fk_appeal_decision_id_decision")
        ),
        sa.ForeignKeyConstraint(
            ["district"], ["assessment.district.code"], name=op.f("fk_appeal_district_district")
        ),
        sa.ForeignKeyConstraint(
            ["new_decision_id"], ["assessment.decision.id"], name=op.f("fk_appeal_new_decision_id_decision")
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["assessment.person.id"], name=op.f("fk_appeal_person_id_person")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appeal")),
        schema="assessment",
    )
    op.create_index(
        op.f("ix_assessment_appeal_decision_id"), "appeal", ["decision_id"], unique=False, schema="assessment"
    )
    op.create_index(
        op.f("ix_assessment_appeal_person_id"), "appeal", ["person_id"], unique=False, schema="assessment"
    )
    op.create_table(
        "decision_version",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("decision_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("changes", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("snapshot", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("changed_by", sa.Text(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["decision_id"],
            ["assessment.decision.id"],
            name=op.f("fk_decision_version_decision_id_decision"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_decision_version")),
        sa.UniqueConstraint("decision_id", "version", name=op.f("uq_decision_version_decision_id")),
        schema="assessment",
    )
    op.create_index(
        op.f("ix_assessment_decision_version_decision_id"),
        "decision_version",
        ["decision_id"],
        unique=False,
        schema="assessment",
    )
    op.create_table(
        "provider_choice",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("decision_id", sa.Uuid(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("service_type", sa.Text(), nullable=False, server_default=""),
        sa.Column("informed_date", sa.Date(), nullable=False),
        sa.Column("informed_by", sa.Text(), nullable=False),
        sa.Column("provider_org", sa.Text(), nullable=True),
        sa.Column("chosen_by", sa.Text(), nullable=True),
        sa.Column("chosen_date", sa.Date(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["decision_id"],
            ["assessment.decision.id"],
            name=op.f("fk_provider_choice_decision_id_decision"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["assessment.person.id"], name=op.f("fk_provider_choice_person_id_person")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_provider_choice")),
        sa.UniqueConstraint("decision_id", "service_type", name=op.f("uq_provider_choice_decision_id")),
        schema="assessment",
    )
    op.create_index(
        op.f("ix_assessment_provider_choice_person_id"),
        "provider_choice",
        ["person_id"],
        unique=False,
        schema="assessment",
    )
    op.create_table(
        "measure",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("decision_service_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("times", sa.Integer(), nullable=False),
        sa.Column("per", sa.Text(), nullable=False),
        sa.Column("minutes", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["decision_service_id"],
            ["assessment.decision_service.id"],
            name=op.f("fk_measure_decision_service_id_decision_service"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_measure")),
        schema="assessment",
    )
    op.add_column("decision", sa.Column("application_id", sa.Uuid(), nullable=True), schema="assessment")
    op.add_column("decision", sa.Column("assessment_id", sa.Uuid(), nullable=True), schema="assessment")
    op.add_column("decision", sa.Column("supersedes_id", sa.Uuid(), nullable=True), schema="assessment")
    op.add_column("decision", sa.Column("organisation_model", sa.Text(), nullable=True), schema="assessment")
    op.add_column("decision", sa.Column("justification", sa.Text(), nullable=True), schema="assessment")
    op.add_column("decision", sa.Column("purpose", sa.Text(), nullable=True), schema="assessment")
    op.add_column("decision", sa.Column("user_goal", sa.Text(), nullable=True), schema="assessment")
    op.add_column(
        "decision",
        sa.Column("legal_basis", postgresql.ARRAY(sa.Text()), nullable=False, server_default="{}"),
        schema="assessment",
    )
    op.add_column(
        "decision",
        sa.Column("household_income_g", sa.Numeric(precision=6, scale=2), nullable=True),
        schema="assessment",
    )
    op.add_column(
        "decision",
        sa.Column("copayment", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        schema="assessment",
    )
    op.add_column("decision", sa.Column("appeal_text", sa.Text(), nullable=True), schema="assessment")
    op.add_column("decision", sa.Column("appeal_deadline", sa.Date(), nullable=True), schema="assessment")
    op.add_column(
        "decision", sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True), schema="assessment"
    )
    op.add_column(
        "decision", sa.Column("activated_at", sa.DateTime(timezone=True), nullable=True), schema="assessment"
    )
    op.add_column(
        "decision", sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True), schema="assessment"
    )
    op.add_column("decision", sa.Column("end_reason", sa.Text(), nullable=True), schema="assessment")
    op.add_column("decision", sa.Column("source_system", sa.Text(), nullable=True), schema="assessment")
    op.add_column("decision", sa.Column("external_id", sa.Text(), nullable=True), schema="assessment")
    op.add_column(
        "decision",
        sa.Column("created_by", sa.Text(), nullable=False, server_default="migration"),
        schema="assessment",
    )
    op.add_column(
        "decision",
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        schema="assessment",
    )
    op.add_column(
        "decision",
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        schema="assessment",
    )
    op.alter_column("decision", "start_date", existing_type=sa.DATE(), nullable=True, schema="assessment")
    op.alter_column("decision", "decision_date", existing_type=sa.DATE(), nullable=True, schema="assessment")
    op.alter_column("decision", "made_by", existing_type=sa.TEXT(), nullable=True, schema="assessment")
    op.alter_column(
        "decision",
        "made_at",
        existing_type=postgresql.TIMESTAMP(timezone=True),
        nullable=True,
        schema="assessment",
    )
    op.create_index(
        "ix_decision_evaluation", "decision", ["status", "evaluation_date"], unique=False, schema="assessment"
    )
    op.create_unique_constraint(
        op.f("uq_decision_source_system"), "decision", ["source_system", "external_id"], schema="assessment"
    )
    op.create_foreign_key(
        op.f("fk_decision_assessment_id_assessment"),
        "decision",
        "assessment",
        ["assessment_id"],
        ["id"],
        source_schema="assessment",
        referent_schema="assessment",
    )
    op.create_foreign_key(
        op.f("fk_decision_application_id_application"),
        "decision",
        "application",
        ["application_id"],
        ["id"],
        source_schema="assessment",
        referent_schema="assessment",
    )
    op.create_foreign_key(
        op.f("fk_decision_supersedes_id_decision"),
        "decision",
        "decision",
        ["supersedes_id"],
        ["id"],
        source_schema="assessment",
        referent_schema="assessment",
    )
    op.add_column(
        "decision_service",
        sa.Column("service_type", sa.Text(), nullable=False, server_default=""),
        schema="assessment",
    )
    op.add_column(
        "decision_service",
        sa.Column("outcome", sa.Text(), nullable=False, server_default="granted"),
        schema="assessment",
    )
    op.add_column(
        "decision_service",
        sa.Column("scope_kind", sa.Text(), nullable=False, server_default="hours_per_month"),
        schema="assessment",
    )
    op.add_column(
        "decision_service",
        sa.Column("frame_min_hours", sa.Numeric(precision=6, scale=2), nullable=True),
        schema="assessment",
    )
    op.add_column(
        "decision_service",
        sa.Column("frame_max_hours", sa.Numeric(precision=6, scale=2), nullable=True),
        schema="assessment",
    )
    op.add_column(
        "decision_service", sa.Column("refusal_reason", sa.Text(), nullable=True), schema="assessment"
    )
    op.alter_column(
        "decision_service", "provider_org", existing_type=sa.TEXT(), nullable=True, schema="assessment"
    )
    op.drop_constraint(
        op.f("uq_decision_service_decision_id"), "decision_service", schema="assessment", type_="unique"
    )
    op.create_unique_constraint(
        op.f("uq_decision_service_decision_id"),
        "decision_service",
        ["decision_id", "service_type"],
        schema="assessment",
    )
    op.add_column("person", sa.Column("email", sa.Text(), nullable=True), schema="assessment")
    op.add_column(
        "person",
        sa.Column("next_of_kin", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        schema="assessment",
    )
    op.add_column("person", sa.Column("source_system", sa.Text(), nullable=True), schema="assessment")
    op.add_column("person", sa.Column("external_id", sa.Text(), nullable=True), schema="assessment")
    op.create_unique_constraint(
        op.f("uq_person_source_system"), "person", ["source_system", "external_id"], schema="assessment"
    )

    # Decisions made before this revision: granted hours-per-month services, typed from their IPLOS code.
    op.execute(
        "UPDATE assessment.decision_service SET service_type = CASE service_code"
        " WHEN '15' THEN 'home-nursing' WHEN '1' THEN 'practical-help' WHEN '2' THEN 'practical-help-training'"
        " WHEN '6' THEN 'safety-alarm' ELSE 'iplos-' || service_code END"
    )
    for table, column in (
        ("decision", "created_by"),
        ("decision", "created_at"),
        ("decision", "updated_at"),
        ("decision_service", "service_type"),
        ("decision_service", "outcome"),
        ("decision_service", "scope_kind"),
    ):
        op.alter_column(table, column, server_default=None, schema="assessment")


def downgrade() -> None:
    op.drop_constraint(op.f("uq_person_source_system"), "person", schema="assessment", type_="unique")
    op.drop_column("person", "external_id", schema="assessment")
    op.drop_column("person", "source_system", schema="assessment")
    op.drop_column("person", "next_of_kin", schema="assessment")
    op.drop_column("person", "email", schema="assessment")
    op.drop_constraint(
        op.f("uq_decision_service_decision_id"), "decision_service", schema="assessment", type_="unique"
    )
    op.create_unique_constraint(
        op.f("uq_decision_service_decision_id"),
        "decision_service",
        ["decision_id", "service_code"],
        schema="assessment",
        postgresql_nulls_not_distinct=False,
    )
    op.alter_column(
        "decision_service", "provider_org", existing_type=sa.TEXT(), nullable=False, schema="assessment"
    )
    op.drop_column("decision_service", "refusal_reason", schema="assessment")
    op.drop_column("decision_service", "frame_max_hours", schema="assessment")
    op.drop_column("decision_service", "frame_min_hours", schema="assessment")
    op.drop_column("decision_service", "scope_kind", schema="assessment")
    op.drop_column("decision_service", "outcome", schema="assessment")
    op.drop_column("decision_service", "service_type", schema="assessment")
    op.drop_constraint(
        op.f("fk_decision_supersedes_id_decision"), "decision", schema="assessment", type_="foreignkey"
    )
    op.drop_constraint(
        op.f("fk_decision_application_id_application"), "decision", schema="assessment", type_="foreignkey"
    )
    op.drop_constraint(
        op.f("fk_decision_assessment_id_assessment"), "decision", schema="assessment", type_="foreignkey"
    )
    op.drop_constraint(op.f("uq_decision_source_system"), "decision", schema="assessment", type_="unique")
    op.drop_index("ix_decision_evaluation", table_name="decision", schema="assessment")
    op.alter_column(
        "decision",
        "made_at",
        existing_type=postgresql.TIMESTAMP(timezone=True),
        nullable=False,
        schema="assessment",
    )
    op.alter_column("decision", "made_by", existing_type=sa.TEXT(), nullable=False, schema="assessment")
    op.alter_column("decision", "decision_date", existing_type=sa.DATE(), nullable=False, schema="assessment")
    op.alter_column("decision", "start_date", existing_type=sa.DATE(), nullable=False, schema="assessment")
    op.drop_column("decision", "updated_at", schema="assessment")
    op.drop_column("decision", "created_at", schema="assessment")
    op.drop_column("decision", "created_by", schema="assessment")
    op.drop_column("decision", "external_id", schema="assessment")
    op.drop_column("decision", "source_system", schema="assessment")
    op.drop_column("decision", "end_reason", schema="assessment")
    op.drop_column("decision", "ended_at", schema="assessment")
    op.drop_column("decision", "activated_at", schema="assessment")
    op.drop_column("decision", "sent_at", schema="assessment")
    op.drop_column("decision", "appeal_deadline", schema="assessment")
    op.drop_column("decision", "appeal_text", schema="assessment")
    op.drop_column("decision", "copayment", schema="assessment")
    op.drop_column("decision", "household_income_g", schema="assessment")
    op.drop_column("decision", "legal_basis", schema="assessment")
    op.drop_column("decision", "user_goal", schema="assessment")
    op.drop_column("decision", "purpose", schema="assessment")
    op.drop_column("decision", "justification", schema="assessment")
    op.drop_column("decision", "organisation_model", schema="assessment")
    op.drop_column("decision", "supersedes_id", schema="assessment")
    op.drop_column("decision", "assessment_id", schema="assessment")
    op.drop_column("decision", "application_id", schema="assessment")
    op.drop_table("measure", schema="assessment")
    op.drop_index(
        op.f("ix_assessment_provider_choice_person_id"), table_name="provider_choice", schema="assessment"
    )
    op.drop_table("provider_choice", schema="assessment")
    op.drop_index(
        op.f("ix_assessment_decision_version_decision_id"), table_name="decision_version", schema="assessment"
    )
    op.drop_table("decision_version", schema="assessment")
    op.drop_index(op.f("ix_assessment_appeal_person_id"), table_name="appeal", schema="assessment")
    op.drop_index(op.f("ix_assessment_appeal_decision_id"), table_name="appeal", schema="assessment")
    op.drop_table("appeal", schema="assessment")
    op.drop_table("assessment_goal", schema="assessment")
    op.drop_index(op.f("ix_assessment_assessment_person_id"), table_name="assessment", schema="assessment")
    op.drop_index(
        op.f("ix_assessment_assessment_application_id"), table_name="assessment", schema="assessment"
    )
    op.drop_table("assessment", schema="assessment")
    op.drop_index(op.f("ix_assessment_application_person_id"), table_name="application", schema="assessment")
    op.drop_index("ix_application_open_deadline", table_name="application", schema="assessment")
    op.drop_table("application", schema="assessment")
    op.drop_index(op.f("ix_assessment_referral_person_id"), table_name="referral", schema="assessment")
    op.drop_table("referral", schema="assessment")
