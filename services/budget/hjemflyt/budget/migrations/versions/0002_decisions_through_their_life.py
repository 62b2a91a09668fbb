"""decisions through their life

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
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("district", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("status IN ('active', 'ended')", name=op.f("ck_decision_status")),
        sa.PrimaryKeyConstraint("decision_id", name=op.f("pk_decision")),
        schema="budget",
    )
    op.create_table(
        "provider_choice",
        sa.Column("decision_id", sa.Uuid(), nullable=False),
        sa.Column("service_key", sa.Text(), nullable=False),
        sa.Column("service_code", sa.Text(), nullable=False),
        sa.Column("provider_org", sa.Text(), nullable=False),
        sa.Column("chosen_date", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("decision_id", "service_key", name=op.f("pk_provider_choice")),
        schema="budget",
    )
    # Rows stored so far are hours-per-month services, all granted, keyed by IPLOS code.
    op.add_column("decided_hours", sa.Column("service_key", sa.Text(), nullable=True), schema="budget")
    op.add_column("decided_hours", sa.Column("service_type", sa.Text(), nullable=True), schema="budget")
    op.add_column(
        "decided_hours",
        sa.Column("outcome", sa.Text(), nullable=False, server_default="granted"),
        schema="budget",
    )
    op.add_column(
        "decided_hours",
        sa.Column("scope_kind", sa.Text(), nullable=False, server_default="hours_per_month"),
        schema="budget",
    )
    op.alter_column("decided_hours", "outcome", server_default=None, schema="budget")
    op.alter_column("decided_hours", "scope_kind", server_default=None, schema="budget")
    op.execute("UPDATE budget.decided_hours SET service_key = service_code")
    op.alter_column("decided_hours", "service_key", nullable=False, schema="budget")
    op.drop_constraint(op.f("pk_decided_hours"), "decided_hours", type_="primary", schema="budget")
    op.create_primary_key(
        op.f("pk_decided_hours"), "decided_hours", ["decision_id", "service_key"], schema="budget"
    )
    op.alter_column("decided_hours", "provider_org", existing_type=sa.TEXT(), nullable=True, schema="budget")
    op.create_index(
        op.f("ix_budget_decided_hours_district"), "decided_hours", ["district"], unique=False, schema="budget"
    )
    # The versions applied so far guard against stale events from now on.
    op.execute(
        """
        INSERT INTO budget.decision (decision_id, version, person_id, district, status)
        SELECT DISTINCT ON (decision_id) decision_id, decision_version, person_id, district, 'active'
        FROM budget.decided_hours
        ORDER BY decision_id, decision_version DESC
        """
    )


def downgrade() -> None:
    # Lossy: hours with no provider chosen yet, and the split of services that share an IPLOS code.
    op.drop_index(op.f("ix_budget_decided_hours_district"), table_name="decided_hours", schema="budget")
    op.execute("DELETE FROM budget.decided_hours WHERE provider_org IS NULL")
    op.execute(
        """
        WITH shared AS (
            SELECT decision_id, service_code, min(service_key) AS keep, sum(hours_per_month) AS total
            FROM budget.decided_hours GROUP BY decision_id, service_code HAVING count(*) > 1
        ), kept AS (
            UPDATE budget.decided_hours d SET hours_per_month = shared.total
            FROM shared WHERE d.decision_id = shared.decision_id AND d.service_key = shared.keep
        )
        DELETE FROM budget.decided_hours d USING shared
        WHERE d.decision_id = shared.decision_id AND d.service_code = shared.service_code
          AND d.service_key <> shared.keep
        """
    )
    op.alter_column("decided_hours", "provider_org", existing_type=sa.TEXT(), nullable=False, schema="budget")
    op.drop_constraint(op.f("pk_decided_hours"), "decided_hours", type_="primary", schema="budget")
    op.create_primary_key(
        op.f("pk_decided_hours"), "decided_hours", ["decision_id", "service_code"], schema="budget"
    )
    op.drop_column("decided_hours", "scope_kind", schema="budget")
    op.drop_column("decided_hours", "outcome", schema="budget")
    op.drop_column("decided_hours", "service_type", schema="budget")
    op.drop_column("decided_hours", "service_key", schema="budget")
    op.drop_table("provider_choice", schema="budget")
    op.drop_table("decision", schema="budget")
