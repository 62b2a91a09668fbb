"""One access log per person: every service's reads and changes of the person's data in one
list, newest first, paged and filterable.

Each service keeps its own log in its own schema, written in the transaction of the read,
and answers for it at `GET /v1/access-log?person_id=` (auditors only). Assessment asks the
other three over HTTP with the auditor's own token and merges the answers; it never reads
another service's tables. Why not publish access events to one place: a read would then be
logged only when an event is relayed (a second write path that can lag or be lost between
commit and relay), and the log of a read would live apart from the read's transaction. A
service that does not answer is named in `unavailable`, never silently left out.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime
from typing import Any

import httpx
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession

from hjemflyt.shared.platform.access import AccessEvent, AccessEventPage, read_access_log
from hjemflyt.shared.platform.audit import LoggedRead
from hjemflyt.shared.platform.context import ServiceContext
from hjemflyt.shared.platform.errors import NotFound, Problem
from hjemflyt.shared.platform.pagination import decode_cursor, encode_cursor

SERVICES = ("assessment", "budget", "notifications", "pathway")
MAX_ID = 2**63 - 1
TIMEOUT_SECONDS = 5.0


class PersonAccessLog(BaseModel):
    person_id: uuid.UUID
    items: list[AccessEvent]
    next_cursor: str | None = Field(description="Pass as `cursor` for older entries; null at the end.")
    unavailable: list[str] = Field(
        default_factory=list, description="Services that did not answer: their entries are missing here."
    )


def _position(cursor: str | None) -> tuple[datetime, str, int] | None:
    values = decode_cursor(cursor)
    if values is None:
        return None
    try:
        return datetime.fromisoformat(values["at"]), str(values["service"]), int(values["id"])
    except (KeyError, TypeError, ValueError) as exc:
        raise Problem("The cursor is not one this API gave out.", slug="invalid-cursor", status=400) from exc


def _before(service: str, position: tuple[datetime, str, int] | None) -> tuple[datetime | None, int | None]:
    """Order: at desc, service asc, id desc. What comes after the cursor, per service."""
    if position is None:
        return None, None
    at, at_service, at_id = position
    if service < at_service:
        return at, 0  # strictly older
    if service > at_service:
        return at, MAX_ID  # the same instant too
    return at, at_id


async def _remote(
    client: httpx.AsyncClient, base_url: str, service: str, params: dict[str, Any], headers: dict[str, str]
) -> AccessEventPage | None:
    try:
        r = await client.get(f"{base_url.rstrip('/')}/v1/access-log", params=params, headers=headers)
    except httpx.HTTPError:
        return None
    if r.status_code != 200:
        return None
    try:
        page = AccessEventPage.model_validate(r.json())
    except ValueError:
        return None
    if any(item.service != service for item in page.items):
        return None
    return page


async def person_access_log(
    ctx: ServiceContext,
    session: AsyncSession,
    log_read: LoggedRead,
    *,
    person_id: uuid.UUID,
    authorization: str,
    service: str | None,
    action: str | None,
    since: datetime | None,
    until: datetime | None,
    limit: int,
    cursor: str | None,
) -> PersonAccessLog:
    position = _position(cursor)
    wanted = [service] if service else list(SERVICES)
    headers = {"Authorization": authorization, "Hjemflyt-Purpose": log_read.purpose}
    urls = {
        "budget": ctx.settings.budget_url,
        "notifications": ctx.settings.notifications_url,
        "pathway": ctx.settings.pathway_url,
    }
    pages: dict[str, AccessEventPage] = {}
    unavailable: list[str] = []

    async with httpx.AsyncClient(timeout=TIMEOUT_SECONDS) as client:
        calls = {}
        for name in wanted:
            before_at, before_id = _before(name, position)
            if name == ctx.name:
                continue
            params: dict[str, Any] = {"person_id": str(person_id), "limit": limit}
            for key, value in (("action", action), ("since", since), ("until", until)):
                if value is not None:
                    params[key] = value.isoformat() if isinstance(value, datetime) else value
            if before_at is not None:
                params["before_at"] = before_at.isoformat()
                params["before_id"] = before_id
            calls[name] = _remote(client, urls[name], name, params, headers)
        answers = await asyncio.gather(*calls.values())
    for name, answer in zip(calls, answers, strict=True):
        if answer is None:
            unavailable.append(name)
        else:
            pages[name] = answer
    if ctx.name in wanted:
        before_at, before_id = _before(ctx.name, position)
        pages[ctx.name] = await read_access_log(
            ctx,
            session,
            log_read,
            person_id=person_id,
            action=action,
            since=since,
            until=until,
            before_at=before_at,
            before_id=before_id,
            limit=limit,
        )

    merged = sorted(
        (item for page in pages.values() for item in page.items),
        key=lambda e: (-e.at.timestamp(), e.service, -e.id),
    )
    items = merged[:limit]
    more = len(merged) > limit or any(len(p.items) == limit for p in pages.values())
    if not items and position is None and not unavailable:
        raise NotFound("No access recorded for that person.")
    last = items[-1] if items and more else None
    return PersonAccessLog(
        person_id=person_id,
        items=items,
        next_cursor=(
            encode_cursor({"at": last.at.isoformat(), "service": last.service, "id": last.id})
            if last
            else None
        ),
        unavailable=sorted(unavailable),
    )


# FHIR R4 AuditEvent, following HL7 Norway's AuditEvent profile for the national trust
# framework (hl7norway.github.io/AuditEvent, ci-build 0.9.8): the patient as the
# auditevent-patient-extension, DICOM 110110 "Patient Record" as the type. The person is
# referred to by hjemflyt's pseudonymous id, never by identity number.
NO_AUDITEVENT_PROFILE = "http://hl7.no/fhir/StructureDefinition/no-domain-Trustframework-Auditevent"
NO_PATIENT_EXTENSION = "http://hl7.no/fhir/StructureDefinition/auditevent-patient-extension"
DICOM = "http://dicom.nema.org/resources/ontology/DCM"
FHIR_ACTIONS = {"create": "C", "read": "R", "update": "U", "delete": "D", "lookup": "E"}
HJEMFLYT_RESOURCE_SYSTEM = "urn:hjemflyt:access-log:resource"
HJEMFLYT_ACTOR_SYSTEM = "urn:hjemflyt:actor"
FHIR_JSON = "application/fhir+json"


def audit_event(entry: AccessEvent, person_id: uuid.UUID) -> dict[str, Any]:
    agent: dict[str, Any] = {
        "who": {"identifier": {"system": HJEMFLYT_ACTOR_SYSTEM, "value": entry.actor}},
        "requestor": True,
        "role": [{"text": entry.role}],
    }
    if entry.organisation:
        agent["who"]["display"] = f"{entry.actor} ({entry.organisation})"
    event: dict[str, Any] = {
        "resourceType": "AuditEvent",
        "id": f"{entry.service}-{entry.id}",
        "meta": {"profile": [NO_AUDITEVENT_PROFILE]},
        "extension": [{"url": NO_PATIENT_EXTENSION, "valueReference": {"reference": f"Patient/{person_id}"}}],
        "type": {"system": DICOM, "code": "110110", "display": "Patient Record"},
        "subtype": [{"system": HJEMFLYT_RESOURCE_SYSTEM, "code": entry.resource}],
        "action": FHIR_ACTIONS.get(entry.action, "E"),
        "recorded": entry.at.isoformat(),
        "outcome": "0",
        "purposeOfEvent": [{"text": entry.purpose}],
        "agent": [agent],
        "source": {"observer": {"display": f"hjemflyt-{entry.service}"}},
    }
    if entry.resource_id:
        event["entity"] = [{"what": {"identifier": {"value": entry.resource_id}}, "name": entry.resource}]
    return event


def as_fhir_bundle(log: PersonAccessLog, next_url: str | None = None) -> dict[str, Any]:
    """A searchset Bundle of AuditEvents; `next` is the same request with the page cursor."""
    bundle: dict[str, Any] = {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": len(log.items),
        "entry": [{"resource": audit_event(e, log.person_id)} for e in log.items],
    }
    if log.next_cursor and next_url:
        bundle["link"] = [{"relation": "next", "url": next_url}]
    return bundle
