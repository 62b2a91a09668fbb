"""reports from providers and the case office's answers: start confirmations, visits in
batches, deviations, change-of-need reports, "masters this", clarifications, urgent requests

Revision ID: 0004
Revises: 0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

S = "notifications"
TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "start_confirmation",
        sa.Column("order_id", sa.Uuid(), nullable=False),
        sa.Column("order_version", sa.Integer(), nullable=False),
        sa.Column("provider_org", sa.Text(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("district", sa.Text(), nullable=False),
        sa.Column("started_on", sa.Date(), nullable=False),
        sa.Column("contact_staff_id", sa.Text(), nullable=False),
        sa.Column("contact_name", sa.Text(), nullable=False),
        sa.Column("contact_phone", sa.Text(), nullable=False),
        sa.Column("confirmed_at", TZ, nullable=False),
        sa.Column("confirmed_by", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("order_id", "order_version", name=op.f("pk_start_confirmation")),
        schema=S,
    )
    op.create_index(
        "ix_start_confirmation_person_id", "start_confirmation", ["person_id"], unique=False, schema=S
    )

    op.create_table(
        "deviation",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("order_id", sa.Uuid(), nullable=False),
        sa.Column("provider_org", sa.Text(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("district", sa.Text(), nullable=False),
        sa.Column("severity", sa.Text(), nullable=False),
        sa.Column("category", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("occurred_at", TZ, nullable=False),
        sa.Column("reported_at", TZ, nullable=False),
        sa.Column("reported_by", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deviation")),
        schema=S,
    )
    op.create_index(
        "ix_deviation_district_reported", "deviation", ["district", "reported_at"], unique=False, schema=S
    )
    op.create_index("ix_deviation_order_id", "deviation", ["order_id"], unique=False, schema=S)

    op.create_table(
        "masters_daily_life_report",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("order_id", sa.Uuid(), nullable=False),
        sa.Column("provider_org", sa.Text(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("district", sa.Text(), nullable=False),
        sa.Column("observed_on", sa.Date(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("reported_at", TZ, nullable=False),
        sa.Column("reported_by", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_masters_daily_life_report")),
        schema=S,
    )
    op.create_index(
        "ix_masters_daily_life_report_order_id",
        "masters_daily_life_report",
        ["order_id"],
        unique=False,
        schema=S,
    )

    op.create_table(
        "visit_batch",
        sa.Column("provider_org", sa.Text(), nullable=False),
        sa.Column("batch_id", sa.Text(), nullable=False),
        sa.Column("content_sha256", sa.Text(), nullable=False),
        sa.Column("visit_count", sa.Integer(), nullable=False),
        sa.Column("receipt", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("received_at", TZ, nullable=False),
        sa.Column("received_by", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("provider_org", "batch_id", name=op.f("pk_visit_batch")),
        schema=S,
    )
    op.create_table(
        "visit",
        sa.Column("provider_org", sa.Text(), nullable=False),
        sa.Column("visit_id", sa.Text(), nullable=False),
        sa.Column("batch_id", sa.Text(), nullable=False),
        sa.Column("order_id", sa.Uuid(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("district", sa.Text(), nullable=False),
        sa.Column("planned_start", TZ, nullable=False),
        sa.Column("planned_end", TZ, nullable=False),
        sa.Column("actual_start", TZ, nullable=True),
        sa.Column("actual_end", TZ, nullable=True),
        sa.Column("staff_id", sa.Text(), nullable=True),
        sa.Column("measures_done", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("cancelled", sa.Boolean(), nullable=False),
        sa.Column("cancel_cause", sa.Text(), nullable=True),
        sa.Column("reported_at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("provider_org", "visit_id", name=op.f("pk_visit")),
        schema=S,
    )
    op.create_index("ix_visit_order_planned", "visit", ["order_id", "planned_start"], unique=False, schema=S)

    op.create_table(
        "change_of_need",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("order_id", sa.Uuid(), nullable=False),
        sa.Column("provider_org", sa.Text(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("district", sa.Text(), nullable=False),
        sa.Column("observation", sa.Text(), nullable=False),
        sa.Column("proposed_change", sa.Text(), nullable=False),
        sa.Column("evidence", sa.Text(), nullable=True),
        sa.Column("proposed_hours_per_month", sa.Numeric(7, 2), nullable=True),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("reported_at", TZ, nullable=False),
        sa.Column("reported_by", sa.Text(), nullable=False),
        sa.Column("outcome", sa.Text(), nullable=True),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("answered_at", TZ, nullable=True),
        sa.Column("answered_by", sa.Text(), nullable=True),
        sa.Column("message_id", sa.Uuid(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_change_of_need")),
        schema=S,
    )
    op.create_index(
        "ix_change_of_need_status",
        "change_of_need",
        ["district", "status", "reported_at"],
        unique=False,
        schema=S,
    )
    op.create_index("ix_change_of_need_order_id", "change_of_need", ["order_id"], unique=False, schema=S)

    op.create_table(
        "clarification",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("direction", sa.Text(), nullable=False),
        sa.Column("order_id", sa.Uuid(), nullable=False),
        sa.Column("provider_org", sa.Text(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("district", sa.Text(), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("asked_at", TZ, nullable=False),
        sa.Column("asked_by", sa.Text(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("answered_at", TZ, nullable=True),
        sa.Column("answered_by", sa.Text(), nullable=True),
        sa.Column("overdue_at", TZ, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clarification")),
        schema=S,
    )
    op.create_index(
        "ix_clarification_district", "clarification", ["district", "asked_at"], unique=False, schema=S
    )
    op.create_index(
        "ix_clarification_due",
        "clarification",
        ["due_date"],
        unique=False,
        schema=S,
        postgresql_where="status = 'open' AND overdue_at IS NULL",
    )

    op.create_table(
        "urgent_request",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("order_id", sa.Uuid(), nullable=False),
        sa.Column("provider_org", sa.Text(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("district", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("urgency", sa.Text(), nullable=False),
        sa.Column("requested_action", sa.Text(), nullable=False),
        sa.Column("respond_within_minutes", sa.Integer(), nullable=False),
        sa.Column("respond_by", TZ, nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("requested_at", TZ, nullable=False),
        sa.Column("requested_by", sa.Text(), nullable=False),
        sa.Column("accepted", sa.Boolean(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("answered_at", TZ, nullable=True),
        sa.Column("answered_by", sa.Text(), nullable=True),
        sa.Column("escalated_at", TZ, nullable=True),
        sa.Column("message_id", sa.Uuid(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_urgent_request")),
        schema=S,
    )
    op.create_index(
        "ix_urgent_request_district", "urgent_request", ["district", "requested_at"], unique=False, schema=S
    )
    op.create_index(
        "ix_urgent_request_due",
        "urgent_request",
        ["respond_by"],
        unique=False,
        schema=S,
        postgresql_where="status = 'sent'",
    )
    op.create_table(
        "urgent_request_trail",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("urgent_request_id", sa.Uuid(), nullable=False),
        sa.Column("at", TZ, nullable=False),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("role", sa.Text(), nullable=False),
        sa.Column("organisation", sa.Text(), nullable=True),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("details", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_urgent_request_trail")),
        schema=S,
    )
    op.create_index(
        "ix_urgent_request_trail_urgent_request_id",
        "urgent_request_trail",
        ["urgent_request_id"],
        unique=False,
        schema=S,
    )


def downgrade() -> None:
    for table in (
        "urgent_request_trail",
        "urgent_request",
        "clarification",
        "change_of_need",
        "visit",
        "visit_batch",
        "masters_daily_life_report",
        "deviation",
        "start_confirmation",
    ):
        op.drop_table(table, schema=S)
