"""Alembic environment of the assessment schema."""

import hjemflyt.assessment.models  # noqa: F401  (registers every table on the metadata)
from hjemflyt.assessment.db import SCHEMA, metadata
from hjemflyt.shared.platform.migrations import run_env

run_env(metadata, SCHEMA)
