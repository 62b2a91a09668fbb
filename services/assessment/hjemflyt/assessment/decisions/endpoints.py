"""Decisions (vedtak)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

from hjemflyt.assessment.decisions import service
from hjemflyt.assessment.decisions.schemas import DecisionIn, DecisionOut
from hjemflyt.shared.platform.auth import Principal, Scope
from hjemflyt.shared.platform.deps import ContextDep, IdempotencyDep, SessionDep, requires

router = APIRouter(tags=["decisions"])

Reader = Annotated[Principal, Depends(requires(Scope.decisions_read))]
Writer = Annotated[Principal, Depends(requires(Scope.decisions_write))]


@router.post(
    "/v1/decisions",
    status_code=201,
    response_model=DecisionOut,
    summary="Make a decision granting services with hours per month and chosen providers",
    description="Publishes `decision.made` and one `order.issued` per chosen provider. "
    "Send an `Idempotency-Key` when you may retry.",
)
async def make_decision(
    body: DecisionIn, ctx: ContextDep, session: SessionDep, principal: Writer, idem: IdempotencyDep
) -> JSONResponse:
    if (replay := await idem.replay()) is not None:
        return replay
    decision = await service.make(ctx, session, principal, body)
    return await idem.remember(
        201, decision, headers={"Location": f"/v1/decisions/{decision.id}", "ETag": f'"{decision.version}"'}
    )


@router.get("/v1/decisions/{decision_id}", summary="Read a decision")
async def get_decision(
    decision_id: uuid.UUID, ctx: ContextDep, session: SessionDep, principal: Reader
) -> DecisionOut:
    return await service.get(ctx, session, principal, decision_id)


@router.get("/v1/persons/{person_id}/decisions", summary="A person's decisions")
async def person_decisions(
    person_id: uuid.UUID, ctx: ContextDep, session: SessionDep, principal: Reader
) -> list[DecisionOut]:
    return list(await service.for_person(ctx, session, principal, person_id))
