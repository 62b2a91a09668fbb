"""measure catalogue: coded measures with time norms; decisions' measures carry a code

The municipality's catalogue of measures (tiltakskatalog), seeded with the time norms of
Stavanger's activity model (DOMAIN § 6) as the default, each with a stable short code that
orders carry and visit reports name. Writes to it change the configuration version token,
like the other configuration tables (0005_perf), so cached catalogues reload.

Revision ID: 0007_measures
Revises: 0006
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_measures"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (code, name, service type or None for any service, norm minutes). A frozen copy: the
# municipality changes its catalogue through the configuration API afterwards.
DEFAULTS = [
    ("shower", "Dusj/helvask", None, 30),
    ("morning-care", "Morgenstell", None, 25),
    ("evening-care", "Kveldsstell", None, 15),
    ("feeding", "Hjelp til å spise (mating)", None, 30),
    ("afternoon-rest", "Middagshvil", None, 20),
    ("prepare-meal", "Tilberede måltid", None, 10),
    ("toilet-visit", "Toalettbesøk/bleieskift", None, 10),
    ("eye-drops", "Øyedråper", "home-nursing", 10),
    ("supervision-visit", "Tilsynsbesøk", None, 10),
    ("blood-pressure", "Blodtrykksmåling", "home-nursing", 10),
    ("dose-dispensing", "Dosering av medisiner", "home-nursing", 20),
    ("give-medicines", "Utdeling av medisiner", "home-nursing", 10),
    ("injection", "Injeksjon", "home-nursing", 15),
    ("catheterisation", "Kateterisering", "home-nursing", 15),
    ("deliver-multidose", "Levering av multidose", "home-nursing", 5),
    ("wound-care", "Sårstell", "home-nursing", 20),
    ("phone-check", "Telefontilsyn", None, 5),
]


def upgrade() -> None:
    table = op.create_table(
        "measure_code",
        sa.Column("code", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("service_type", sa.Text(), nullable=True),
        sa.Column("norm_minutes", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_measure_code")),
        sa.CheckConstraint("norm_minutes BETWEEN 1 AND 600", name=op.f("ck_measure_code_norm_minutes")),
        schema="assessment",
    )
    op.execute(
        "CREATE TRIGGER trg_measure_code_config_version "
        "AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON assessment.measure_code "
        "FOR EACH STATEMENT EXECUTE FUNCTION assessment.bump_config_version()"
    )
    op.bulk_insert(
        table,
        [
            {"code": c, "name": n, "service_type": t, "norm_minutes": m, "active": True}
            for c, n, t, m in DEFAULTS
        ],
    )
    op.add_column("measure", sa.Column("code", sa.Text(), nullable=True), schema="assessment")


def downgrade() -> None:
    op.drop_column("measure", "code", schema="assessment")
    op.execute("DROP TRIGGER IF EXISTS trg_measure_code_config_version ON assessment.measure_code")
    op.drop_table("measure_code", schema="assessment")
