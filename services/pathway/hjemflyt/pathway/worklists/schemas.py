from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from pydantic import BaseModel, Field

from hjemflyt.pathway.worklists.rules import Holder, ItemKind


class WorklistItem(BaseModel):
    kind: ItemKind
    person_id: uuid.UUID
    district: str | None = Field(description="Null only for an order whose decision pathway has not heard of")
    reference_id: str = Field(
        description="The pathway, decision, change-of-need report, order or delivery flag"
    )
    since: date = Field(description="When the matter began: opened, evaluation date, reported, sent")
    due: date = Field(description="When it should have been done (the list is sorted by it)")
    overdue_days: int = Field(description="Days past due; 0 when not yet")
    details: dict[str, Any]


class Worklist(BaseModel):
    holder: Holder
    id: str
    as_of: date
    items: list[WorklistItem]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null at the end.")
