"""Each person's decisions as pathway knows them: the basis of its deadlines."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field

from hjemflyt.pathway.decisions import service
from hjemflyt.shared.platform.auth import Principal, Scope
from hjemflyt.shared.platform.deps import LoggedReadDep, SessionDep, requires

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
    session: SessionDep,
    principal: Annotated[Principal, Depends(requires(Scope.timeline_read))],
    log_read: LoggedReadDep,
) -> list[DecisionOut]:
    return [
        DecisionOut.model_validate(d)
        for d in await service.for_person(session, principal, person_id, log_read)
    ]
