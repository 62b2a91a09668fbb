"""provider registry: agreements, contacts, API credentials; the district routine registry

Revision ID: 0005
Revises: 0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0005"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

S = "notifications"


def upgrade() -> None:
    op.add_column(
        "provider",
        sa.Column(
            "service_types", postgresql.ARRAY(sa.Text()), server_default=sa.text("'{}'"), nullable=False
        ),
        schema=S,
    )
    op.add_column(
        "provider",
        sa.Column(
            "contract_prices",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'"),
            nullable=False,
        ),
        schema=S,
    )
    op.add_column(
        "provider",
        sa.Column(
            "contacts",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'[]'"),
            nullable=False,
        ),
        schema=S,
    )
    op.add_column("provider", sa.Column("agreement_valid_from", sa.Date(), nullable=True), schema=S)
    op.add_column("provider", sa.Column("agreement_valid_to", sa.Date(), nullable=True), schema=S)

    op.create_table(
        "provider_credential",
        sa.Column("client_id", sa.Text(), nullable=False),
        sa.Column("provider_org", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("secret_hash", sa.LargeBinary(), nullable=False),
        sa.Column("salt", sa.LargeBinary(), nullable=False),
        sa.Column("kdf", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Text(), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_by", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("client_id", name=op.f("pk_provider_credential")),
        schema=S,
    )
    op.create_index("ix_provider_credential_provider_org", "provider_credential", ["provider_org"], schema=S)

    op.create_table(
        "routine",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("district", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_routine")),
        sa.UniqueConstraint(
            "key", "district", name="uq_routine_key_district", postgresql_nulls_not_distinct=True
        ),
        schema=S,
    )
    op.create_table(
        "routine_version",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("routine_id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("comment_until", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("published_by", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["routine_id"], [f"{S}.routine.id"], name=op.f("fk_routine_version_routine_id_routine")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_routine_version")),
        sa.UniqueConstraint("routine_id", "number", name="uq_routine_version_number"),
        schema=S,
    )
    op.create_index(
        "uq_routine_version_open",
        "routine_version",
        ["routine_id"],
        unique=True,
        schema=S,
        postgresql_where="status IN ('draft', 'comment')",
    )
    op.create_index(
        "ix_routine_version_published", "routine_version", ["routine_id", "published_at"], schema=S
    )
    op.create_table(
        "routine_comment",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("version_id", sa.Uuid(), nullable=False),
        sa.Column("provider_org", sa.Text(), nullable=False),
        sa.Column("author", sa.Text(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["version_id"],
            [f"{S}.routine_version.id"],
            name=op.f("fk_routine_comment_version_id_routine_version"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_routine_comment")),
        schema=S,
    )
    op.create_index("ix_routine_comment_version", "routine_comment", ["version_id", "created_at"], schema=S)
    op.create_table(
        "routine_delivery",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("routine_id", sa.Uuid(), nullable=False),
        sa.Column("version_id", sa.Uuid(), nullable=False),
        sa.Column("provider_org", sa.Text(), nullable=False),
        sa.Column("message_id", sa.Uuid(), nullable=False),
        sa.Column("district", sa.Text(), nullable=True),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("ack_deadline", sa.DateTime(timezone=True), nullable=False),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("reminders_sent", sa.Integer(), nullable=False),
        sa.Column("last_reminded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["routine_id"], [f"{S}.routine.id"], name=op.f("fk_routine_delivery_routine_id_routine")
        ),
        sa.ForeignKeyConstraint(
            ["version_id"],
            [f"{S}.routine_version.id"],
            name=op.f("fk_routine_delivery_version_id_routine_version"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_routine_delivery")),
        sa.UniqueConstraint("version_id", "provider_org", name="uq_routine_delivery_provider"),
        sa.UniqueConstraint("message_id", name="uq_routine_delivery_message"),
        schema=S,
    )
    op.create_index(
        "ix_routine_delivery_awaiting",
        "routine_delivery",
        ["created_at"],
        schema=S,
        postgresql_where="status = 'awaiting'",
    )


def downgrade() -> None:
    op.drop_index(
        "ix_routine_delivery_awaiting",
        table_name="routine_delivery",
        schema=S,
        postgresql_where="status = 'awaiting'",
    )
    op.drop_table("routine_delivery", schema=S)
    op.drop_index("ix_routine_comment_version", table_name="routine_comment", schema=S)
    op.drop_table("routine_comment", schema=S)
    op.drop_index("ix_routine_version_published", table_name="routine_version", schema=S)
    op.drop_index(
        "uq_routine_version_open",
        table_name="routine_version",
        schema=S,
        postgresql_where="status IN ('draft', 'comment')",
    )
    op.drop_table("routine_version", schema=S)
    op.drop_table("routine", schema=S)
    op.drop_index("ix_provider_credential_provider_org", table_name="provider_credential", schema=S)
    op.drop_table("provider_credential", schema=S)
    for column in (
        "agreement_valid_to",
        "agreement_valid_from",
        "contacts",
        "contract_prices",
        "service_types",
    ):
        op.drop_column("provider", column, schema=S)
