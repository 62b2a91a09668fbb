"""Documents on a person from incoming PLO messages (Innleggelsesrapport,
Utskrivningsrapport, Medisinske opplysninger, Helseopplysninger til lege), with versions

Revision ID: 0012_person_documents
Revises: 0011_plo_inbound
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0012_person_documents"
down_revision: str | Sequence[str] | None = "0011_plo_inbound"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "person_document",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("sender_name", sa.Text(), nullable=False),
        sa.Column("sender_her_id", sa.Text(), nullable=True),
        sa.Column("msg_id", sa.Text(), nullable=False),
        sa.Column("message_id", sa.Uuid(), nullable=False),
        sa.Column("shipment", sa.Text(), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sections", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("xml_cipher", sa.LargeBinary(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("chain_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("replaces_id", sa.Uuid(), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancelled_by_msg_id", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["person_id"], ["assessment.person.id"], name=op.f("fk_person_document_person_id_person")
        ),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["assessment.plo_message.id"],
            name=op.f("fk_person_document_message_id_plo_message"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_person_document")),
        sa.UniqueConstraint("chain_id", "version", name=op.f("uq_person_document_chain_id")),
        sa.UniqueConstraint("msg_id", name=op.f("uq_person_document_msg_id")),
        schema="assessment",
    )
    op.create_index(
        op.f("ix_assessment_person_document_person_id"), "person_document", ["person_id"], schema="assessment"
    )
    op.create_index(
        op.f("ix_assessment_person_document_chain_id"), "person_document", ["chain_id"], schema="assessment"
    )


def downgrade() -> None:
    op.drop_table("person_document", schema="assessment")
