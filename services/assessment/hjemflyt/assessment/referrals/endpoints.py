"""Referrals (henvendelser), PLO intake, applications (søknader) and the worklist of
applications past their deadline (forvaltningsloven § 11 a).

Referrals and applications are case handling toward a decision, so they take the decisions
scopes; a PLO message may register its patient, so it also takes `persons:write`."""

from __future__ import annotations

import json
import uuid
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession

from hjemflyt.assessment.referrals import service
from hjemflyt.assessment.referrals.rules import Source
from hjemflyt.assessment.referrals.schemas import (
    ApplicationIn,
    ApplicationOut,
    OverdueApplication,
    PloReferralOut,
    PreliminaryReplyIn,
    ReferralIn,
    ReferralOut,
)
from hjemflyt.shared.platform.app import MAX_BODY_BYTES
from hjemflyt.shared.platform.auth import Principal, Scope
from hjemflyt.shared.platform.context import ServiceContext
from hjemflyt.shared.platform.deps import ContextDep, IdempotencyDep, SessionDep, requires
from hjemflyt.shared.platform.errors import PayloadTooLarge, Problem
from hjemflyt.shared.platform.idempotency import Idempotency
from hjemflyt.shared.platform.pagination import MAX_LIMIT, Page, decode_cursor, encode_cursor

router = APIRouter(tags=["referrals and applications"])

Reader = Annotated[Principal, Depends(requires(Scope.decisions_read))]
Writer = Annotated[Principal, Depends(requires(Scope.decisions_write))]
PloWriter = Annotated[Principal, Depends(requires(Scope.decisions_write, Scope.persons_write))]
Purpose = Annotated[
    str,
    Header(
        alias="Hjemflyt-Purpose", max_length=200, description="Why the data is read; kept in the access log"
    ),
]
DistrictCode = Annotated[str | None, Query(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")]

XML_MEDIA_TYPES = ("application/xml", "text/xml")
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"description": "No such person, referral or application that you may see"},
}
RULES: dict[int | str, dict[str, Any]] = {
    **NOT_FOUND,
    409: {"description": "The case is in a state that does not allow this (problem+json naming the rule)"},
    422: {"description": "A rule is broken (problem+json naming the rule; `violations` lists them all)"},
}


def _person_of(replay: JSONResponse) -> tuple[uuid.UUID, uuid.UUID]:
    body = json.loads(bytes(replay.body))
    return uuid.UUID(body["id"]), uuid.UUID(body["person_id"])


async def _replayed(
    idem: Idempotency, ctx: ServiceContext, session: AsyncSession, principal: Principal, resource: str
) -> JSONResponse | None:
    replay = await idem.replay()
    if replay is not None and replay.status_code < 300:
        resource_id, person_id = _person_of(replay)
        await service.record_replay(ctx, session, principal, resource, resource_id, person_id)
    return replay


# --- referrals -------------------------------------------------------------------------


@router.post(
    "/v1/referrals",
    status_code=201,
    response_model=ReferralOut,
    responses=RULES,
    summary="Register a referral from the person, next of kin, GP, hospital or emergency GP",
    description="Publishes `referral.received`. Send an `Idempotency-Key` when you may retry.",
)
async def create_referral(
    body: ReferralIn, ctx: ContextDep, session: SessionDep, principal: Writer, idem: IdempotencyDep
) -> JSONResponse:
    if (replay := await _replayed(idem, ctx, session, principal, service.REFERRAL)) is not None:
        return replay
    referral = await service.create_referral(ctx, session, principal, body)
    return await idem.remember(201, referral, headers={"Location": f"/v1/referrals/{referral.id}"})


@router.post(
    "/v1/referrals/plo",
    status_code=201,
    response_model=PloReferralOut,
    responses={
        200: {
            "description": "This message (MsgId) was received before: the referral it made",
            "model": PloReferralOut,
        },
        413: {"description": "The message is larger than 1 MiB"},
        415: {"description": "Send the message as application/xml"},
        **RULES,
    },
    summary="Receive a PLO message Helseopplysninger ved søknad (HELSEOPPL_SOKNAD) as a referral",
    description="The body is the MsgHead 1.2 message with a HelseopplysningerVedSoknad 1.6 payload, "
    "validated against the national schemas. The patient is found by identity number; an unknown "
    "patient is registered in `district` (or the message is refused with `plo-person-unknown`). "
    "The same MsgId again answers 200 with the referral it made and stores nothing. "
    "Publishes `referral.received`.",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/xml": {"schema": {"type": "string", "format": "xml"}}},
        }
    },
)
async def receive_plo(
    request: Request,
    ctx: ContextDep,
    session: SessionDep,
    principal: PloWriter,
    district: DistrictCode = None,
    source: Annotated[
        Literal["hospital", "gp", "emergency_gp"],
        Query(description="Who sent it: hospital (the usual sender), gp or emergency_gp"),
    ] = "hospital",
) -> JSONResponse:
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type not in XML_MEDIA_TYPES:
        raise Problem(
            "Send the PLO message with Content-Type application/xml.",
            status=415,
            slug="unsupported-media-type",
            title="Unsupported media type",
        )
    body = await _read_limited(request)
    referral, created = await service.receive_plo(
        ctx, session, principal, body, district=district, source=Source(source)
    )
    return JSONResponse(
        jsonable_encoder(referral),
        status_code=201 if created else 200,
        headers={"Location": f"/v1/referrals/{referral.id}"},
    )


async def _read_limited(request: Request) -> bytes:
    """The body, refused past the platform limit even when no Content-Length announced it."""
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            raise PayloadTooLarge(f"The body is larger than {MAX_BODY_BYTES} bytes.")
    return bytes(body)


