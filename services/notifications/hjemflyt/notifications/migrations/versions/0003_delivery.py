"""orders: one row per decision and provider; message delivery window

An order is now one row per (decision, provider) holding its newest version; each version
is a message. Older development databases may hold a row per version: the newest is kept.

Revision ID: 0003
Revises: 0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        """
        DELETE FROM notifications.provider_order o
        USING notifications.provider_order newer
        WHERE newer.decision_id = o.decision_id
          AND newer.provider_org = o.provider_org
          AND newer.decision_version > o.decision_version
        """
    )
    op.drop_constraint(
        "uq_provider_order_decision_id", "provider_order", schema="notifications", type_="unique"
    )
    op.create_unique_constraint(
        "uq_provider_order_decision_id",
        "provider_order",
        ["decision_id", "provider_org"],
        schema="notifications",
    )
    op.add_column(
        "provider_order",
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        schema="notifications",
    )
    op.add_column(
        "provider_order", sa.Column("resume_status", sa.Text(), nullable=True), schema="notifications"
    )
    op.add_column("provider_order", sa.Column("paused_by", sa.Uuid(), nullable=True), schema="notifications")
    op.create_index(
        "ix_provider_order_district",
        "provider_order",
        ["district", "created_at", "id"],
        unique=False,
        schema="notifications",
    )
    op.create_index(
        "ix_provider_order_person_id", "provider_order", ["person_id"], unique=False, schema="notifications"
    )
    op.add_column(
        "message", sa.Column("retry_from", sa.DateTime(timezone=True), nullable=True), schema="notifications"
    )
    op.create_index("ix_message_order_id", "message", ["order_id"], unique=False, schema="notifications")


def downgrade() -> None:
    op.drop_index("ix_message_order_id", table_name="message", schema="notifications")
    op.drop_column("message", "retry_from", schema="notifications")
    op.drop_index("ix_provider_order_person_id", table_name="provider_order", schema="notifications")
    op.drop_index("ix_provider_order_district", table_name="provider_order", schema="notifications")
    op.drop_column("provider_order", "paused_by", schema="notifications")
    op.drop_column("provider_order", "resume_status", schema="notifications")
    op.drop_column("provider_order", "updated_at", schema="notifications")
    op.drop_constraint(
        "uq_provider_order_decision_id", "provider_order", schema="notifications", type_="unique"
    )
    op.create_unique_constraint(
        "uq_provider_order_decision_id",
        "provider_order",
        ["decision_id", "provider_org", "decision_version"],
        schema="notifications",
    )
