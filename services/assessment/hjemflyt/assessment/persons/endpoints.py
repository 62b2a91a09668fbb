"""Persons: register, find by identity number, read, list, and who has seen their data."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import JSONResponse

from hjemflyt.assessment.persons import service
from hjemflyt.assessment.persons.access import FHIR_JSON, PersonAccessLog, as_fhir_bundle, person_access_log
from hjemflyt.assessment.persons.schemas import Contact, PersonIn, PersonLookup, PersonOut
from hjemflyt.shared.platform.access import LogReader, readable_person
from hjemflyt.shared.platform.audit import Action
from hjemflyt.shared.platform.auth import Principal, Scope
from hjemflyt.shared.platform.deps import ContextDep, IdempotencyDep, LoggedReadDep, SessionDep, requires
from hjemflyt.shared.platform.pagination import MAX_LIMIT, Page, decode_position, encode_position

router = APIRouter(prefix="/v1/persons", tags=["persons"])

Reader = Annotated[Principal, Depends(requires(Scope.persons_read))]
Writer = Annotated[Principal, Depends(requires(Scope.persons_write))]
Purpose = Annotated[
    str,
    Header(
        alias="Hjemflyt-Purpose", max_length=200, description="Why the data is read; kept in the access log"
    ),
]


@router.post("", status_code=201, summary="Register a person", response_model=PersonOut)
async def register(
    body: PersonIn, ctx: ContextDep, session: SessionDep, principal: Writer, idem: IdempotencyDep
) -> JSONResponse:
    if (replay := await idem.replay()) is not None:
        if replay.status_code == 201:
            await service.record_replay(
                ctx, session, principal, uuid.UUID(json.loads(bytes(replay.body))["id"])
            )
        return replay
    person = await service.register(ctx, session, principal, body)
    return await idem.remember(201, person, headers={"Location": f"/v1/persons/{person.id}"})


@router.post("/lookup", summary="Find a person by identity number (access-logged)")
async def lookup(
    body: PersonLookup,
    ctx: ContextDep,
    session: SessionDep,
    principal: Reader,
    purpose: Purpose = "case handling",
) -> PersonOut:
    return await service.find(ctx, session, principal, body.identity_number, purpose)


@router.get("/{person_id}", summary="Read a person (access-logged)")
async def get_person(
    person_id: uuid.UUID,
    ctx: ContextDep,
    session: SessionDep,
    principal: Reader,
    purpose: Purpose = "case handling",
) -> PersonOut:
    return await service.get(ctx, session, principal, person_id, purpose)


@router.patch("/{person_id}", summary="Change contact details, next of kin or district")
async def update_person(
    person_id: uuid.UUID, body: Contact, ctx: ContextDep, session: SessionDep, principal: Writer
) -> PersonOut:
    return await service.update(ctx, session, principal, person_id, body)


@router.get("", summary="Persons in your districts (access-logged)")
async def list_persons(
    ctx: ContextDep,
    session: SessionDep,
    principal: Reader,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
    cursor: str | None = None,
    purpose: Purpose = "case handling",
) -> Page[PersonOut]:
    after = decode_position(cursor)
    items = await service.page(ctx, session, principal, limit=limit, after=after, purpose=purpose)
    next_cursor = None
    if len(items) == limit:
        last = items[-1]
        next_cursor = encode_position(last.created_at, last.id)
    return Page[PersonOut](items=items, next_cursor=next_cursor)


@router.get(
    "/{person_id}/access-log",
    summary="Who has read or changed this person's data, in every service (the read is logged)",
    description="Newest first. Gathered from each service's own log (`/v1/access-log`); a service "
    "that did not answer is listed in `unavailable`. An auditor reads anyone's; a citizen "
    "(national login, `person_id` claim) only their own. `format=fhir` (or `Accept: "
    "application/fhir+json`) answers a FHIR Bundle of AuditEvents (HL7 Norway's AuditEvent profile).",
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
    service: Annotated[Literal["assessment", "budget", "notifications", "pathway"] | None, Query()] = None,
    action: Annotated[Action | None, Query(description="Only this action")] = None,
    since: Annotated[datetime | None, Query(description="At or after this instant")] = None,
    until: Annotated[datetime | None, Query(description="Before this instant")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
    cursor: str | None = None,
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
    )
    if format == "fhir" or (format is None and accept is not None and FHIR_JSON in accept):
        next_url = None
        if log.next_cursor:
            next_url = str(request.url.include_query_params(cursor=log.next_cursor, format="fhir"))
        return JSONResponse(as_fhir_bundle(log, next_url), media_type=FHIR_JSON)
    return log