@router.get("/v1/referrals/{referral_id}", summary="Read a referral (access-logged)", responses=NOT_FOUND)
async def get_referral(
    referral_id: uuid.UUID,
    ctx: ContextDep,
    session: SessionDep,
    principal: Reader,
    purpose: Purpose = service.PURPOSE,
) -> ReferralOut:
    return await service.get_referral(ctx, session, principal, referral_id, purpose)


@router.get(
    "/v1/persons/{person_id}/referrals", summary="A person's referrals (access-logged)", responses=NOT_FOUND
)
async def person_referrals(
    person_id: uuid.UUID,
    ctx: ContextDep,
    session: SessionDep,
    principal: Reader,
    purpose: Purpose = service.PURPOSE,
) -> list[ReferralOut]:
    return await service.referrals_for_person(ctx, session, principal, person_id, purpose)


# --- applications ----------------------------------------------------------------------


@router.post(
    "/v1/applications",
    status_code=201,
    response_model=ApplicationOut,
    responses=RULES,
    summary="Register an application: the case-handling clock starts",
    description="`deadline_date` is `received_date` plus the municipality's `case_deadline_months` "
    "(default one month; 31 January + 1 month = the last day of February). Undecided after it, the "
    "application needs a preliminary reply. From a referral, the referral's status becomes "
    "`application`. Publishes `application.registered`. Send an `Idempotency-Key` when you may retry.",
)
async def register_application(
    body: ApplicationIn, ctx: ContextDep, session: SessionDep, principal: Writer, idem: IdempotencyDep
) -> JSONResponse:
    if (replay := await _replayed(idem, ctx, session, principal, service.APPLICATION)) is not None:
        return replay
    application = await service.register_application(ctx, session, principal, body)
    return await idem.remember(201, application, headers={"Location": f"/v1/applications/{application.id}"})


@router.get(
    "/v1/applications/{application_id}", summary="Read an application (access-logged)", responses=NOT_FOUND
)
async def get_application(
    application_id: uuid.UUID,
    ctx: ContextDep,
    session: SessionDep,
    principal: Reader,
    purpose: Purpose = service.PURPOSE,
) -> ApplicationOut:
    return await service.get_application(ctx, session, principal, application_id, purpose)


@router.post(
    "/v1/applications/{application_id}/preliminary-reply",
    response_model=ApplicationOut,
    responses=RULES,
    summary="Record the preliminary reply sent to the applicant (forvaltningsloven § 11 a)",
    description="The reason and the expected decision date (after today). A later reply replaces it. "
    "409 `application-closed` once the application is decided or withdrawn.",
)
async def preliminary_reply(
    application_id: uuid.UUID,
    body: PreliminaryReplyIn,
    ctx: ContextDep,
    session: SessionDep,
    principal: Writer,
    idem: IdempotencyDep,
) -> JSONResponse:
    if (replay := await _replayed(idem, ctx, session, principal, service.APPLICATION)) is not None:
        return replay
    application = await service.send_preliminary_reply(ctx, session, principal, application_id, body)
    return await idem.remember(200, application)


@router.post(
    "/v1/applications/{application_id}/withdraw",
    response_model=ApplicationOut,
    responses=RULES,
    summary="The applicant withdrew the application",
    description="409 `application-closed` once the application is decided or withdrawn.",
)
async def withdraw(
    application_id: uuid.UUID, ctx: ContextDep, session: SessionDep, principal: Writer, idem: IdempotencyDep
) -> JSONResponse:
    if (replay := await _replayed(idem, ctx, session, principal, service.APPLICATION)) is not None:
        return replay
    application = await service.withdraw(ctx, session, principal, application_id)
    return await idem.remember(200, application)


@router.get(
    "/v1/persons/{person_id}/applications",
    summary="A person's applications (access-logged)",
    responses=NOT_FOUND,
)
async def person_applications(
    person_id: uuid.UUID,
    ctx: ContextDep,
    session: SessionDep,
    principal: Reader,
    purpose: Purpose = service.PURPOSE,
) -> list[ApplicationOut]:
    return await service.applications_for_person(ctx, session, principal, person_id, purpose)


# --- worklist --------------------------------------------------------------------------


def _decode_position(cursor: str | None) -> tuple[date, uuid.UUID] | None:
    values = decode_cursor(cursor)
    if values is None:
        return None
    try:
        return date.fromisoformat(values["deadline_date"]), uuid.UUID(values["id"])
    except (KeyError, TypeError, ValueError) as exc:
        raise Problem("The cursor is not one this API gave out.", slug="invalid-cursor", status=400) from exc


@router.get(
    "/v1/worklists/applications-overdue",
    summary="Open applications past their deadline that need a preliminary reply (access-logged)",
    description="Received or being assessed, undecided after `deadline_date`, oldest deadline first, "
    "in your districts. `task` is `preliminary_reply_due` (no reply yet) or "
    "`new_preliminary_reply_due` (the promised date has passed too); with `include_replied=true` also "
    "those whose reply still holds (`replied`).",
)
async def applications_overdue(
    ctx: ContextDep,
    session: SessionDep,
    principal: Reader,
    include_replied: bool = False,
    district: DistrictCode = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
    cursor: str | None = None,
    purpose: Purpose = "worklist",
) -> Page[OverdueApplication]:
    after = _decode_position(cursor)
    items = await service.overdue(
        ctx,
        session,
        principal,
        include_replied=include_replied,
        district=district,
        limit=limit,
        after=after,
        purpose=purpose,
    )
    next_cursor = None
    if len(items) == limit:
        last = items[-1]
        next_cursor = encode_cursor({"deadline_date": last.deadline_date.isoformat(), "id": str(last.id)})
    return Page[OverdueApplication](items=items, next_cursor=next_cursor)
