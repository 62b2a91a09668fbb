"""Each person's timeline: every step of their case, in the order it happened."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field

from hjemflyt.pathway.timeline import service
from hjemflyt.pathway.timeline.rules import EntryKind
from hjemflyt.shared.platform.auth import Principal, Scope
from hjemflyt.shared.platform.deps import LoggedReadDep, SessionDep, requires
from hjemflyt.shared.platform.errors import Problem
from hjemflyt.shared.platform.pagination import MAX_LIMIT, decode_cursor, encode_cursor

router = APIRouter(tags=["timeline"])


def _position(cursor: str | None) -> tuple[datetime, int] | None:
    values = decode_cursor(cursor)
    if values is None:
        return None
    try:
        return datetime.fromisoformat(values["at"]), int(values["seq"])
    except (KeyError, TypeError, ValueError) as exc:
        raise Problem("The cursor is not one this API gave out.", slug="invalid-cursor", status=400) from exc


class TimelineEntryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    kind: EntryKind
    occurred_at: datetime
    district: str | None = Field(description="The district the step belongs to; null if not known")
    source: str
    reference: str = Field(description="Id of what the entry is about: referral, decision, appeal, order …")
    details: dict[str, Any]


class Timeline(BaseModel):
    person_id: uuid.UUID
    entries: list[TimelineEntryOut]
    next_cursor: str | None = Field(
        default=None, description="Pass as `cursor` for the entries after these; null at the end."
    )


@router.get("/v1/persons/{person_id}/timeline", summary="A person's timeline")
async def timeline(
    person_id: uuid.UUID,
    session: SessionDep,
    principal: Annotated[Principal, Depends(requires(Scope.timeline_read))],
    log_read: LoggedReadDep,
    kind: Annotated[list[EntryKind] | None, Query(description="Only entries of these kinds")] = None,
    cursor: Annotated[str | None, Query(description="From the previous page's `next_cursor`")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 200,
) -> Timeline:
    entries, more = await service.for_person(
        session,
        principal,
        person_id,
        log_read,
        kinds={k.value for k in kind or ()},
        after=_position(cursor),
        limit=limit,
    )
    return Timeline(
        person_id=person_id,
        entries=[TimelineEntryOut.model_validate(e) for e in entries],
        next_cursor=(
            encode_cursor({"at": entries[-1].occurred_at.isoformat(), "seq": entries[-1].seq})
            if more
            else None
        ),
    )
