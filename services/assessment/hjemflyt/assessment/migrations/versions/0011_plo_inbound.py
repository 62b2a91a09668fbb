"""PLO messages in: what each incoming message created (what a later change or
cancellation acts on)

Revision ID: 0011_plo_inbound
Revises: 0010_plo_messages
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_plo_inbound"
down_revision: str | Sequence[str] | None = "0010_plo_messages"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("plo_message", sa.Column("effect", sa.Text(), nullable=True), schema="assessment")


def downgrade() -> None:
    op.drop_column("plo_message", "effect", schema="assessment")
