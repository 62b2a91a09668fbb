from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from hjemflyt.notifications.tasks.rules import TaskKind


class TaskOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    kind: TaskKind
    status: str
    title: str
    reference_id: UUID
    district: str | None
    person_id: UUID | None
    provider_org: str | None
    order_id: UUID | None
    details: dict[str, Any]
    due_date: date | None
    created_at: datetime
    closed_at: datetime | None
    closed_by: str | None
    resolution: str | None


class TaskClose(BaseModel):
    model_config = ConfigDict(extra="forbid")

    resolution: str = Field(min_length=1, max_length=2000, description="What was done")
