"""Alembic environment of the budget schema."""

import hjemflyt.budget.models  # noqa: F401  (registers every table on the metadata)
from hjemflyt.budget.db import SCHEMA, metadata
from hjemflyt.shared.platform.migrations import run_env

run_env(metadata, SCHEMA)
