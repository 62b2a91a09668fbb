"""PLO messages: the person's GP by HER-id, stored national health messages with their
state and receipts, and the tasks they raise

Revision ID: 0010_plo_messages
Revises: 0009_decision_clock
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_plo_messages"
down_revision: str | Sequence[str] | None = "0009_decision_clock"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GP_COLUMNS = ("gp_name", "gp_her_id", "gp_office_name", "gp_office_her_id")


def upgrade() -> None:
    for column in GP_COLUMNS:
        op.add_column("person", sa.Column(column, sa.Text(), nullable=True), schema="assessment")
    op.create_table(
        "plo_message",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("msg_id", sa.Text(), nullable=False),
        sa.Column("direction", sa.Text(), nullable=False),
        sa.Column("msg_type", sa.Text(), nullable=False),
        sa.Column("shipment", sa.Text(), nullable=True),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("origin", sa.Text(), nullable=True),
        sa.Column("person_id", sa.Uuid(), nullable=True),
        sa.Column("decision_id", sa.Uuid(), nullable=True),
        sa.Column("counterpart_her_id", sa.Text(), nullable=True),
        sa.Column("refers_to", sa.Text(), nullable=True),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("receipt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("receipt_reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plo_message")),
        sa.UniqueConstraint("direction", "msg_id", name=op.f("uq_plo_message_direction")),
        sa.UniqueConstraint("origin", name=op.f("uq_plo_message_origin")),
        schema="assessment",
    )
    op.create_index(
        op.f("ix_assessment_plo_message_person_id"), "plo_message", ["person_id"], schema="assessment"
    )
    op.create_index(
        op.f("ix_assessment_plo_message_decision_id"), "plo_message", ["decision_id"], schema="assessment"
    )
    op.create_index(
        "ix_plo_message_pending",
        "plo_message",
        ["created_at"],
        schema="assessment",
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.create_index(
        "ix_plo_message_awaiting",
        "plo_message",
        ["sent_at"],
        schema="assessment",
        postgresql_where=sa.text("status = 'sent'"),
    )
    op.create_table(
        "plo_task",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("message_id", sa.Uuid(), nullable=True),
        sa.Column("person_id", sa.Uuid(), nullable=True),
        sa.Column("decision_id", sa.Uuid(), nullable=True),
        sa.Column("district", sa.Text(), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["message_id"], ["assessment.plo_message.id"], name=op.f("fk_plo_task_message_id_plo_message")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plo_task")),
        sa.UniqueConstraint("kind", "message_id", name=op.f("uq_plo_task_kind")),
        schema="assessment",
    )
    op.create_index(op.f("ix_assessment_plo_task_person_id"), "plo_task", ["person_id"], schema="assessment")


def downgrade() -> None:
    op.drop_table("plo_task", schema="assessment")
    op.drop_table("plo_message", schema="assessment")
    for column in reversed(GP_COLUMNS):
        op.drop_column("person", column, schema="assessment")
