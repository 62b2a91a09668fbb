"""Alembic environment of the pathway schema."""

import hjemflyt.pathway.models  # noqa: F401  (registers every table on the metadata)
from hjemflyt.pathway.db import SCHEMA, metadata
from hjemflyt.shared.platform.migrations import run_env

run_env(metadata, SCHEMA)
