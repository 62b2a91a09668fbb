"""Pathway assignments (Stavanger's pathway 1): an order to a provider before any decision,
for at most 14 days. The provider gets it as an ordinary order with `basis: assignment`."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Header
from fastapi.responses import JSONResponse

from hjemflyt.assessment.assignments import service
from hjemflyt.assessment.assignments.schemas import AssignmentEndIn, AssignmentIn, AssignmentOut
from hjemflyt.shared.platform.auth import Principal, Scope
from hjemflyt.shared.platform.deps import ContextDep, IdempotencyDep, SessionDep, requires

router = APIRouter(tags=["assignments"])

Reader = Annotated[Principal, Depends(requires(Scope.decisions_read))]
Writer = Annotated[Principal, Depends(requires(Scope.decisions_write))]
Purpose = Annotated[
    str, Header(alias="Hjemflyt-Purpose", max_length=200, description="Kept in the access log")
]


@router.post(
    "/v1/assignments",
    status_code=201,
    response_model=AssignmentOut,
    summary="Send a provider a pathway assignment before any decision (at most 14 days)",
    description="Publishes `order.issued` (basis `assignment`, `decision_id` = the assignment's id) and "
    "`assignment.issued`. Longer than 14 days, both ends included: 422 `assignment-too-long` "
    "(make a decision). Send an `Idempotency-Key` when you may retry.",
)
async def create(
    body: AssignmentIn, ctx: ContextDep, session: SessionDep, principal: Writer, idem: IdempotencyDep
) -> JSONResponse:
    if (replay := await idem.replay()) is not None:
        return replay
    out = await service.create(ctx, session, principal, body)
    return await idem.remember(201, out, headers={"Location": f"/v1/assignments/{out.id}"})


@router.get("/v1/assignments/{assignment_id}", response_model=AssignmentOut, summary="Read an assignment")
async def get_assignment(
    assignment_id: uuid.UUID,
    ctx: ContextDep,
    session: SessionDep,
    principal: Reader,
    purpose: Purpose = "case handling",
) -> AssignmentOut:
    return await service.get(ctx, session, principal, assignment_id, purpose)


@router.post(
    "/v1/assignments/{assignment_id}/end",
    response_model=AssignmentOut,
    summary="End an assignment early; the provider's order ends",
)
async def end(
    assignment_id: uuid.UUID, body: AssignmentEndIn, ctx: ContextDep, session: SessionDep, principal: Writer
) -> AssignmentOut:
    return await service.end(ctx, session, principal, assignment_id, body)


@router.get("/v1/persons/{person_id}/assignments", summary="A person's assignments")
async def person_assignments(
    person_id: uuid.UUID, ctx: ContextDep, session: SessionDep, principal: Reader
) -> list[AssignmentOut]:
    return list(await service.for_person(ctx, session, principal, person_id))
