"""decided versus delivered: the decided services' frames and measures, ended decisions'
services kept, delivery flags, and statement lines beyond the decision withheld

Revision ID: 0009
Revises: 0008
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _scope_columns() -> list[sa.Column]:  # type: ignore[type-arg]
    return [
        sa.Column("frame_min_hours", sa.Numeric(6, 2), nullable=True),
        sa.Column("frame_max_hours", sa.Numeric(6, 2), nullable=True),
        sa.Column(
            "measures",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'[]'::jsonb"),
            nullable=False,
        ),
    ]


def upgrade() -> None:
    for column in _scope_columns():
        op.add_column("decided_hours", column, schema="budget")
    op.create_table(
        "ended_hours",
        sa.Column("decision_id", sa.Uuid(), nullable=False),
        sa.Column("service_key", sa.Text(), nullable=False),
        sa.Column("service_code", sa.Text(), nullable=False),
        sa.Column("service_type", sa.Text(), nullable=True),
        sa.Column("outcome", sa.Text(), nullable=False),
        sa.Column("scope_kind", sa.Text(), nullable=False),
        sa.Column("decision_version", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("district", sa.Text(), nullable=False),
        sa.Column("provider_org", sa.Text(), nullable=True),
        sa.Column("hours_per_month", sa.Numeric(6, 2), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("age_band", sa.Text(), nullable=True),
        *_scope_columns(),
        sa.PrimaryKeyConstraint("decision_id", "service_key", name=op.f("pk_ended_hours")),
        schema="budget",
    )
    op.create_index(op.f("ix_budget_ended_hours_person_id"), "ended_hours", ["person_id"], schema="budget")
    op.create_table(
        "delivery_flag",
        sa.Column("flag_id", sa.Uuid(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("provider_org", sa.Text(), nullable=False),
        sa.Column("district", sa.Text(), nullable=False),
        sa.Column("month", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("decided_hours", sa.Numeric(8, 2), nullable=False),
        sa.Column("frame_min_hours", sa.Numeric(8, 2), nullable=True),
        sa.Column("frame_max_hours", sa.Numeric(8, 2), nullable=True),
        sa.Column("delivered_hours", sa.Numeric(8, 2), nullable=False),
        sa.Column("trigger", sa.Text(), nullable=False),
        sa.Column("flagged_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN ('above_hours', 'above_frame_max', 'below_half_hours', 'below_frame_min')",
            name=op.f("ck_delivery_flag_kind"),
        ),
        sa.PrimaryKeyConstraint("flag_id", name=op.f("pk_delivery_flag")),
        schema="budget",
    )
    op.create_index(
        op.f("ix_budget_delivery_flag_person_id"), "delivery_flag", ["person_id"], schema="budget"
    )
    op.create_index(
        "ix_delivery_flag_month_provider", "delivery_flag", ["month", "provider_org"], schema="budget"
    )
    op.create_table(
        "delivery_sweep",
        sa.Column("month", sa.Text(), nullable=False),
        sa.Column("flags", sa.Integer(), nullable=False),
        sa.Column("swept_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("month", name=op.f("pk_delivery_sweep")),
        schema="budget",
    )
    op.add_column(
        "settlement",
        sa.Column("withheld_ore", sa.Integer(), server_default=sa.text("0"), nullable=False),
        schema="budget",
    )
    op.add_column(
        "settlement_line",
        sa.Column("beyond_decision_seconds", sa.Integer(), server_default=sa.text("0"), nullable=False),
        schema="budget",
    )
    op.add_column(
        "settlement_line",
        sa.Column("beyond_decision_ore", sa.Integer(), server_default=sa.text("0"), nullable=False),
        schema="budget",
    )
    op.add_column(
        "settlement_line",
        sa.Column("beyond_decision_approved", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        schema="budget",
    )
    op.create_table(
        "settlement_beyond_approval",
        sa.Column("settlement_id", sa.Uuid(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("approved_by", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["settlement_id"],
            ["budget.settlement.id"],
            name=op.f("fk_settlement_beyond_approval_settlement_id_settlement"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("settlement_id", "person_id", name=op.f("pk_settlement_beyond_approval")),
        schema="budget",
    )


def downgrade() -> None:
    op.drop_table("settlement_beyond_approval", schema="budget")
    for column in ("beyond_decision_approved", "beyond_decision_ore", "beyond_decision_seconds"):
        op.drop_column("settlement_line", column, schema="budget")
    op.drop_column("settlement", "withheld_ore", schema="budget")
    op.drop_table("delivery_sweep", schema="budget")
    op.drop_index("ix_delivery_flag_month_provider", table_name="delivery_flag", schema="budget")
    op.drop_index(op.f("ix_budget_delivery_flag_person_id"), table_name="delivery_flag", schema="budget")
    op.drop_table("delivery_flag", schema="budget")
    op.drop_index(op.f("ix_budget_ended_hours_person_id"), table_name="ended_hours", schema="budget")
    op.drop_table("ended_hours", schema="budget")
    for column in ("measures", "frame_max_hours", "frame_min_hours"):
        op.drop_column("decided_hours", column, schema="budget")
