"""CloudEvents 1.0 envelope (JSON structured mode) for every event on the bus.

`id` doubles as the NATS `Nats-Msg-Id` header, so JetStream drops a re-published copy, and
as the inbox key, so a redelivered copy has no second effect. `tenant` (kommunenummer)
and `traceparent` are extension attributes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field


class CloudEvent(BaseModel):
    # Unknown attributes are kept (CloudEvents allows extensions) but never required.
    model_config = ConfigDict(extra="allow", frozen=True)

    specversion: Literal["1.0"] = "1.0"
    id: UUID
    source: str = Field(description="The producing service, e.g. /hjemflyt/assessment")
    type: str = Field(description="no.hjemflyt.<service>.<aggregate>.<happened>.v<N>")
    subject: str = Field(description="Id of the aggregate the event is about")
    time: datetime
    datacontenttype: Literal["application/json"] = "application/json"
    dataschema: str
    tenant: str = Field(pattern=r"^\d{4}$", description="kommunenummer")
    traceparent: str | None = None
    data: dict[str, Any]
