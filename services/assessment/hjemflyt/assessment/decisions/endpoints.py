"""Decisions (vedtak): draft → made → sent → active → ended, amendments, provider choice.

Updates answer with an `ETag` (the version) and require `If-Match` on PATCH, so two case
officers cannot overwrite each other; transitions take `If-Match` when sent.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Response
from fastapi.responses import JSONResponse

from hjemflyt.assessment.decisions import service
from hjemflyt.assessment.decisions.schemas import (
    Completeness,
    DecisionContent,
    DecisionIn,
    DecisionOut,
    EndIn,
    ProviderChoiceIn,
    ProviderChoiceOut,
    VersionOut,
)
from hjemflyt.shared.platform.auth import Principal, Scope
from hjemflyt.shared.platform.deps import ContextDep, IdempotencyDep, LoggedReadDep, SessionDep, requires
from hjemflyt.shared.platform.errors import Problem
from hjemflyt.shared.platform.pagination import MAX_LIMIT, Page, decode_cursor, encode_cursor

router = APIRouter(tags=["decisions"])

Reader = Annotated[Principal, Depends(requires(Scope.decisions_read))]
Writer = Annotated[Principal, Depends(requires(Scope.decisions_write))]
IfMatch = Annotated[str | None, Header(alias="If-Match", description="The ETag you read")]
Purpose = Annotated[
    str, Header(alias="Hjemflyt-Purpose", max_length=200, description="Kept in the access log")
]


def tagged(out: DecisionOut, status: int = 200) -> JSONResponse:
    return JSONResponse(out.model_dump(mode="json"), status_code=status, headers={"ETag": f'"{out.version}"'})


@router.post(
    "/v1/decisions",
    status_code=201,
    response_model=DecisionOut,
    summary="Draft a decision (or make it at once with make=true)",
    description="A draft may be incomplete. With `make: true` it is checked and made in the same call, "
    "publishing `decision.made` and an order per chosen provider. "
    "Send an `Idempotency-Key` when you may retry.",
)
async def create(
    body: DecisionIn, ctx: ContextDep, session: SessionDep, principal: Writer, idem: IdempotencyDep
) -> JSONResponse:
    if (replay := await idem.replay()) is not None:
        return replay
    out = await service.create(ctx, session, principal, body)
    return await idem.remember(
        201, out, headers={"Location": f"/v1/decisions/{out.id}", "ETag": f'"{out.version}"'}
    )


@router.get("/v1/decisions/{decision_id}", summary="Read a decision", response_model=DecisionOut)
async def get_decision(
    decision_id: uuid.UUID,
    ctx: ContextDep,
    session: SessionDep,
    principal: Reader,
    purpose: Purpose = "case handling",
) -> JSONResponse:
    return tagged(await service.get(ctx, session, principal, decision_id, purpose))


@router.patch(
    "/v1/decisions/{decision_id}",
    response_model=DecisionOut,
    summary="Edit a draft, or amend a running decision in the person's favour",
    description="Requires If-Match. A change to the person's detriment of a running decision answers 409 "
    "`reduction-requires-new-decision`: make a new decision with `supersedes_id` instead.",
)
async def patch_decision(
    decision_id: uuid.UUID,
    body: DecisionContent,
    ctx: ContextDep,
    session: SessionDep,
    principal: Writer,
    if_match: IfMatch = None,
) -> JSONResponse:
    return tagged(await service.edit(ctx, session, principal, decision_id, body, if_match))


@router.get("/v1/decisions/{decision_id}/completeness", summary="What is missing before it can be made")
async def completeness(
    decision_id: uuid.UUID, ctx: ContextDep, session: SessionDep, principal: Reader, log_read: LoggedReadDep
) -> Completeness:
    return await service.completeness(ctx, session, principal, decision_id, log_read)


@router.post("/v1/decisions/{decision_id}/make", response_model=DecisionOut, summary="Make the decision")
async def make(
    decision_id: uuid.UUID, ctx: ContextDep, session: SessionDep, principal: Writer, if_match: IfMatch = None
) -> JSONResponse:
    return tagged(await service.make(ctx, session, principal, decision_id, if_match))


@router.post(
    "/v1/decisions/{decision_id}/send",
    response_model=DecisionOut,
    summary="The letter is sent; the appeal clock starts",
)
async def send(
    decision_id: uuid.UUID, ctx: ContextDep, session: SessionDep, principal: Writer, if_match: IfMatch = None
) -> JSONResponse:
    return tagged(await service.send(ctx, session, principal, decision_id, if_match))


@router.post(
    "/v1/decisions/{decision_id}/activate", response_model=DecisionOut, summary="Services have started"
)
async def activate(
    decision_id: uuid.UUID, ctx: ContextDep, session: SessionDep, principal: Writer, if_match: IfMatch = None
) -> JSONResponse:
    return tagged(await service.activate(ctx, session, principal, decision_id, if_match))


@router.post("/v1/decisions/{decision_id}/end", response_model=DecisionOut, summary="End the decision")
async def end(
    decision_id: uuid.UUID,
    body: EndIn,
    ctx: ContextDep,
    session: SessionDep,
    principal: Writer,
    if_match: IfMatch = None,
) -> JSONResponse:
    return tagged(await service.end(ctx, session, principal, decision_id, body, if_match))


@router.post(
    "/v1/decisions/{decision_id}/provider-choices",
    response_model=DecisionOut,
    summary="Record that the person was informed of provider choice, and what they chose",
)
async def choose_provider(
    decision_id: uuid.UUID, body: ProviderChoiceIn, ctx: ContextDep, session: SessionDep, principal: Writer
) -> JSONResponse:
    return tagged(await service.choose_provider(ctx, session, principal, decision_id, body))


@router.get("/v1/decisions/{decision_id}/provider-choices", summary="Provider choices of a decision")
async def provider_choices(
    decision_id: uuid.UUID, session: SessionDep, principal: Reader, log_read: LoggedReadDep
) -> list[ProviderChoiceOut]:
    return [
        ProviderChoiceOut.model_validate(c)
        for c in await service.choices(session, principal, decision_id, log_read)
    ]


@router.get("/v1/decisions/{decision_id}/versions", summary="Every version: what changed, when and by whom")
async def versions(
    decision_id: uuid.UUID, session: SessionDep, principal: Reader, log_read: LoggedReadDep
) -> list[VersionOut]:
    return [
        VersionOut(
            version=v.version,
            status=v.status,
            action=v.action,
            changes=v.changes,
            changed_by=v.changed_by,
            changed_at=v.changed_at,
        )
        for v in await service.versions(session, principal, decision_id, log_read)
    ]


@router.get("/v1/persons/{person_id}/decisions", summary="A person's decisions")
async def person_decisions(
    person_id: uuid.UUID, ctx: ContextDep, session: SessionDep, principal: Reader
) -> list[DecisionOut]:
    return list(await service.for_person(ctx, session, principal, person_id))


@router.get(
    "/v1/worklists/evaluations-due",
    summary="Running decisions whose evaluation date has come (the reassessment backlog)",
)
async def evaluations_due(
    ctx: ContextDep,
    session: SessionDep,
    principal: Reader,
    log_read: LoggedReadDep,
    within_days: Annotated[int, Query(ge=0, le=365, description="Also those due within this many days")] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
    cursor: str | None = None,
) -> Page[DecisionOut]:
    position = decode_cursor(cursor)
    after = None
    if position is not None:
        try:
            after = (date.fromisoformat(position["evaluation_date"]), uuid.UUID(position["id"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise Problem("The cursor is not one this API gave out.", slug="invalid-cursor") from exc
    found, items = await service.evaluations_due(
        ctx, session, principal, log_read, within_days=within_days, limit=limit, after=after
    )
    next_cursor = None
    if len(found) == limit:
        last = found[-1]
        next_cursor = encode_cursor({"evaluation_date": str(last.evaluation_date), "id": str(last.id)})
    return Page[DecisionOut](items=items, next_cursor=next_cursor)


@router.head("/v1/decisions/{decision_id}", include_in_schema=False)
async def head_decision(
    decision_id: uuid.UUID, ctx: ContextDep, session: SessionDep, principal: Reader
) -> Response:
    out = await service.get(ctx, session, principal, decision_id)
    return Response(headers={"ETag": f'"{out.version}"'})
