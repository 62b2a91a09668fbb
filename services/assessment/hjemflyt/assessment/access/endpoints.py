"""Who has seen a person's data, in every service, and the auditor's snooping review."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import JSONResponse

from hjemflyt.assessment.access.fhir import FHIR_JSON, as_fhir_bundle
from hjemflyt.assessment.access.schemas import AccessReview, PersonAccessLog
from hjemflyt.assessment.access.service import access_review, person_access_log
from hjemflyt.shared.platform.access import LogReader, readable_person
from hjemflyt.shared.platform.audit import Action
from hjemflyt.shared.platform.auth import Scope
from hjemflyt.shared.platform.deps import ContextDep, LoggedReadDep, SessionDep
from hjemflyt.shared.platform.negotiation import preferred
from hjemflyt.shared.platform.pagination import MAX_LIMIT

router = APIRouter(tags=["access log"])
ServiceName = Literal["assessment", "budget", "notifications", "pathway"]


@router.get(
    "/v1/persons/{person_id}/access-log",
    summary="Who has read or changed this person's data, in every service (the read is logged)",
    description="Newest first. Gathered from each service's own log (`/v1/access-log`); a service "
    "that did not answer is listed in `unavailable`. An auditor reads anyone's; a citizen "
    "(national login, `person_id` claim) only their own. `format=fhir` (or `Accept: "
    "application/fhir+json`) answers a FHIR Bundle of AuditEvents (HL7 Norway's AuditEvent "
    "profile). An auditor sees each read's snooping `flags`; `flagged=true` keeps only those "
    "(a page may then hold fewer than `limit`).",
    response_model=PersonAccessLog,
    responses={200: {"content": {FHIR_JSON: {}}}},
)
async def access_log(
    person_id: uuid.UUID,
    request: Request,
    ctx: ContextDep,
    session: SessionDep,
    principal: LogReader,
    log_read: LoggedReadDep,
    service: Annotated[ServiceName | None, Query()] = None,
    action: Annotated[Action | None, Query(description="Only this action")] = None,
    since: Annotated[datetime | None, Query(description="At or after this instant")] = None,
    until: Annotated[datetime | None, Query(description="Before this instant")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
    cursor: str | None = None,
    flagged: Annotated[bool, Query(description="Only reads up for review (auditors)")] = False,
    format: Literal["json", "fhir"] | None = None,
    accept: Annotated[str | None, Header()] = None,
) -> PersonAccessLog | JSONResponse:
    readable_person(principal, person_id)
    log = await person_access_log(
        ctx,
        session,
        log_read,
        person_id=person_id,
        authorization=request.headers.get("authorization", ""),
        service=service,
        action=action.value if action else None,
        since=since,
        until=until,
        limit=limit,
        cursor=cursor,
        flagged=flagged,
    )
    if format == "fhir" or (
        format is None and preferred(accept, ("application/json", FHIR_JSON)) == FHIR_JSON
    ):
        next_url = None
        if log.next_cursor:
            next_url = str(request.url.include_query_params(cursor=log.next_cursor, format="fhir"))
        return JSONResponse(as_fhir_bundle(log, next_url), media_type=FHIR_JSON)
    return log


@router.get(
    "/v1/access-log/review",
    summary="Reads of any person flagged for review (snooping), in every service (auditors)",
    description="Scans every service's log newest first, `limit` entries a page, and answers the "
    "flagged ones: a read outside the reader's districts and caseload, of a person with no open "
    "case, or by a provider that does not serve the person. Follow `next_cursor` to scan further; "
    "a page may hold none. The review is itself a read, logged per person shown.",
)
async def review(
    request: Request,
    ctx: ContextDep,
    session: SessionDep,
    principal: LogReader,
    log_read: LoggedReadDep,
    service: Annotated[ServiceName | None, Query()] = None,
    since: Annotated[datetime | None, Query(description="At or after this instant")] = None,
    until: Annotated[datetime | None, Query(description="Before this instant")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 200,
    cursor: str | None = None,
) -> AccessReview:
    principal.require(Scope.access_log_read)
    return await access_review(
        ctx,
        session,
        log_read,
        authorization=request.headers.get("authorization", ""),
        service=service,
        since=since,
        until=until,
        limit=limit,
        cursor=cursor,
    )
