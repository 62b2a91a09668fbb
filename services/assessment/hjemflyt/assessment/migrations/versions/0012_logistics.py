"""The hospital's logistics messages: ready for discharge and a cancelled stay on the
admission, the date of death on the person

Revision ID: 0012_logistics
Revises: 0011_plo_inbound
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012_logistics"
down_revision: str | Sequence[str] | None = "0011_plo_inbound"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "admission",
        sa.Column("ready_for_discharge_at", sa.DateTime(timezone=True), nullable=True),
        schema="assessment",
    )
    op.add_column(
        "admission",
        sa.Column("ready_for_discharge_estimated", sa.Boolean(), nullable=True),
        schema="assessment",
    )
    op.add_column(
        "admission", sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True), schema="assessment"
    )
    op.add_column("person", sa.Column("died_on", sa.Date(), nullable=True), schema="assessment")
    # A cancelled stay is not open: it no longer blocks the next admission.
    op.drop_index("uq_admission_open_per_person", table_name="admission", schema="assessment")
    op.create_index(
        "uq_admission_open_per_person",
        "admission",
        ["person_id"],
        unique=True,
        schema="assessment",
        postgresql_where="discharged_at IS NULL AND cancelled_at IS NULL",
    )


def downgrade() -> None:
    op.drop_index("uq_admission_open_per_person", table_name="admission", schema="assessment")
    op.execute("DELETE FROM assessment.admission WHERE cancelled_at IS NOT NULL")
    op.create_index(
        "uq_admission_open_per_person",
        "admission",
        ["person_id"],
        unique=True,
        schema="assessment",
        postgresql_where="discharged_at IS NULL",
    )
    op.drop_column("person", "died_on", schema="assessment")
    op.drop_column("admission", "cancelled_at", schema="assessment")
    op.drop_column("admission", "ready_for_discharge_estimated", schema="assessment")
    op.drop_column("admission", "ready_for_discharge_at", schema="assessment")
