"""Use cases for documents on a person: keep one from an incoming PLO message (the inbox
handler), list a person's documents, read one. Every read writes an access-log row in the
same transaction; nothing here commits or logs content."""

from __future__ import annotations

import asyncio
import base64
import uuid
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from hjemflyt.assessment.documents import parsing
from hjemflyt.assessment.documents.models import PersonDocument
from hjemflyt.assessment.documents.repository import DocumentRepository
from hjemflyt.assessment.documents.rules import Section, Status, as_text, next_version
from hjemflyt.assessment.documents.schemas import DocumentOut, DocumentSummary, SectionOut, Sender, VersionOut
from hjemflyt.assessment.messaging.inbound import Arrival, Effect
from hjemflyt.assessment.persons.repository import PersonRepository
from hjemflyt.shared.platform.audit import Action
from hjemflyt.shared.platform.auth import Principal
from hjemflyt.shared.platform.context import ServiceContext
from hjemflyt.shared.platform.errors import NotFound, RuleViolation

PURPOSE = "case handling"
EFFECT = "document"


# --- the inbox -------------------------------------------------------------------------


def _effect_id(effect: str | None) -> uuid.UUID | None:
    kind, _, value = (effect or "").partition(":")
    try:
        return uuid.UUID(value) if kind == EFFECT else None
    except ValueError:
        return None


async def receive(ctx: ServiceContext, session: AsyncSession, arrival: Arrival) -> Effect:
    """The handler for the document message types (messaging/inbound.py `HANDLERS`).

    N keeps a new document; E keeps a new version of what the earlier message created and
    marks the version before `replaced`; K marks the current version `cancelled`. A patient
    not registered here is refused as `plo-person-unknown` (E35; the inbox raises a task)."""
    parsed = await asyncio.to_thread(parsing.parse, arrival.root)
    repo = DocumentRepository(session)
    person = await repo.person_by_identity_index(ctx.cipher.index(parsed.patient_identity))
    if person is None:
        raise RuleViolation(
            f"The patient of this {parsed.kind.title} is not registered here.", slug="plo-person-unknown"
        )
    earlier_id = _effect_id(arrival.earlier.effect) if arrival.earlier is not None else None
    earlier = await repo.find(earlier_id) if earlier_id is not None else None
    if earlier is not None and earlier.person_id != person.id:
        raise RuleViolation(
            "The change or cancellation names another patient than the message it refers to.",
            slug="plo-patient-mismatch",
        )
    current = None
    if earlier is not None:
        # Every change of a chain locks its first version first: two changes that refer to
        # different messages of one chain still apply one after the other.
        await repo.lock_chain(earlier.chain_id)
        current = await repo.current_in_chain(earlier.chain_id)
    now = ctx.clock.now()

    if arrival.shipment == "K":
        if current is None:  # nothing kept, or cancelled already: nothing more to do
            return Effect(person.id, f"{EFFECT}:{earlier.id}" if earlier is not None else None)
        current.status = Status.cancelled.value
        current.cancelled_at = now
        current.cancelled_by_msg_id = parsed.msg_id
        await session.flush()
        return Effect(person.id, f"{EFFECT}:{current.id}")

    if earlier is not None and current is None:
        raise RuleViolation(
            "The document this change refers to was cancelled; send it as a new message.",
            slug="plo-document-cancelled",
        )
    document_id = uuid.uuid4()
    chain_id, version, replaces = document_id, 1, None
    if current is not None:
        current.status = Status.replaced.value
        await session.flush()
        chain_id, version, replaces = (
            current.chain_id,
            next_version([await repo.last_version(current.chain_id)]),
            current.id,
        )
    document = PersonDocument(
        id=document_id,
        person_id=person.id,
        kind=parsed.kind.msg_type,
        title=parsed.kind.title,
        sender_name=parsed.sender_name,
        sender_her_id=parsed.sender_her_id,
        msg_id=parsed.msg_id,
        message_id=arrival.message.id,
        shipment=arrival.shipment,
        issued_at=parsed.issued_at,
        received_at=arrival.message.created_at,
        sections=[{"heading": s.heading, "lines": list(s.lines)} for s in parsed.sections],
        xml_cipher=ctx.cipher.encrypt(base64.b64encode(arrival.body).decode("ascii")),
        status=Status.current.value,
        chain_id=chain_id,
        version=version,
        replaces_id=replaces,
    )
    await repo.add(document)
    return Effect(person.id, f"{EFFECT}:{document.id}")


