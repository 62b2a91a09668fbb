"""the provider's adjustment log (friere faglighet / trust model) and the case office's overrule

Revision ID: 0007_adjustments
Revises: 0006
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0007_adjustments"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

S = "notifications"
TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "adjustment",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("client_id", sa.Text(), nullable=True),
        sa.Column("order_id", sa.Uuid(), nullable=False),
        sa.Column("decision_id", sa.Uuid(), nullable=False),
        sa.Column("decision_version", sa.Integer(), nullable=False),
        sa.Column("provider_org", sa.Text(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("district", sa.Text(), nullable=False),
        sa.Column("service_type", sa.Text(), nullable=False),
        sa.Column("measure_code", sa.Text(), nullable=True),
        sa.Column("measure_description", sa.Text(), nullable=False),
        sa.Column("new_measure", sa.Boolean(), nullable=False),
        sa.Column("before", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("after", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("content", sa.Text(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("planned_hours_before", sa.Numeric(8, 2), nullable=True),
        sa.Column("planned_hours_after", sa.Numeric(8, 2), nullable=True),
        sa.Column("bounds", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("request_hash", sa.Text(), nullable=False),
        sa.Column("adjusted_at", TZ, nullable=False),
        sa.Column("adjusted_by", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("overruled_at", TZ, nullable=True),
        sa.Column("overruled_by", sa.Text(), nullable=True),
        sa.Column("overrule_reason", sa.Text(), nullable=True),
        sa.Column("overrule_instruction", sa.Text(), nullable=True),
        sa.Column("decided_by", sa.Text(), nullable=True),
        sa.Column("escalation_path", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("message_id", sa.Uuid(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_adjustment")),
        sa.UniqueConstraint("provider_org", "client_id", name=op.f("uq_adjustment_provider_org")),
        schema=S,
    )
    op.create_index("ix_adjustment_order", "adjustment", ["order_id", "adjusted_at"], schema=S)
    op.create_index("ix_adjustment_person_id", "adjustment", ["person_id", "adjusted_at"], schema=S)
    op.create_index("ix_adjustment_district", "adjustment", ["district", "adjusted_at", "id"], schema=S)
    op.create_index("ix_adjustment_provider", "adjustment", ["provider_org", "adjusted_at", "id"], schema=S)


def downgrade() -> None:
    op.drop_table("adjustment", schema=S)
