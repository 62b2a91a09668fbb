"""Appeals (klage): registered against a made decision, re-assessed by the municipality, and
either closed in the person's favour or forwarded to the appeal body (Statsforvalteren),
whose outcome closes it.

Answers carry an `ETag` (the version); steps take `If-Match` when sent (412 if stale). A step
that does not fit the appeal's status answers 409 `invalid-transition`. An appeal is case
handling of a decision, so it takes the decisions scopes.
"""

from __future__ import annotations

import json
import uuid
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse

from hjemflyt.assessment.appeals import service
from hjemflyt.assessment.appeals.rules import Awaiting
from hjemflyt.assessment.appeals.schemas import AppealIn, AppealOut, FinalOutcomeIn, MunicipalityDecisionIn
from hjemflyt.shared.platform.auth import Principal, Scope
from hjemflyt.shared.platform.deps import ContextDep, IdempotencyDep, SessionDep, requires
from hjemflyt.shared.platform.errors import Problem
from hjemflyt.shared.platform.pagination import MAX_LIMIT, Page, decode_cursor, encode_cursor

router = APIRouter(tags=["appeals"])

Reader = Annotated[Principal, Depends(requires(Scope.decisions_read))]
Writer = Annotated[Principal, Depends(requires(Scope.decisions_write))]
IfMatch = Annotated[
    str | None, Header(alias="If-Match", max_length=200, description='The ETag you read, e.g. "2"')
]
Purpose = Annotated[
    str, Header(alias="Hjemflyt-Purpose", max_length=200, description="Kept in the access log")
]

STEP_ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"description": "No such appeal, or not in your districts"},
    409: {"description": "`invalid-transition`: the appeal is not waiting for this step"},
    412: {"description": "If-Match was sent and the appeal has changed since"},
    422: {"description": "A rule is broken (problem+json naming the rule)"},
}


def tagged(out: AppealOut, status: int = 200, **headers: str) -> JSONResponse:
    return JSONResponse(
        jsonable_encoder(out), status_code=status, headers={"ETag": f'"{out.version}"', **headers}
    )


@router.post(
    "/v1/appeals",
    status_code=201,
    response_model=AppealOut,
    responses={
        404: {"description": "No such decision, or not in your districts"},
        409: {"description": "`decision-not-made` (a draft) or `appeal-already-open`"},
        422: {"description": "`received-date-in-future` or `received-before-decision`"},
    },
    summary="Register an appeal against a decision",
    description="The deadline is the decision's appeal deadline (set when the letter was sent) or, "
    "if it was not sent, the decision date plus the municipality's appeal weeks. A late appeal "
    "is registered with `late: true`, never refused (forvaltningsloven § 31). Publishes "
    "`appeal.received`. Send an `Idempotency-Key` when you may retry.",
)
async def register(
    body: AppealIn, ctx: ContextDep, session: SessionDep, principal: Writer, idem: IdempotencyDep
) -> JSONResponse:
    if (replay := await idem.replay()) is not None:
        if replay.status_code == 201:
            content = json.loads(bytes(replay.body))
            await service.record_replay(
                ctx, session, principal, uuid.UUID(content["person_id"]), content["id"]
            )
        return replay
    out = await service.register(ctx, session, principal, body)
    return await idem.remember(
        201, out, headers={"Location": f"/v1/appeals/{out.id}", "ETag": f'"{out.version}"'}
    )


@router.get(
    "/v1/appeals/{appeal_id}",
    response_model=AppealOut,
    responses={404: STEP_ERRORS[404]},
    summary="Read an appeal (access-logged)",
)
async def get_appeal(
    appeal_id: uuid.UUID,
    ctx: ContextDep,
    session: SessionDep,
    principal: Reader,
    purpose: Purpose = service.PURPOSE,
) -> JSONResponse:
    return tagged(await service.get(ctx, session, principal, appeal_id, purpose))


@router.get(
    "/v1/decisions/{decision_id}/appeals",
    responses={404: {"description": "No such decision, or not in your districts"}},
    summary="The appeals against a decision, oldest first",
)
async def decision_appeals(
    decision_id: uuid.UUID, ctx: ContextDep, session: SessionDep, principal: Reader
) -> list[AppealOut]:
    return await service.for_decision(ctx, session, principal, decision_id)


@router.post(
    "/v1/appeals/{appeal_id}/reassess",
    response_model=AppealOut,
    responses=STEP_ERRORS,
    summary="The municipality starts re-assessing its decision",
)
async def reassess(
    appeal_id: uuid.UUID, ctx: ContextDep, session: SessionDep, principal: Writer, if_match: IfMatch = None
) -> JSONResponse:
    return tagged(await service.reassess(ctx, session, principal, appeal_id, if_match))


@router.post(
    "/v1/appeals/{appeal_id}/municipality-decision",
    response_model=AppealOut,
    responses=STEP_ERRORS,
    summary="The municipality's decision on the appeal",
    description="`changed` or `reversed`: the person is given (part of) what they asked and the appeal is "
    "closed; link the new decision with `new_decision_id`. `upheld`: the appeal is forwarded to the "
    "municipality's appeal body on `decided_date`. Publishes `appeal.decided` (stage municipality).",
)
async def municipality_decision(
    appeal_id: uuid.UUID,
    body: MunicipalityDecisionIn,
    ctx: ContextDep,
    session: SessionDep,
    principal: Writer,
    if_match: IfMatch = None,
) -> JSONResponse:
    return tagged(await service.municipality_decision(ctx, session, principal, appeal_id, body, if_match))


@router.post(
    "/v1/appeals/{appeal_id}/final-outcome",
    response_model=AppealOut,
    responses=STEP_ERRORS,
    summary="Record the appeal body's outcome (closes the appeal)",
    description="`returned` means sent back to the municipality for a new assessment. `decided_date` "
    "is not before the forwarded date. Publishes `appeal.decided` (stage county_governor).",
)
async def final_outcome(
    appeal_id: uuid.UUID,
    body: FinalOutcomeIn,
    ctx: ContextDep,
    session: SessionDep,
    principal: Writer,
    if_match: IfMatch = None,
) -> JSONResponse:
    return tagged(await service.final_outcome(ctx, session, principal, appeal_id, body, if_match))


@router.get(
    "/v1/worklists/appeals-awaiting",
    summary="Open appeals, oldest first, with what each waits for",
    description="`awaiting` is `reassess` (start the re-assessment), `decide` (the municipality's "
    "decision) or `appeal_body` (Statsforvalteren's answer). Only your districts.",
)
async def appeals_awaiting(
    ctx: ContextDep,
    session: SessionDep,
    principal: Reader,
    awaiting: Annotated[Awaiting | None, Query(description="Only appeals waiting for this")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
    cursor: str | None = None,
) -> Page[AppealOut]:
    position = decode_cursor(cursor)
    after = None
    if position is not None:
        try:
            after = (date.fromisoformat(position["received_date"]), uuid.UUID(position["id"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise Problem("The cursor is not one this API gave out.", slug="invalid-cursor") from exc
    items = await service.awaiting(ctx, session, principal, only=awaiting, limit=limit, after=after)
    next_cursor = None
    if len(items) == limit:
        last = items[-1]
        next_cursor = encode_cursor({"received_date": last.received_date.isoformat(), "id": str(last.id)})
    return Page[AppealOut](items=items, next_cursor=next_cursor)
