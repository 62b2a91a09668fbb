"""merge: the person's documents (0012_person_documents) and the hospital's logistics
messages (0012_logistics), built side by side

Revision ID: 0013_merge_documents_logistics
Revises: 0012_person_documents, 0012_logistics
"""

from collections.abc import Sequence

revision: str = "0013_merge_documents_logistics"
down_revision: str | Sequence[str] | None = ("0012_person_documents", "0012_logistics")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
