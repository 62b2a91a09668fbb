"""Alembic environment of the notifications schema."""

import hjemflyt.notifications.models  # noqa: F401  (registers every table on the metadata)
from hjemflyt.notifications.db import SCHEMA, metadata
from hjemflyt.shared.platform.migrations import run_env

run_env(metadata, SCHEMA)
