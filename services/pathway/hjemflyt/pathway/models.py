"""Imports every model so the metadata is complete (Alembic and tests use it)."""

from hjemflyt.pathway.decisions.models import PersonDecision
from hjemflyt.pathway.timeline.models import TimelineEntry

__all__ = ["PersonDecision", "TimelineEntry"]
