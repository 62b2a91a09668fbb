"""messaging

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "message",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.Column("provider_org", sa.Text(), nullable=False),
        sa.Column("ordering_key", sa.Text(), nullable=False),
        sa.Column("sequence", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=True),
        sa.Column("district", sa.Text(), nullable=True),
        sa.Column("order_id", sa.Uuid(), nullable=True),
        sa.Column("reference_id", sa.Uuid(), nullable=True),
        sa.Column("body", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ack_status", sa.Text(), nullable=True),
        sa.Column("ack_deadline", sa.DateTime(timezone=True), nullable=True),
        sa.Column("acked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ack_reason", sa.Text(), nullable=True),
        sa.Column("escalated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("delivery_state", sa.Text(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("dead_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_message")),
        sa.UniqueConstraint("provider_org", "ordering_key", "sequence", name="uq_message_sequence"),
        sa.UniqueConstraint("provider_org", "position", name="uq_message_position"),
        schema="notifications",
    )
    op.create_index(
        "ix_message_ack_due",
        "message",
        ["ack_deadline"],
        unique=False,
        schema="notifications",
        postgresql_where="ack_status = 'awaiting'",
    )
    op.create_index(
        "ix_message_due",
        "message",
        ["next_attempt_at"],
        unique=False,
        schema="notifications",
        postgresql_where="delivery_state = 'pending'",
    )
    op.create_table(
        "message_sequence",
        sa.Column("provider_org", sa.Text(), nullable=False),
        sa.Column("ordering_key", sa.Text(), nullable=False),
        sa.Column("last", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("provider_org", "ordering_key", name=op.f("pk_message_sequence")),
        schema="notifications",
    )
    op.create_table(
        "task",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("reference_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("district", sa.Text(), nullable=True),
        sa.Column("person_id", sa.Uuid(), nullable=True),
        sa.Column("provider_org", sa.Text(), nullable=True),
        sa.Column("order_id", sa.Uuid(), nullable=True),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("details", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_by", sa.Text(), nullable=True),
        sa.Column("resolution", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_task")),
        sa.UniqueConstraint("kind", "reference_id", name=op.f("uq_task_kind")),
        schema="notifications",
    )
    op.create_index(
        "ix_task_open",
        "task",
        ["district", "created_at"],
        unique=False,
        schema="notifications",
        postgresql_where="status = 'open'",
    )
    op.create_table(
        "webhook_endpoint",
        sa.Column("provider_org", sa.Text(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("secret", sa.LargeBinary(), nullable=False),
        sa.Column("previous_secret", sa.LargeBinary(), nullable=True),
        sa.Column("previous_valid_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("provider_org", name=op.f("pk_webhook_endpoint")),
        schema="notifications",
    )


def downgrade() -> None:
    op.drop_table("webhook_endpoint", schema="notifications")
    op.drop_index(
        "ix_task_open", table_name="task", schema="notifications", postgresql_where="status = 'open'"
    )
    op.drop_table("task", schema="notifications")
    op.drop_table("message_sequence", schema="notifications")
    op.drop_index(
        "ix_message_due",
        table_name="message",
        schema="notifications",
        postgresql_where="delivery_state = 'pending'",
    )
    op.drop_index(
        "ix_message_ack_due",
        table_name="message",
        schema="notifications",
        postgresql_where="ack_status = 'awaiting'",
    )
    op.drop_table("message", schema="notifications")
