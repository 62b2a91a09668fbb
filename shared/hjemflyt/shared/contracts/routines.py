"""Events of the notifications service: routines (see events.py for the envelope rules).

The district routine registry's publications and the providers' acknowledgements. No
personal data: routines are municipal practice, providers are organisations.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import Field

from hjemflyt.shared.contracts.events import EventData
from hjemflyt.shared.contracts.registry import EventType, register


class RoutinePublished(EventData):
    routine_id: UUID
    version_id: UUID
    number: int = Field(ge=1, description="The routine's version number")
    key: str
    kind: str = Field(description="routine | contacts | on_call | pathway | services")
    district: str | None = Field(description="None for a municipality-wide template")
    title: str
    published_at: datetime
    districts: list[str] = Field(
        description="Districts of registered providers the publication applies to (a template: "
        "those without an override of its key)"
    )
    provider_orgs: list[str] = Field(description="Providers it was pushed to for acknowledgement")
    ack_deadline: datetime


class RoutineAcknowledged(EventData):
    routine_id: UUID
    version_id: UUID
    number: int
    provider_org: str
    message_id: UUID
    accepted: bool = Field(description="False: the provider rejected it (the reason stays in the task)")
    acknowledged_at: datetime


ROUTINE_PUBLISHED = register(
    EventType(
        "notifications",
        "routine",
        "published",
        1,
        RoutinePublished,
        "A version of a district routine (or a municipality-wide template) was published and "
        "pushed to the providers it concerns.",
    )
)
ROUTINE_ACKNOWLEDGED = register(
    EventType(
        "notifications",
        "routine",
        "acknowledged",
        1,
        RoutineAcknowledged,
        "A provider accepted or rejected a published routine.",
    )
)
