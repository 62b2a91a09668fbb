"""worklists: orders, change-of-need reports and tasks as read models; named responsibility;
timeline entries per event and person, ordered by arrival within a moment

Revision ID: 0004
Revises: 0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "provider_order",
        sa.Column("order_id", sa.Uuid(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("provider_org", sa.Text(), nullable=False),
        sa.Column("decision_id", sa.Uuid(), nullable=True),
        sa.Column("district", sa.Text(), nullable=True),
        sa.Column("sent_version", sa.Integer(), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("acked_version", sa.Integer(), nullable=True),
        sa.Column("acked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("accepted", sa.Boolean(), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("order_id", name=op.f("pk_provider_order")),
        schema="pathway",
    )
    op.create_index(
        op.f("ix_pathway_provider_order_person_id"), "provider_order", ["person_id"], schema="pathway"
    )
    op.create_index(
        op.f("ix_pathway_provider_order_decision_id"), "provider_order", ["decision_id"], schema="pathway"
    )
    op.create_table(
        "change_of_need",
        sa.Column("change_of_need_id", sa.Uuid(), nullable=False),
        sa.Column("order_id", sa.Uuid(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("provider_org", sa.Text(), nullable=False),
        sa.Column("district", sa.Text(), nullable=False),
        sa.Column("proposed_hours_per_month", sa.Numeric(8, 2), nullable=True),
        sa.Column("reported_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("change_of_need_id", name=op.f("pk_change_of_need")),
        schema="pathway",
    )
    op.create_index(
        op.f("ix_pathway_change_of_need_person_id"), "change_of_need", ["person_id"], schema="pathway"
    )
    op.create_table(
        "case_task",
        sa.Column("task_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("reference_id", sa.Uuid(), nullable=False),
        sa.Column("district", sa.Text(), nullable=True),
        sa.Column("person_id", sa.Uuid(), nullable=True),
        sa.Column("provider_org", sa.Text(), nullable=True),
        sa.Column("order_id", sa.Uuid(), nullable=True),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolution", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("task_id", name=op.f("pk_case_task")),
        schema="pathway",
    )
    op.create_index(op.f("ix_pathway_case_task_person_id"), "case_task", ["person_id"], schema="pathway")
    op.create_index(op.f("ix_pathway_case_task_order_id"), "case_task", ["order_id"], schema="pathway")
    op.create_table(
        "responsibility",
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("service_lead", sa.Text(), nullable=False),
        sa.Column("primary_contact", sa.Text(), nullable=True),
        sa.Column("case_officer", sa.Text(), nullable=True),
        sa.Column("team", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("person_id", name=op.f("pk_responsibility")),
        schema="pathway",
    )
    for column in ("service_lead", "primary_contact", "case_officer", "team"):
        op.create_index(
            op.f(f"ix_pathway_responsibility_{column}"), "responsibility", [column], schema="pathway"
        )
    op.create_table(
        "primary_contact",
        sa.Column("order_id", sa.Uuid(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("provider_org", sa.Text(), nullable=False),
        sa.Column("district", sa.Text(), nullable=False),
        sa.Column("order_version", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Text(), nullable=False),
        sa.Column("started_on", sa.Date(), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("order_id", name=op.f("pk_primary_contact")),
        schema="pathway",
    )
    op.create_index(
        op.f("ix_pathway_primary_contact_person_id"), "primary_contact", ["person_id"], schema="pathway"
    )
    op.create_index(
        op.f("ix_pathway_primary_contact_staff_id"), "primary_contact", ["staff_id"], schema="pathway"
    )
    # A visit batch concerns several persons: one entry per event and person. Existing rows
    # get their arrival order from the identity as they are numbered.
    op.add_column(
        "timeline_entry",
        sa.Column("seq", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        schema="pathway",
    )
    op.drop_constraint(op.f("uq_timeline_entry_event_id"), "timeline_entry", schema="pathway", type_="unique")
    op.create_unique_constraint(
        op.f("uq_timeline_entry_event_person"), "timeline_entry", ["event_id", "person_id"], schema="pathway"
    )


def downgrade() -> None:
    op.drop_constraint(
        op.f("uq_timeline_entry_event_person"), "timeline_entry", schema="pathway", type_="unique"
    )
    op.create_unique_constraint(
        op.f("uq_timeline_entry_event_id"), "timeline_entry", ["event_id"], schema="pathway"
    )
    op.drop_column("timeline_entry", "seq", schema="pathway")
    op.drop_table("primary_contact", schema="pathway")
    op.drop_table("responsibility", schema="pathway")
    op.drop_table("case_task", schema="pathway")
    op.drop_table("change_of_need", schema="pathway")
    op.drop_table("provider_order", schema="pathway")
