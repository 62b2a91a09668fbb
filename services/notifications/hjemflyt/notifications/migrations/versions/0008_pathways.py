"""the person's pathway, a read model of pathway.opened / pathway.closed that orders name

Revision ID: 0008_pathways
Revises: 0007_adjustments
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_pathways"
down_revision: str | None = "0007_adjustments"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

S = "notifications"


def upgrade() -> None:
    op.create_table(
        "person_pathway",
        sa.Column("pathway_id", sa.Uuid(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("district", sa.Text(), nullable=False),
        sa.Column("kind", sa.Integer(), nullable=False),
        sa.Column("opened_on", sa.Date(), nullable=False),
        sa.Column("planned_end", sa.Date(), nullable=True),
        sa.Column("closed_on", sa.Date(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("pathway_id", name=op.f("pk_person_pathway")),
        schema=S,
    )
    op.create_index(
        "ix_person_pathway_person_id", "person_pathway", ["person_id", "opened_on"], unique=False, schema=S
    )


def downgrade() -> None:
    op.drop_index("ix_person_pathway_person_id", table_name="person_pathway", schema=S)
    op.drop_table("person_pathway", schema=S)
