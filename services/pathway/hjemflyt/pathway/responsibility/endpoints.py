"""Named responsibility: each person's service lead and primary contact, and the gaps."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from hjemflyt.pathway.responsibility import service
from hjemflyt.pathway.responsibility.schemas import GapPage, ResponsibilityIn, ResponsibilityOut
from hjemflyt.pathway.worklists.endpoints import Reader
from hjemflyt.shared.platform.auth import Principal, Scope
from hjemflyt.shared.platform.deps import ContextDep, SessionDep, requires
from hjemflyt.shared.platform.pagination import MAX_LIMIT

router = APIRouter(tags=["responsibility"])


@router.put(
    "/v1/persons/{person_id}/responsibility",
    summary="Name the person's service lead (and primary contact, case officer, team)",
    description="For the case system or a case officer. Staff ids only, never names. Replaces what was set.",
)
async def put_responsibility(
    person_id: uuid.UUID,
    body: ResponsibilityIn,
    ctx: ContextDep,
    session: SessionDep,
    principal: Annotated[Principal, Depends(requires(Scope.persons_write))],
) -> ResponsibilityOut:
    return await service.put(ctx, session, principal, person_id, body)


@router.get("/v1/persons/{person_id}/responsibility", summary="Who is responsible for the person")
async def get_responsibility(
    person_id: uuid.UUID,
    ctx: ContextDep,
    session: SessionDep,
    principal: Annotated[Principal, Depends(requires(Scope.persons_read))],
) -> ResponsibilityOut:
    return await service.get(ctx, session, principal, person_id)


@router.get(
    "/v1/responsibility/gaps",
    summary="Persons with a running decision but no service lead or no primary contact",
)
async def gaps(
    ctx: ContextDep,
    session: SessionDep,
    principal: Reader,
    district: Annotated[str | None, Query(description="One district; all of yours if left out")] = None,
    cursor: Annotated[str | None, Query(description="From the previous page's `next_cursor`")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
) -> GapPage:
    return await service.gaps(ctx, session, principal, district=district, cursor=cursor, limit=limit)
