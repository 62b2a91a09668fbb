"""merge pathways (0003), worklists (0004) and indicators (0005), built side by side from 0002

Revision ID: 0006
Revises: 0003, 0004, 0005
"""

from collections.abc import Sequence

revision: str = "0006"
down_revision: str | tuple[str, ...] | None = ("0003", "0004", "0005")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