# --- reading ---------------------------------------------------------------------------


def summary(document: PersonDocument) -> DocumentSummary:
    return DocumentSummary(
        id=document.id,
        person_id=document.person_id,
        kind=document.kind,
        title=document.title,
        sender=Sender(name=document.sender_name, her_id=document.sender_her_id),
        msg_id=document.msg_id,
        issued_at=document.issued_at,
        received_at=document.received_at,
        status=Status(document.status),
        version=document.version,
        chain_id=document.chain_id,
        replaces_id=document.replaces_id,
        cancelled_at=document.cancelled_at,
    )


def _sections(document: PersonDocument) -> list[Section]:
    return [
        Section(str(s.get("heading", "")), tuple(str(x) for x in s.get("lines", [])))
        for s in document.sections
    ]


async def _log(
    ctx: ServiceContext,
    session: AsyncSession,
    principal: Principal,
    resource: str,
    person_id: uuid.UUID,
    resource_id: uuid.UUID,
    purpose: str,
) -> None:
    await ctx.access_log.record(
        session,
        principal,
        action=Action.read,
        resource=resource,
        person_ids=[person_id],
        purpose=purpose,
        resource_id=str(resource_id),
    )


async def list_for_person(
    ctx: ServiceContext,
    session: AsyncSession,
    principal: Principal,
    person_id: uuid.UUID,
    *,
    all_versions: bool,
    limit: int,
    purpose: str,
) -> list[DocumentSummary]:
    if await PersonRepository(session).get(principal, person_id) is None:
        raise NotFound("No such person in your districts.")
    rows: Sequence[PersonDocument] = await DocumentRepository(session).for_person(
        principal, person_id, include_old=all_versions, limit=limit
    )
    await _log(ctx, session, principal, "person-document-list", person_id, person_id, purpose)
    return [summary(r) for r in rows]


async def _readable(session: AsyncSession, principal: Principal, document_id: uuid.UUID) -> PersonDocument:
    document = await DocumentRepository(session).get(principal, document_id)
    if document is None:
        raise NotFound("No such document in your districts.")
    return document


async def get(
    ctx: ServiceContext, session: AsyncSession, principal: Principal, document_id: uuid.UUID, purpose: str
) -> DocumentOut:
    document = await _readable(session, principal, document_id)
    chain = await DocumentRepository(session).chain(document.chain_id)
    await _log(ctx, session, principal, "person-document", document.person_id, document.id, purpose)
    sections = _sections(document)
    return DocumentOut(
        **summary(document).model_dump(),
        sections=[SectionOut(heading=s.heading, lines=list(s.lines)) for s in sections],
        text=as_text(document.title, sections),
        versions=[
            VersionOut(
                id=v.id,
                version=v.version,
                status=Status(v.status),
                msg_id=v.msg_id,
                received_at=v.received_at,
            )
            for v in chain
        ],
    )


async def original(
    ctx: ServiceContext, session: AsyncSession, principal: Principal, document_id: uuid.UUID, purpose: str
) -> bytes:
    """The message as received (decrypted)."""
    document = await _readable(session, principal, document_id)
    await _log(ctx, session, principal, "person-document-original", document.person_id, document.id, purpose)
    return base64.b64decode(ctx.cipher.decrypt(document.xml_cipher))
