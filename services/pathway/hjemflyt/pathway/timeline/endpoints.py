"""Each person's timeline: what was decided and ordered, in order."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict

from hjemflyt.pathway.timeline.repository import TimelineRepository
from hjemflyt.shared.platform.audit import Action
from hjemflyt.shared.platform.auth import Principal, Scope
from hjemflyt.shared.platform.deps import ContextDep, SessionDep, requires

router = APIRouter(tags=["timeline"])


class TimelineEntryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    kind: str
    occurred_at: datetime
    source: str
    reference: str
    details: dict[str, Any]


class Timeline(BaseModel):
    person_id: uuid.UUID
    entries: list[TimelineEntryOut]


@router.get("/v1/persons/{person_id}/timeline", summary="A person's timeline")
async def timeline(
    person_id: uuid.UUID,
    ctx: ContextDep,
    session: SessionDep,
    principal: Annotated[Principal, Depends(requires(Scope.timeline_read))],
) -> Timeline:
    entries = await TimelineRepository(session).for_person(principal, person_id)
    if entries:
        await ctx.access_log.record(
            session,
            principal,
            action=Action.read,
            resource="timeline",
            person_ids=[person_id],
            purpose="case handling",
        )
    return Timeline(person_id=person_id, entries=[TimelineEntryOut.model_validate(e) for e in entries])
