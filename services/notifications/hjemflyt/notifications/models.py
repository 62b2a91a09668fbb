"""Imports every model so the metadata is complete (Alembic and tests use it)."""

from hjemflyt.notifications.credentials.models import ProviderCredential
from hjemflyt.notifications.messages.models import Message, MessageSequence
from hjemflyt.notifications.orders.models import Order
from hjemflyt.notifications.providers.models import Provider
from hjemflyt.notifications.routines.models import Routine, RoutineComment, RoutineDelivery, RoutineVersion
from hjemflyt.notifications.tasks.models import Task
from hjemflyt.notifications.webhooks.models import WebhookEndpoint

__all__ = [
    "Message",
    "MessageSequence",
    "Order",
    "Provider",
    "ProviderCredential",
    "Routine",
    "RoutineComment",
    "RoutineDelivery",
    "RoutineVersion",
    "Task",
    "WebhookEndpoint",
]
