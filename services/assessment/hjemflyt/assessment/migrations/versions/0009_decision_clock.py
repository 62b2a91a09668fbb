"""decision clock: partial indexes for the sweep that activates sent decisions on their start
date and expires running ones after their end date

Revision ID: 0009_decision_clock
Revises: 0008_assignments
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009_decision_clock"
down_revision: str | Sequence[str] | None = "0008_assignments"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_decision_sent_start",
        "decision",
        ["start_date"],
        schema="assessment",
        postgresql_where="status = 'sent'",
    )
    op.create_index(
        "ix_decision_running_end",
        "decision",
        ["end_date"],
        schema="assessment",
        postgresql_where="status IN ('made', 'sent', 'active') AND end_date IS NOT NULL",
    )


def downgrade() -> None:
    op.drop_index("ix_decision_running_end", table_name="decision", schema="assessment")
    op.drop_index("ix_decision_sent_start", table_name="decision", schema="assessment")
