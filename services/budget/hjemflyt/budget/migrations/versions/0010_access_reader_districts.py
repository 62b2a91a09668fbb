"""the reader's districts on every access-log row, for the snooping review

Revision ID: 0010
Revises: 0009
"""

from collections.abc import Sequence

from alembic import op

from hjemflyt.shared.platform.migrations import (
    add_access_log_reader_districts,
    drop_access_log_reader_districts,
)

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    add_access_log_reader_districts(op.get_bind(), "budget")


def downgrade() -> None:
    drop_access_log_reader_districts(op.get_bind(), "budget")
