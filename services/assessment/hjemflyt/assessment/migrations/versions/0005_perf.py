"""perf: a configuration version token, changed by triggers on every configuration write

Each process caches the configuration a decision is checked against (service catalogue,
legal basis, co-payment bands, municipality) and reads only this token per use case, in
the use case's own transaction: a change made by any replica (or by hand in SQL) changes
the token in the same transaction, so no replica checks a decision against a stale
catalogue once the change is committed.

Revision ID: 0005_perf
Revises: 0003
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005_perf"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("municipality", "service_type", "legal_basis", "copayment_band")


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE assessment.config_version (
            id smallint PRIMARY KEY DEFAULT 1 CONSTRAINT ck_config_version_one_row CHECK (id = 1),
            token uuid NOT NULL
        )
        """
    )
    op.execute("INSERT INTO assessment.config_version (id, token) VALUES (1, gen_random_uuid())")
    op.execute(
        """
        CREATE FUNCTION assessment.bump_config_version() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            UPDATE assessment.config_version SET token = gen_random_uuid() WHERE id = 1;
            RETURN NULL;
        END
        $$
        """
    )
    for table in TABLES:
        op.execute(
            f"CREATE TRIGGER trg_{table}_config_version "
            f"AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON assessment.{table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION assessment.bump_config_version()"
        )


def downgrade() -> None:
    for table in TABLES:
        op.execute(f"DROP TRIGGER IF EXISTS trg_{table}_config_version ON assessment.{table}")
    op.execute("DROP FUNCTION IF EXISTS assessment.bump_config_version()")
    op.execute("DROP TABLE IF EXISTS assessment.config_version")
