"""Pathways over HTTP: templates, opening and closing by hand, date corrections, lists and
the deadline tasks. Case officers and service leads see their districts; managers and
integrations all. Reads and writes of a person's pathway write an access-log row."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, status
from fastapi.responses import JSONResponse

from hjemflyt.pathway.pathways import casework, rules, service
from hjemflyt.pathway.pathways.models import Pathway
from hjemflyt.pathway.pathways.rules import Kind, Status, TaskKind, Template
from hjemflyt.pathway.pathways.schemas import (
    ClosureIn,
    CorrectionIn,
    CorrectionOut,
    PathwayDetail,
    PathwayOpenIn,
    PathwayOut,
    PathwayPage,
    TaskOut,
    TemplateOut,
    TemplatesIn,
)
from hjemflyt.shared.platform.auth import Principal, Role, Scope
from hjemflyt.shared.platform.context import ServiceContext
from hjemflyt.shared.platform.deps import (
    ContextDep,
    IdempotencyDep,
    LoggedReadDep,
    PrincipalDep,
    SessionDep,
    requires,
)
from hjemflyt.shared.platform.errors import RuleViolation
from hjemflyt.shared.platform.pagination import MAX_LIMIT, decode_position, encode_position

router = APIRouter(tags=["pathways"])


async def _template_writer(principal: PrincipalDep) -> Principal:
    if principal.role != Role.manager:
        principal.require(Scope.config_write)
    return principal


Reader = Annotated[Principal, Depends(requires(Scope.pathways_read))]
Writer = Annotated[Principal, Depends(requires(Scope.pathways_write))]
TemplateWriter = Annotated[Principal, Depends(_template_writer)]


def _out(p: Pathway, ctx: ServiceContext) -> PathwayOut:
    out = PathwayOut.model_validate(p)
    out.overdue = p.status == Status.open and rules.is_overdue(p.planned_end, ctx.clock.today())
    return out


def _template_out(version: int, t: Template) -> TemplateOut:
    return TemplateOut(
        kind=t.kind,
        version=version,
        name=t.name,
        max_days=t.max_days,
        max_months=t.max_months,
        decision_rule=t.decision_rule,
        decision_after_days=t.decision_after_days,
        start_checklist=t.start_checklist,
        end_checklist=t.end_checklist,
    )


@router.get("/v1/pathway-templates", summary="The municipality's pathway templates in force, kinds 0-3")
async def get_templates(session: SessionDep, principal: Reader) -> list[TemplateOut]:
    found = await service.templates_in_force(session)
    return [_template_out(v, t) for _, (v, t) in sorted(found.items())]


@router.put(
    "/v1/pathway-templates",
    summary="Change templates: each one given becomes a new version for pathways opened from now",
)
async def put_templates(
    body: TemplatesIn, ctx: ContextDep, session: SessionDep, principal: TemplateWriter
) -> list[TemplateOut]:
    if len({t.kind for t in body.templates}) != len(body.templates):
        raise RuleViolation("Each kind at most once.", slug="pathway-template")
    for t in body.templates:
        await service.save_template(
            ctx,
            session,
            principal,
            Template(
                kind=t.kind,
                name=t.name,
                max_days=t.max_days,
                max_months=t.max_months,
                decision_rule=t.decision_rule,
                decision_after_days=t.decision_after_days,
                start_checklist=t.start_checklist,
                end_checklist=t.end_checklist,
            ),
        )
    found = await service.templates_in_force(session)
    return [_template_out(v, t) for _, (v, t) in sorted(found.items())]


@router.post(
    "/v1/pathways",
    status_code=status.HTTP_201_CREATED,
    response_model=PathwayOut,
    summary="Open a pathway by hand",
    description="409 `pathway-open` if the person has one of the kind open; 422 `pathway-date` for a "
    "date in the future or before the referral. Send an `Idempotency-Key` when you may retry.",
)
async def open_pathway(
    body: PathwayOpenIn,
    ctx: ContextDep,
    session: SessionDep,
    principal: Writer,
    idem: IdempotencyDep,
    log_read: LoggedReadDep,
) -> JSONResponse:
    if (replay := await idem.replay()) is not None:
        return replay
    pathway = await casework.open_by_hand(ctx, session, principal, body, log_read)
    return await idem.remember(201, _out(pathway, ctx), headers={"Location": f"/v1/pathways/{pathway.id}"})


@router.post(
    "/v1/pathways/{pathway_id}/closure",
    response_model=PathwayOut,
    summary="Close a pathway with its outcome, at the clock's time",
    description="409 `pathway-closed` if it is closed already (another date is a correction). "
    "Send an `Idempotency-Key` when you may retry.",
)
async def close_pathway(
    pathway_id: uuid.UUID,
    body: ClosureIn,
    ctx: ContextDep,
    session: SessionDep,
    principal: Writer,
    idem: IdempotencyDep,
    log_read: LoggedReadDep,
) -> JSONResponse:
    if (replay := await idem.replay()) is not None:
        return replay
    pathway = await casework.close_by_hand(ctx, session, principal, pathway_id, body.outcome, log_read)
    return await idem.remember(200, _out(pathway, ctx))


@router.post(
    "/v1/pathways/{pathway_id}/corrections",
    status_code=status.HTTP_201_CREATED,
    summary="Correct (back-date) a pathway's opening or closing date, with a reason; recorded",
)
async def correct(
    pathway_id: uuid.UUID,
    body: CorrectionIn,
    ctx: ContextDep,
    session: SessionDep,
    principal: Writer,
    log_read: LoggedReadDep,
) -> CorrectionOut:
    row = await casework.correct(ctx, session, principal, pathway_id, body, log_read)
    return CorrectionOut.model_validate(row)


@router.get("/v1/pathways", summary="Pathways in the districts you see")
async def list_pathways(
    ctx: ContextDep,
    session: SessionDep,
    principal: Reader,
    log_read: LoggedReadDep,
    district: str | None = None,
    status_: Annotated[Status | None, Query(alias="status")] = None,
    kind: Kind | None = None,
    person_id: uuid.UUID | None = None,
    overdue: Annotated[bool, Query(description="Only open pathways past their planned end")] = False,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
) -> PathwayPage:
    items, more = await casework.page(
        session,
        principal,
        log_read,
        district=district,
        status=status_.value if status_ else None,
        kind=int(kind) if kind is not None else None,
        person_id=person_id,
        overdue_on=ctx.clock.today() if overdue else None,
        after=decode_position(cursor),
        limit=limit,
    )
    return PathwayPage(
        items=[_out(p, ctx) for p in items],
        next_cursor=encode_position(items[-1].opened_at, items[-1].id) if more else None,
    )


@router.get("/v1/pathways/{pathway_id}", summary="One pathway with its date corrections")
async def get_pathway(
    pathway_id: uuid.UUID, ctx: ContextDep, session: SessionDep, principal: Reader, log_read: LoggedReadDep
) -> PathwayDetail:
    pathway, corrections = await casework.get_with_corrections(session, principal, pathway_id, log_read)
    return PathwayDetail(
        **_out(pathway, ctx).model_dump(),
        corrections=[CorrectionOut.model_validate(c) for c in corrections],
    )


@router.get("/v1/tasks", summary="Pathway deadline tasks in the districts you see")
async def tasks(
    session: SessionDep,
    principal: Reader,
    log_read: LoggedReadDep,
    district: str | None = None,
    kind: TaskKind | None = None,
    pathway_id: uuid.UUID | None = None,
    open_only: Annotated[bool, Query(alias="open")] = True,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 200,
) -> list[TaskOut]:
    found = await casework.tasks(
        session,
        principal,
        log_read,
        district=district,
        open_only=open_only,
        kind=kind.value if kind else None,
        pathway_id=pathway_id,
        limit=limit,
    )
    return [TaskOut.model_validate(t) for t in found]
