"""Assessments (kartlegging): the home visit, IPLOS function scores, the home situation and
the person's answer to "what matters to you?" with goals and follow-up dates.

An assessment is case handling toward a decision, so it takes the decisions scopes."""

from __future__ import annotations

import json
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse

from hjemflyt.assessment.assessments import service
from hjemflyt.assessment.assessments.rules import etag
from hjemflyt.assessment.assessments.schemas import (
    AssessmentIn,
    AssessmentOut,
    AssessmentPatch,
    CodeListOut,
    FunctionVariableOut,
    ScoreOut,
)
from hjemflyt.shared.contracts.iplos import CURRENT_VERSION, VERSIONS, Score
from hjemflyt.shared.platform.auth import Principal, Scope
from hjemflyt.shared.platform.deps import ContextDep, IdempotencyDep, PrincipalDep, SessionDep, requires
from hjemflyt.shared.platform.errors import NotFound

router = APIRouter(tags=["assessments"])

Reader = Annotated[Principal, Depends(requires(Scope.decisions_read))]
Writer = Annotated[Principal, Depends(requires(Scope.decisions_write))]
Purpose = Annotated[
    str,
    Header(
        alias="Hjemflyt-Purpose", max_length=200, description="Why the data is read; kept in the access log"
    ),
]
IfMatch = Annotated[
    str | None,
    Header(alias="If-Match", max_length=200, description='The ETag you read, e.g. "3"'),
]

INCOMPLETE: dict[int | str, dict[str, Any]] = {
    422: {
        "description": "A rule is broken (problem+json naming the rule); on completion "
        "`assessment-incomplete` with a `missing` list of everything missing at once"
    },
}


def answer(status: int, assessment: AssessmentOut, **headers: str) -> JSONResponse:
    return JSONResponse(
        jsonable_encoder(assessment),
        status_code=status,
        headers={"ETag": etag(assessment.version), **headers},
    )


@router.post(
    "/v1/assessments",
    status_code=201,
    response_model=AssessmentOut,
    responses=INCOMPLETE,
    summary="Register an assessment (a draft)",
    description="For a person you may see, optionally for one of their applications (a received "
    "application is then being assessed). Send an `Idempotency-Key` when you may retry.",
)
async def create(
    body: AssessmentIn, ctx: ContextDep, session: SessionDep, principal: Writer, idem: IdempotencyDep
) -> JSONResponse:
    if (replay := await idem.replay()) is not None:
        if replay.status_code == 201:
            content = json.loads(bytes(replay.body))
            await service.record_replay(
                ctx, session, principal, uuid.UUID(content["person_id"]), content["id"]
            )
        return replay
    assessment = await service.create(ctx, session, principal, body)
    return await idem.remember(
        201,
        assessment,
        headers={"Location": f"/v1/assessments/{assessment.id}", "ETag": etag(assessment.version)},
    )


@router.get(
    "/v1/assessments/{assessment_id}",
    response_model=AssessmentOut,
    summary="Read an assessment (access-logged)",
)
async def get(
    assessment_id: uuid.UUID,
    ctx: ContextDep,
    session: SessionDep,
    principal: Reader,
    purpose: Purpose = "case handling",
) -> JSONResponse:
    return answer(200, await service.get(ctx, session, principal, assessment_id, purpose))


@router.patch(
    "/v1/assessments/{assessment_id}",
    response_model=AssessmentOut,
    responses={
        **INCOMPLETE,
        409: {"description": "The assessment is completed"},
        412: {"description": "The assessment changed since you read it (stale If-Match)"},
        428: {"description": "If-Match is missing"},
    },
    summary="Change a draft (If-Match required)",
    description="A JSON merge patch: a field sent replaces the stored one and null clears it; "
    "`participants` and `goals` are replaced whole, `scores` merged per variable (null removes one).",
)
async def change(
    assessment_id: uuid.UUID,
    body: AssessmentPatch,
    ctx: ContextDep,
    session: SessionDep,
    principal: Writer,
    if_match: IfMatch = None,
) -> JSONResponse:
    return answer(200, await service.change(ctx, session, principal, assessment_id, body, if_match))


@router.post(
    "/v1/assessments/{assessment_id}/complete",
    response_model=AssessmentOut,
    responses={
        **INCOMPLETE,
        409: {"description": "The assessment is already completed"},
        412: {"description": "If-Match was sent and the assessment changed since"},
    },
    summary="Complete an assessment",
    description="Checks that the visit date, a participant, the answer to what matters, a score "
    "for every variable of the code list version and a goal with a follow-up date are there, "
    "then fixes the assessment and publishes `assessment.completed`. If-Match is optional here.",
)
async def complete(
    assessment_id: uuid.UUID,
    ctx: ContextDep,
    session: SessionDep,
    principal: Writer,
    idem: IdempotencyDep,
    if_match: IfMatch = None,
) -> JSONResponse:
    if (replay := await idem.replay()) is not None:
        if replay.status_code == 200:
            content = json.loads(bytes(replay.body))
            await service.record_replay(
                ctx, session, principal, uuid.UUID(content["person_id"]), content["id"]
            )
        return replay
    assessment = await service.complete(ctx, session, principal, assessment_id, if_match)
    return await idem.remember(200, assessment, headers={"ETag": etag(assessment.version)})


@router.get(
    "/v1/persons/{person_id}/assessments",
    summary="A person's assessments, newest first (access-logged)",
)
async def for_person(
    person_id: uuid.UUID,
    ctx: ContextDep,
    session: SessionDep,
    principal: Reader,
    purpose: Purpose = "case handling",
) -> list[AssessmentOut]:
    return await service.for_person(ctx, session, principal, person_id, purpose)


@router.get(
    "/v1/iplos/function-variables",
    summary="The IPLOS function variables and scores of a version",
    description="`register_code` is the register's fnFunkType as this deployment is configured "
    "(HJEMFLYT_IPLOS_FUNCTION_CODES); null where none is configured.",
)
async def code_list(
    _: PrincipalDep, ctx: ContextDep, version: Annotated[str, Query(max_length=16)] = CURRENT_VERSION
) -> CodeListOut:
    configured = ctx.settings.iplos_register_codes()
    code_list = VERSIONS.get(version)
    if code_list is None:
        raise NotFound(f"No IPLOS code list version {version!r}; known: {', '.join(sorted(VERSIONS))}.")
    return CodeListOut(
        version=code_list.version,
        current=code_list.version == CURRENT_VERSION,
        scores=[ScoreOut(score=int(s), name_nb=s.name_nb) for s in Score],
        variables=[
            FunctionVariableOut(
                key=v.key,
                name_nb=v.name_nb,
                name_en=v.name_en,
                group=v.group.value,
                group_name_nb=v.group.name_nb,
                register_code=configured.get(v.key) if configured is not None else v.register_code,
            )
            for v in code_list.variables
        ],
    )
