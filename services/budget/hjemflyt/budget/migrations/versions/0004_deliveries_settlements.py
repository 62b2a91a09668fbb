"""deliveries and settlements: delivered visits, corrections, admissions, contract prices,
monthly provider statements and disputes

Revision ID: 0004
Revises: 0003
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _visit_columns() -> list[sa.Column]:  # type: ignore[type-arg]
    return [
        sa.Column("order_id", sa.Uuid(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("district", sa.Text(), nullable=False),
        sa.Column("service_type", sa.Text(), nullable=True),
        sa.Column("visit_date", sa.Date(), nullable=False),
        sa.Column("month", sa.Text(), nullable=False),
        sa.Column("planned_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("planned_end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actual_start", sa.DateTime(timezone=True), nullable=True),
        sa.Column("actual_end", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancelled", sa.Boolean(), nullable=False),
        sa.Column("cancel_cause", sa.Text(), nullable=True),
        sa.Column("planned_seconds", sa.Integer(), nullable=False),
        sa.Column("actual_seconds", sa.Integer(), nullable=False),
        sa.Column("content_sha256", sa.Text(), nullable=False),
        sa.Column("reported_at", sa.DateTime(timezone=True), nullable=False),
    ]


def upgrade() -> None:
    # Existing units get their prices with the registry's next version of them.
    op.add_column(
        "provider_unit",
        sa.Column(
            "contract_prices_ore_per_hour",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        schema="budget",
    )
    op.add_column(
        "provider_unit", sa.Column("agreement_valid_from", sa.Date(), nullable=True), schema="budget"
    )
    op.add_column("provider_unit", sa.Column("agreement_valid_to", sa.Date(), nullable=True), schema="budget")

    op.create_table(
        "delivered_visit",
        sa.Column("provider_org", sa.Text(), nullable=False),
        sa.Column("visit_id", sa.Text(), nullable=False),
        *_visit_columns(),
        sa.PrimaryKeyConstraint("provider_org", "visit_id", name=op.f("pk_delivered_visit")),
        schema="budget",
    )
    op.create_index(
        "ix_delivered_visit_provider_month", "delivered_visit", ["provider_org", "month"], schema="budget"
    )
    op.create_index(
        "ix_delivered_visit_month_person", "delivered_visit", ["month", "person_id"], schema="budget"
    )

    op.create_table(
        "visit_correction",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("provider_org", sa.Text(), nullable=False),
        sa.Column("visit_id", sa.Text(), nullable=False),
        sa.Column("corrects_month", sa.Text(), nullable=False),
        *_visit_columns(),
        sa.Column("settled_in", sa.Uuid(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_visit_correction")),
        schema="budget",
    )
    op.create_index(
        "ix_visit_correction_provider_visit",
        "visit_correction",
        ["provider_org", "visit_id"],
        schema="budget",
    )

    op.create_table(
        "admission",
        sa.Column("admission_id", sa.Uuid(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("district", sa.Text(), nullable=False),
        sa.Column("institution_kind", sa.Text(), nullable=True),
        sa.Column("admitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("discharged_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("admission_id", name=op.f("pk_admission")),
        schema="budget",
    )
    op.create_index(op.f("ix_budget_admission_person_id"), "admission", ["person_id"], schema="budget")

    op.create_table(
        "settlement",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("provider_org", sa.Text(), nullable=False),
        sa.Column("month", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("lines", sa.Integer(), nullable=False),
        sa.Column("amount_ore", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Text(), nullable=False),
        sa.Column("calculated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("issued_by", sa.Text(), nullable=True),
        sa.CheckConstraint("status IN ('draft', 'issued')", name=op.f("ck_settlement_status")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_settlement")),
        sa.UniqueConstraint("provider_org", "month", name=op.f("uq_settlement_provider_org")),
        schema="budget",
    )
    op.create_table(
        "settlement_line",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("settlement_id", sa.Uuid(), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("visit_id", sa.Text(), nullable=True),
        sa.Column("visit_date", sa.Date(), nullable=True),
        sa.Column("order_id", sa.Uuid(), nullable=True),
        sa.Column("person_id", sa.Uuid(), nullable=True),
        sa.Column("service_type", sa.Text(), nullable=True),
        sa.Column("planned_seconds", sa.Integer(), nullable=False),
        sa.Column("actual_seconds", sa.Integer(), nullable=False),
        sa.Column("price_ore_per_hour", sa.Integer(), nullable=True),
        sa.Column("amount_ore", sa.Integer(), nullable=False),
        sa.Column("unpriced_reason", sa.Text(), nullable=True),
        sa.Column("corrects_month", sa.Text(), nullable=True),
        sa.Column("previously_settled_ore", sa.Integer(), nullable=True),
        sa.Column("correction_id", sa.Uuid(), nullable=True),
        sa.Column("dispute_id", sa.Uuid(), nullable=True),
        sa.CheckConstraint(
            "kind IN ('visit', 'correction', 'adjustment')", name=op.f("ck_settlement_line_kind")
        ),
        sa.ForeignKeyConstraint(
            ["settlement_id"],
            ["budget.settlement.id"],
            name=op.f("fk_settlement_line_settlement_id_settlement"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_settlement_line")),
        sa.UniqueConstraint("settlement_id", "line_no", name=op.f("uq_settlement_line_settlement_id")),
        schema="budget",
    )
    op.create_table(
        "settlement_dispute",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("settlement_id", sa.Uuid(), nullable=False),
        sa.Column("line_id", sa.Uuid(), nullable=False),
        sa.Column("provider_org", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("expected_amount_ore", sa.Integer(), nullable=True),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Text(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("adjustment_ore", sa.Integer(), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("answered_by", sa.Text(), nullable=True),
        sa.Column("adjusted_in", sa.Uuid(), nullable=True),
        sa.CheckConstraint(
            "status IN ('open', 'accepted', 'rejected')", name=op.f("ck_settlement_dispute_status")
        ),
        sa.ForeignKeyConstraint(
            ["line_id"],
            ["budget.settlement_line.id"],
            name=op.f("fk_settlement_dispute_line_id_settlement_line"),
        ),
        sa.ForeignKeyConstraint(
            ["settlement_id"],
            ["budget.settlement.id"],
            name=op.f("fk_settlement_dispute_settlement_id_settlement"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_settlement_dispute")),
        schema="budget",
    )
    op.create_index(
        op.f("ix_budget_settlement_dispute_settlement_id"),
        "settlement_dispute",
        ["settlement_id"],
        schema="budget",
    )
    op.create_index(
        op.f("ix_budget_settlement_dispute_provider_org"),
        "settlement_dispute",
        ["provider_org"],
        schema="budget",
    )


def downgrade() -> None:
    op.drop_table("settlement_dispute", schema="budget")
    op.drop_table("settlement_line", schema="budget")
    op.drop_table("settlement", schema="budget")
    op.drop_table("admission", schema="budget")
    op.drop_table("visit_correction", schema="budget")
    op.drop_table("delivered_visit", schema="budget")
    op.drop_column("provider_unit", "agreement_valid_to", schema="budget")
    op.drop_column("provider_unit", "agreement_valid_from", schema="budget")
    op.drop_column("provider_unit", "contract_prices_ore_per_hour", schema="budget")
