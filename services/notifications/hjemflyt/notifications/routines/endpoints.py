"""The district routine registry: read (routines:read, providers included) and write
(routines:write: the contract owner / manager or an integration)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import JSONResponse

from hjemflyt.notifications.routines import service
from hjemflyt.notifications.routines.schemas import (
    AcknowledgementOut,
    CommentIn,
    CommentOut,
    CommentPeriodIn,
    EffectiveSet,
    RoutineIn,
    RoutineOut,
    RoutineSummary,
    VersionIn,
    VersionOut,
    VersionPatch,
)
from hjemflyt.shared.platform.auth import Principal, Scope
from hjemflyt.shared.platform.deps import ContextDep, SessionDep, requires

router = APIRouter(prefix="/v1/routines", tags=["routines"])
Reader = Annotated[Principal, Depends(requires(Scope.routines_read))]
Writer = Annotated[Principal, Depends(requires(Scope.routines_write))]
Number = Annotated[int, Path(ge=1, le=1_000_000)]
District = Annotated[str, Query(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")]


@router.get(
    "",
    summary="With ?district=: the routines in force there (templates merged with the district's "
    "overrides, latest published versions); without: the registry's routines",
    response_model=EffectiveSet | list[RoutineSummary],
)
async def list_routines(
    session: SessionDep, _: Reader, district: District | None = None
) -> EffectiveSet | list[RoutineSummary]:
    if district is not None:
        return await service.effective_set(session, district)
    return await service.summaries(session)


@router.post(
    "", status_code=201, summary="A new routine (template or district override) with its first draft"
)
async def create_routine(
    body: RoutineIn, ctx: ContextDep, session: SessionDep, principal: Writer
) -> JSONResponse:
    out = await service.create(ctx, session, principal, body)
    return JSONResponse(out.model_dump(mode="json"), status_code=201)


@router.get("/{routine_id}", summary="A routine with its versions and acknowledgements per provider")
async def get_routine(routine_id: uuid.UUID, session: SessionDep, principal: Reader) -> RoutineOut:
    return await service.read(session, principal, routine_id)


@router.get(
    "/{routine_id}/acknowledgements/{provider_org}",
    summary="One provider's acknowledgements of the routine (a provider: only its own)",
)
async def get_acknowledgements(
    routine_id: uuid.UUID,
    provider_org: Annotated[str, Path(max_length=20)],
    session: SessionDep,
    principal: Reader,
) -> list[AcknowledgementOut]:
    return await service.acknowledgements_of(session, principal, routine_id, provider_org)


@router.post(
    "/{routine_id}/versions",
    status_code=201,
    summary="A new draft (409 while another version is in draft or comment period)",
)
async def new_version(
    routine_id: uuid.UUID, body: VersionIn, ctx: ContextDep, session: SessionDep, principal: Writer
) -> VersionOut:
    return await service.new_draft(ctx, session, principal, routine_id, body.title, body.body)


@router.patch("/{routine_id}/versions/{number}", summary="Change a draft (409 once published)")
async def edit_version(
    routine_id: uuid.UUID, number: Number, body: VersionPatch, ctx: ContextDep, session: SessionDep, _: Writer
) -> VersionOut:
    return await service.edit(ctx, session, routine_id, number, body)


@router.post(
    "/{routine_id}/versions/{number}/comment-period",
    summary="Open a draft for comments until a date; the providers concerned get routine.comment_requested",
)
async def open_comment_period(
    routine_id: uuid.UUID,
    number: Number,
    body: CommentPeriodIn,
    ctx: ContextDep,
    session: SessionDep,
    _: Writer,
) -> VersionOut:
    return await service.open_comment_period(ctx, session, routine_id, number, body.until)


@router.post(
    "/{routine_id}/versions/{number}/comments",
    status_code=201,
    summary="A provider's comment during the comment period (409 after it)",
)
async def post_comment(
    routine_id: uuid.UUID,
    number: Number,
    body: CommentIn,
    ctx: ContextDep,
    session: SessionDep,
    principal: Reader,
) -> CommentOut:
    return await service.comment(ctx, session, principal, routine_id, number, body.text)


@router.get(
    "/{routine_id}/versions/{number}/comments",
    summary="Comments on a version: all for the case office, a provider's own for a provider",
)
async def list_comments(
    routine_id: uuid.UUID, number: Number, session: SessionDep, principal: Reader
) -> list[CommentOut]:
    return await service.comments(session, principal, routine_id, number)


@router.post(
    "/{routine_id}/versions/{number}/publish",
    summary="Publish (a draft, or after the comment period); pushed as routine.published with a deadline",
)
async def publish(
    routine_id: uuid.UUID, number: Number, ctx: ContextDep, session: SessionDep, principal: Writer
) -> VersionOut:
    return await service.publish(ctx, session, principal, routine_id, number)
