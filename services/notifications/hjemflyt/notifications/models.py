"""Imports every model so the metadata is complete (Alembic and tests use it)."""

from hjemflyt.notifications.orders.models import Order
from hjemflyt.notifications.providers.models import Provider

__all__ = ["Order", "Provider"]
