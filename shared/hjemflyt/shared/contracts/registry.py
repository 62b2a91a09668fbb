"""The registry of event types: name, subject, payload model and who produces it.

Every event on the bus is declared here once. Producers publish through the outbox with an
`EventType`; consumers subscribe by `EventType`; the AsyncAPI catalogue is generated from
this registry. An incompatible payload change is a new type with the next version number.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from pydantic import BaseModel

M = TypeVar("M", bound=BaseModel)

SCHEMA_BASE = "https://hjemflyt.no/schemas/events/"


@dataclass(frozen=True)
class EventType(Generic[M]):
    service: str
    aggregate: str
    happened: str
    version: int
    model: type[M]
    description: str
    # Events that carry personal data (names, identity numbers) for one provider: only
    # the notifications service may subscribe to these.
    personal_data: bool = False

    @property
    def name(self) -> str:
        return f"no.hjemflyt.{self.service}.{self.aggregate}.{self.happened}.v{self.version}"

    @property
    def dataschema(self) -> str:
        return f"{SCHEMA_BASE}{self.name}.json"

    def subject(self, namespace: str, tenant: str) -> str:
        return f"{namespace}.{self.service}.{tenant}.{self.aggregate}.{self.happened}.v{self.version}"

    def filter_subject(self, namespace: str) -> str:
        """Matches this type for every tenant."""
        return f"{namespace}.{self.service}.*.{self.aggregate}.{self.happened}.v{self.version}"


REGISTRY: dict[str, EventType[BaseModel]] = {}


def register(event_type: EventType[M]) -> EventType[M]:
    if event_type.name in REGISTRY:
        raise ValueError(f"event type {event_type.name} registered twice")
    REGISTRY[event_type.name] = event_type  # type: ignore[assignment]
    return event_type


def stream_name(namespace: str, service: str) -> str:
    """One JetStream stream per producing service."""
    return f"{namespace}_{service}".upper().replace("-", "_").replace(".", "_")


def stream_subjects(namespace: str, service: str) -> list[str]:
    return [f"{namespace}.{service}.>"]
