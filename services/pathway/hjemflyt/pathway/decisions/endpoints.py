"""Each person's decisions as pathway knows them: the basis of its deadlines."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field

from hjemflyt.pathway.decisions.repository import DecisionRepository
from hjemflyt.shared.platform.audit import Action
from hjemflyt.shared.platform.auth import Principal, Scope
from hjemflyt.shared.platform.deps import ContextDep, SessionDep, requires

router = APIRouter(tags=["decisions"])


class DecisionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    decision_id: uuid.UUID
    version: int
    status: str = Field(description="made | amended | ended")
    district: str
    start_date: date | None
    end_date: date | None
    evaluation_date: date | None
    end_reason: str | None
    changed_at: datetime


@router.get("/v1/persons/{person_id}/decisions", summary="A person's decisions, latest version of each")
async def decisions(
    person_id: uuid.UUID,
    ctx: ContextDep,
    session: SessionDep,
    principal: Annotated[Principal, Depends(requires(Scope.timeline_read))],
) -> list[DecisionOut]:
    found = await DecisionRepository(session).for_person(principal, person_id)
    if found:
        await ctx.access_log.record(
            session,
            principal,
            action=Action.read,
            resource="decisions",
            person_ids=[person_id],
            purpose="case handling",
        )
    return [DecisionOut.model_validate(d) for d in found]
