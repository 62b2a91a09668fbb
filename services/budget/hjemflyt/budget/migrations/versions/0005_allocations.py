"""allocations: lines per unit, changes, the buffer ledger, redistributions

Revision ID: 0005
Revises: 0003
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0005"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

S = "budget"


def _fk_allocation(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["allocation_id"],
        [f"{S}.allocation.id"],
        name=op.f(f"fk_{table}_allocation_id_allocation"),
        ondelete="CASCADE",
    )


def upgrade() -> None:
    op.create_table(
        "allocation",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("budgeting_date", sa.Date(), nullable=False),
        sa.Column("rule_set_id", sa.Uuid(), nullable=False),
        sa.Column("frame_ore", sa.BigInteger(), nullable=False),
        sa.Column("general_ore", sa.BigInteger(), nullable=False),
        sa.Column("buffer_ore", sa.BigInteger(), nullable=False),
        sa.Column("shortfall_ore", sa.BigInteger(), nullable=False),
        sa.Column("tertial", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("tertial BETWEEN 1 AND 3", name=op.f("ck_allocation_tertial")),
        sa.ForeignKeyConstraint(
            ["rule_set_id"], [f"{S}.rule_set.id"], name=op.f("fk_allocation_rule_set_id_rule_set")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_allocation")),
        sa.UniqueConstraint("year", name=op.f("uq_allocation_year")),
        schema=S,
    )
    op.create_table(
        "allocation_unit",
        sa.Column("allocation_id", sa.Uuid(), nullable=False),
        sa.Column("provider_org", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("model", sa.Text(), nullable=False),
        sa.Column("persons", sa.Integer(), nullable=False),
        sa.Column("persons_per_level", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("focus_persons", sa.Integer(), nullable=False),
        sa.Column("need_ore", sa.BigInteger(), nullable=False),
        sa.Column("amount_ore", sa.BigInteger(), nullable=False),
        sa.Column("unfunded_ore", sa.BigInteger(), nullable=False),
        sa.Column("notes", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        _fk_allocation("allocation_unit"),
        sa.PrimaryKeyConstraint("allocation_id", "provider_org", name=op.f("pk_allocation_unit")),
        schema=S,
    )
    op.create_table(
        "allocation_change",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("allocation_id", sa.Uuid(), nullable=False),
        sa.Column("line", sa.Text(), nullable=False),
        sa.Column("before_ore", sa.BigInteger(), nullable=True),
        sa.Column("after_ore", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("cause", sa.Text(), nullable=False),
        sa.Column("redistribution_id", sa.Uuid(), nullable=True),
        sa.Column("changed_by", sa.Text(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        _fk_allocation("allocation_change"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_allocation_change")),
        schema=S,
    )
    op.create_index(
        op.f("ix_budget_allocation_change_allocation_id"),
        "allocation_change",
        ["allocation_id"],
        unique=False,
        schema=S,
    )
    op.create_table(
        "allocation_buffer_entry",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("allocation_id", sa.Uuid(), nullable=False),
        sa.Column("amount_ore", sa.BigInteger(), nullable=False),
        sa.Column("balance_ore", sa.BigInteger(), nullable=False),
        sa.Column("provider_org", sa.Text(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("cause", sa.Text(), nullable=False),
        sa.Column("redistribution_id", sa.Uuid(), nullable=True),
        sa.Column("created_by", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        _fk_allocation("allocation_buffer_entry"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_allocation_buffer_entry")),
        schema=S,
    )
    op.create_index(
        op.f("ix_budget_allocation_buffer_entry_allocation_id"),
        "allocation_buffer_entry",
        ["allocation_id"],
        unique=False,
        schema=S,
    )
    op.create_table(
        "redistribution",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("allocation_id", sa.Uuid(), nullable=False),
        sa.Column("allocation_version", sa.Integer(), nullable=False),
        sa.Column("tertial", sa.Integer(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("deficit_ore", sa.BigInteger(), nullable=False),
        sa.Column("base_level", sa.Text(), nullable=False),
        sa.Column("base_persons", sa.Integer(), nullable=False),
        sa.Column("cut_per_base_person_ore", sa.BigInteger(), nullable=False),
        sa.Column("base_amount_before_ore", sa.BigInteger(), nullable=False),
        sa.Column("base_amount_after_ore", sa.BigInteger(), nullable=False),
        sa.Column("moved_ore", sa.BigInteger(), nullable=False),
        sa.Column("to_buffer_ore", sa.BigInteger(), nullable=False),
        sa.Column("units", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("proposed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("proposed_by", sa.Text(), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.Text(), nullable=True),
        sa.Column("decision_reason", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "status IN ('proposed', 'approved', 'rejected')", name=op.f("ck_redistribution_status")
        ),
        _fk_allocation("redistribution"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_redistribution")),
        schema=S,
    )
    op.create_index(
        op.f("ix_budget_redistribution_allocation_id"),
        "redistribution",
        ["allocation_id"],
        unique=False,
        schema=S,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_budget_redistribution_allocation_id"), table_name="redistribution", schema=S)
    op.drop_table("redistribution", schema=S)
    op.drop_index(
        op.f("ix_budget_allocation_buffer_entry_allocation_id"),
        table_name="allocation_buffer_entry",
        schema=S,
    )
    op.drop_table("allocation_buffer_entry", schema=S)
    op.drop_index(op.f("ix_budget_allocation_change_allocation_id"), table_name="allocation_change", schema=S)
    op.drop_table("allocation_change", schema=S)
    op.drop_table("allocation_unit", schema=S)
    op.drop_table("allocation", schema=S)
