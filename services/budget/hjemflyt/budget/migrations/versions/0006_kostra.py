"""KOSTRA: the function mapping, inhabitants per district and age band, the age band of
decided hours

Revision ID: 0006
Revises: 0003
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("decided_hours", sa.Column("age_band", sa.Text(), nullable=True), schema="budget")
    op.create_table(
        "kostra_function",
        sa.Column("service_code", sa.Text(), nullable=False),
        sa.Column("function", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("service_code", name=op.f("pk_kostra_function")),
        schema="budget",
    )
    op.create_table(
        "inhabitants",
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("district", sa.Text(), nullable=False),
        sa.Column("age_band", sa.Text(), nullable=False),
        sa.Column("inhabitants", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.Text(), nullable=False),
        sa.CheckConstraint("age_band IN ('0-66', '67-79', '80+')", name=op.f("ck_inhabitants_age_band")),
        sa.CheckConstraint("inhabitants >= 0", name=op.f("ck_inhabitants_inhabitants")),
        sa.PrimaryKeyConstraint("year", "district", "age_band", name=op.f("pk_inhabitants")),
        schema="budget",
    )


def downgrade() -> None:
    op.drop_table("inhabitants", schema="budget")
    op.drop_table("kostra_function", schema="budget")
    op.drop_column("decided_hours", "age_band", schema="budget")
