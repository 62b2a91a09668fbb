"""Imports every model so the metadata is complete (Alembic and tests use it)."""

from hjemflyt.notifications.adjustments.models import Adjustment
from hjemflyt.notifications.change_of_need.models import ChangeOfNeed
from hjemflyt.notifications.clarifications.models import Clarification
from hjemflyt.notifications.credentials.models import ProviderCredential
from hjemflyt.notifications.messages.models import Message, MessageSequence
from hjemflyt.notifications.orders.models import Order
from hjemflyt.notifications.pathways.models import PersonPathway
from hjemflyt.notifications.providers.models import Provider
from hjemflyt.notifications.reports.models import Deviation, MastersDailyLifeReport, StartConfirmation
from hjemflyt.notifications.routines.models import Routine, RoutineComment, RoutineDelivery, RoutineVersion
from hjemflyt.notifications.tasks.models import Task
from hjemflyt.notifications.urgent.models import UrgentRequest, UrgentRequestTrail
from hjemflyt.notifications.visits.models import Visit, VisitBatch
from hjemflyt.notifications.webhooks.models import WebhookEndpoint

__all__ = [
    "Adjustment",
    "ChangeOfNeed",
    "Clarification",
    "Deviation",
    "MastersDailyLifeReport",
    "Message",
    "MessageSequence",
    "Order",
    "PersonPathway",
    "Provider",
    "ProviderCredential",
    "Routine",
    "RoutineComment",
    "RoutineDelivery",
    "RoutineVersion",
    "StartConfirmation",
    "Task",
    "UrgentRequest",
    "UrgentRequestTrail",
    "Visit",
    "VisitBatch",
    "WebhookEndpoint",
]
