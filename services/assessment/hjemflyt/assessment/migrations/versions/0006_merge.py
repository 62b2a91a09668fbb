"""merge: admissions (0004) and the configuration version token (0005_perf), built side by side

Revision ID: 0006
Revises: 0004, 0005_perf
"""

from collections.abc import Sequence

revision: str = "0006"
down_revision: str | Sequence[str] | None = ("0004", "0005_perf")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
