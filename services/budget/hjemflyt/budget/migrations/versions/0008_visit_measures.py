"""the measures done on each delivered visit (the activity model's income)

Revision ID: 0008
Revises: 0007
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "delivered_visit",
        sa.Column("measures", postgresql.ARRAY(sa.Text()), server_default=sa.text("'{}'"), nullable=False),
        schema="budget",
    )


def downgrade() -> None:
    op.drop_column("delivered_visit", "measures", schema="budget")
