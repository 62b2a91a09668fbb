"""Imports every model so the metadata is complete (Alembic and tests use it)."""

from hjemflyt.pathway.timeline.models import TimelineEntry

__all__ = ["TimelineEntry"]
