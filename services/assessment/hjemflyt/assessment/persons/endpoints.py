"""Persons: register, find by identity number, read, list (who has seen their data: `access/`)."""

from __future__ import annotations

import json
import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query
from fastapi.responses import JSONResponse

from hjemflyt.assessment.persons import service
from hjemflyt.assessment.persons.schemas import Contact, PersonIn, PersonLookup, PersonOut
from hjemflyt.shared.platform.auth import Principal, Scope
from hjemflyt.shared.platform.deps import ContextDep, IdempotencyDep, SessionDep, requires
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
