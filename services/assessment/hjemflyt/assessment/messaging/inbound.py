"""Messages that arrive through the transport.

- An AppRec is matched to the message hjemflyt sent (by `OriginalMsgId/Id`): `ok`, or
  `rejected` with the receiver's reason (and a task for the case office).
- Any other message is answered with an AppRec: each type has a handler in `HANDLERS`
  (*Helseopplysninger ved søknad* becomes a referral exactly as through
  `POST /v1/referrals/plo`; the hospital's logistics messages LOG_* become stays and deaths,
  see `logistics.py`); anything refused gets a negative receipt with the standard's
  code (kodeverk 8221), a type nobody handles gets T10.
- A handler returns an `Effect`: the person the message was about and what it created
  (`"admission:<uuid>"`, `"document:<uuid>"` ...), kept on the incoming row. A change
  (Forsendelsesstatus E) or cancellation (K) names its original in MsgHead
  `ConversationRef/RefToParent`; the original must have been received here (else E10 and a
  task), and the handler gets it as `Arrival.earlier` to act on what it created.
- A message that names no sender HER-id cannot be answered: a task says so. One that cannot
  be parsed (hostile constructs, broken after its head) is read for its head alone, with
  the DTD and entity references cut out, so that it still gets its negative receipt (T01).

The same message (MsgId) twice has no second effect: the incoming row is unique per MsgId.
A handler runs in a savepoint: a refusal leaves nothing half-stored. Parsed with defusedxml
(no DTD, no entities, nothing external); nothing here logs content.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from xml.etree.ElementTree import Element

import defusedxml.ElementTree as safe_et
import xmlschema
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from hjemflyt.assessment.documents.rules import DOCUMENT_TYPES
from hjemflyt.assessment.messaging import builders
from hjemflyt.assessment.messaging.models import PloMessage
from hjemflyt.assessment.messaging.repository import MessageRepository
from hjemflyt.assessment.messaging.rules import Direction, State, TaskKind
from hjemflyt.shared.platform.auth import Principal, Role
from hjemflyt.shared.platform.context import ServiceContext
from hjemflyt.shared.platform.errors import RuleViolation

NS = {"mh": builders.MSGHEAD, "ar": builders.APPREC}
RECEIVER = "system:plo-inbox"

# Kodeverk 8221 (AppRec error codes) as hjemflyt uses them.
T_NOT_XML = ("T01", "Ikke XML / ikke 'well formed' / uleselig")
T_INVALID = ("T02", "XML validerer ikke")
T_UNSUPPORTED = ("T10", "Støtter ikke meldingsformatet")
E_MSG_ID = ("E10", "Ugyldig meldingsidentifikator")
E_PATIENT = ("E35", "Pasienten finnes ikke i mottakersystemet")
E_OTHER = ("X99", "Annen feil")
SLUG_CODES = {
    "plo-not-well-formed": T_NOT_XML,
    "plo-forbidden-xml": T_NOT_XML,
    "plo-unsupported-type": T_UNSUPPORTED,
    "plo-schema-invalid": T_INVALID,
    "plo-person-unknown": E_PATIENT,
    "plo-refers-to-unknown": E_MSG_ID,
}
PO = "http://www.kith.no/xmlstds/po/poKomponent/2012-04-01"


def system_principal(ctx: ServiceContext) -> Principal:
    return Principal(subject=RECEIVER, role=Role.integration, tenant=ctx.settings.tenant, all_districts=True)


@dataclass(frozen=True)
class Head:
    msg_id: str
    msg_type: str
    sender: builders.Party | None
    issued: str | None
    shipment: str = "N"  # Forsendelsesstatus of the payload: N new, E change, K cancellation
    refers_to: str | None = None  # MsgHead ConversationRef/RefToParent (E and K)


@dataclass(frozen=True)
class Arrival:
    """One incoming message as a handler sees it (stored already, in the handler's savepoint)."""

    head: Head
    root: Element  # the MsgHead
    body: bytes
    message: PloMessage  # the stored incoming row
    earlier: PloMessage | None = None  # for E and K: the message it changes or cancels

    @property
    def shipment(self) -> str:
        return self.head.shipment


@dataclass(frozen=True)
class Effect:
    person_id: uuid.UUID | None = None
    created: str | None = None  # what it made, "<kind>:<uuid>": what a later E or K acts on


def _parse(body: bytes) -> Element | None:
    try:
        return safe_et.fromstring(body, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except Exception:
        return None


# Linear-time patterns only (anchored, no nested backtracking), over a bounded prefix.
_DOCTYPE = re.compile(rb"\A(?:\s*<\?xml[^>]{0,200}\?>)?\s*<!DOCTYPE(?:[^\[>]|\[[^\]]*\])*+>")
_ENTITY_REF = re.compile(rb"&(?!(?:lt|gt|amp|quot|apos|#[0-9]{1,7}|#x[0-9a-fA-F]{1,6});)[^;\s<>&]{1,100};")
_ROOT = re.compile(rb"<([A-Za-z_][\w.-]{0,50}:)?MsgHead[\s>]")
_MSG_INFO_END = re.compile(rb"</(?:[A-Za-z_][\w.-]{0,50}:)?MsgInfo\s*>")
HEAD_PREFIX = 256 * 1024


def _head_only(body: bytes) -> Element | None:
    """A message that could not be parsed, read for its head alone (who to answer, which
    MsgId) so that even a hostile or broken message gets its negative receipt: within its
    first bytes, a DTD and entity references are cut out (nothing is expanded) and the
    MsgHead is read up to the end of its MsgInfo. Nothing in it is acted on."""
    prefix = body[:HEAD_PREFIX]
    if (doctype := _DOCTYPE.match(prefix)) is not None:
        prefix = prefix[doctype.end() :]
    prefix = _ENTITY_REF.sub(b"", prefix)
    start = _ROOT.search(prefix)
    end = _MSG_INFO_END.search(prefix, start.end()) if start is not None else None
    if start is None or end is None:
        return None
    return _parse(prefix[start.start() : end.end()] + b"</" + (start.group(1) or b"") + b"MsgHead>")


def _text(node: Element | None, path: str) -> str | None:
    found = node.find(path, NS) if node is not None else None
    return (found.text or "").strip() or None if found is not None else None


def _head(root: Element | None, body: bytes) -> Head:
    """What an answer needs, read leniently (a message that fails its schema is answered too)."""
    fallback = "unreadable-" + hashlib.sha256(body).hexdigest()[:32]
    if root is None or root.tag != f"{{{builders.MSGHEAD}}}MsgHead":
        return Head(fallback, "UNKNOWN", None, None)
    info = root.find("mh:MsgInfo", NS)
    type_el = info.find("mh:Type", NS) if info is not None else None
    msg_type = (type_el.get("V") if type_el is not None else None) or "UNKNOWN"
    sender: builders.Party | None = None
    org = info.find("mh:Sender/mh:Organisation", NS) if info is not None else None
    names, her_id, top_her, top_name = [], None, None, None
    while org is not None:
        name = _text(org, "mh:OrganisationName") or ""
        names.append(name)
        for ident in org.findall("mh:Ident", NS):
            type_id = ident.find("mh:TypeId", NS)
            if type_id is not None and type_id.get("V") == "HER" and (value := _text(ident, "mh:Id")):
                her_id = value
                if top_her is None:
                    top_her, top_name = value, name
        org = org.find("mh:Organisation", NS)
    if top_her is not None and her_id is not None and her_id.isdigit() and top_her.isdigit():
        sender = builders.Party(
            name=top_name or "Ukjent",
            her_id=top_her,
            unit_name=names[-1] if her_id != top_her else None,
            unit_her_id=her_id if her_id != top_her else None,
        )
    shipment = "N"
    for status in root.iter(f"{{{PO}}}Forsendelsesstatus"):
        shipment = (status.get("V") or "N").strip().upper()[:1] or "N"
        break
    return Head(
        _text(info, "mh:MsgId") or fallback,
        msg_type[:50],
        sender,
        _text(info, "mh:GenDate"),
        shipment if shipment in builders.SHIPMENT else "N",
        _text(info, "mh:ConversationRef/mh:RefToParent"),  # MsgInfo/ConversationRef
    )


def _issued(value: str | None) -> datetime | None:
    try:
        return datetime.fromisoformat(value) if value else None
    except ValueError:
        return None


async def _stored(session: AsyncSession, message: PloMessage) -> bool:
    """Store the incoming message; False if this MsgId was received before."""
    try:
        async with session.begin_nested():
            session.add(message)
            await session.flush()
    except IntegrityError:
        return False
    return True


# --- AppRec for what we sent ---------------------------------------------------------------


async def _apprec(ctx: ServiceContext, session: AsyncSession, root: Element, body: bytes) -> str:
    from hjemflyt.assessment.messaging.service import _task

    errors = list(builders.schema_for(builders.APPREC).iter_errors(xmlschema.XMLResource(root, allow="none")))
    receipt_id = _text(root, "ar:Id") or "unreadable-" + hashlib.sha256(body).hexdigest()[:32]
    original = _text(root, "ar:OriginalMsgId/ar:Id")
    status_el = root.find("ar:Status", NS)
    status = status_el.get("V") if status_el is not None else None
    incoming = PloMessage(
        id=uuid.uuid4(),
        msg_id=receipt_id,
        direction=Direction.inbound.value,
        msg_type=builders.APPREC_TYPE,
        status=State.received.value,
        refers_to=original,
        body=body,
        created_at=ctx.clock.now(),
    )
    if not await _stored(session, incoming):
        return "duplicate"
    if errors or original is None or status not in ("1", "2", "3"):
        return "apprec-invalid"  # a broken receipt is never answered (AppRecs are not receipted)
    sent = await MessageRepository(session).sent_for_update(original)
    if sent is None:
        return "apprec-unmatched"
    incoming.person_id, incoming.decision_id = sent.person_id, sent.decision_id
    reasons = [" ".join(x for x in (e.get("V"), e.get("DN")) if x) for e in root.findall("ar:Error", NS)]
    sent.receipt_at = ctx.clock.now()
    sent.receipt_reason = "; ".join(r for r in reasons if r)[:2000] or None
    if status == "2":
        sent.status = State.rejected.value
        await _task(
            ctx,
            session,
            TaskKind.receipt_rejected,
            f"The receiver rejected the {sent.msg_type} message: {sent.receipt_reason or 'no reason given'}.",
            message=sent,
        )
    else:
        sent.status = State.ok.value
    await session.flush()
    return "apprec-" + sent.status


# --- answering other messages ------------------------------------------------------------

Handler = Callable[[ServiceContext, AsyncSession, Arrival], Awaitable[Effect]]


async def _helseopplysninger(ctx: ServiceContext, session: AsyncSession, arrival: Arrival) -> Effect:
    from hjemflyt.assessment.referrals import service as referrals
    from hjemflyt.assessment.referrals.rules import Source

    referral, _ = await referrals.receive_plo(
        ctx, session, system_principal(ctx), arrival.body, district=None, source=Source.hospital
    )
    return Effect(referral.person_id, f"referral:{referral.id}")


async def _earlier(session: AsyncSession, head: Head) -> PloMessage:
    """The received message a change or cancellation refers to (E10 if there is none)."""
    earlier = (
        await MessageRepository(session).received(head.refers_to, head.msg_type) if head.refers_to else None
    )
    if earlier is None:
        raise RuleViolation(
            f"The {builders.SHIPMENT[head.shipment].lower()} refers to a message never received here.",
            slug="plo-refers-to-unknown",
        )
    return earlier


async def _document(ctx: ServiceContext, session: AsyncSession, arrival: Arrival) -> Effect:
    from hjemflyt.assessment.documents import service as documents

    return await documents.receive(ctx, session, arrival)


HANDLERS: dict[str, Handler] = {"HELSEOPPL_SOKNAD": _helseopplysninger}
# Innleggelsesrapport, Utskrivningsrapport, Medisinske opplysninger, Helseopplysninger til
# lege: kept as documents on the person (documents/).
HANDLERS.update(dict.fromkeys(DOCUMENT_TYPES, _document))


async def receive(ctx: ServiceContext, session: AsyncSession, body: bytes) -> str:
    from hjemflyt.assessment.messaging.service import (
        _task,
        own_party,
        store_outgoing,
    )

    root = _parse(body)
    if root is not None and root.tag == f"{{{builders.APPREC}}}AppRec":
        return await _apprec(ctx, session, root, body)
    head = _head(root if root is not None else _head_only(body), body)
    incoming = PloMessage(
        id=uuid.uuid4(),
        msg_id=head.msg_id,
        direction=Direction.inbound.value,
        msg_type=head.msg_type,
        status=State.received.value,
        counterpart_her_id=head.sender.most_specific_her_id if head.sender else None,
        shipment=head.shipment,
        refers_to=head.refers_to,
        body=body,
        created_at=ctx.clock.now(),
    )
    if not await _stored(session, incoming):
        return "duplicate"  # answered the first time; no second effect
    error: tuple[str, str] | None = None
    handler = HANDLERS.get(head.msg_type) if root is not None else None
    if root is None:
        error = T_NOT_XML
    elif handler is None:
        error = (T_UNSUPPORTED[0], f"Meldingstypen {head.msg_type} mottas ikke")
    else:
        try:
            async with session.begin_nested():
                earlier = await _earlier(session, head) if head.shipment in ("E", "K") else None
                effect = await handler(ctx, session, Arrival(head, root, body, incoming, earlier))
                incoming.person_id, incoming.effect = effect.person_id, effect.created
                if earlier is not None:
                    earlier.status = State.cancelled.value if head.shipment == "K" else State.changed.value
                await session.flush()
        except RuleViolation as exc:
            code = SLUG_CODES.get(getattr(exc, "slug", ""), E_OTHER)
            error = (code[0], f"{code[1]}: {exc.detail}"[:500])
            if exc.slug == "plo-refers-to-unknown":
                await _task(
                    ctx,
                    session,
                    TaskKind.message_refers_to_unknown,
                    f"A {head.msg_type} {builders.SHIPMENT[head.shipment].lower()} refers to a message "
                    "that was never received: it was rejected; check with the sender.",
                    message=incoming,
                )
            elif exc.slug == "plo-person-unknown":
                sender = head.sender.name if head.sender else "an unknown sender"
                await _task(
                    ctx,
                    session,
                    TaskKind.person_unknown,
                    f"A {head.msg_type} from {sender} is about a patient not registered here: it was "
                    "rejected (E35). Register the person if they are ours and ask the sender to send it "
                    "again.",
                    message=incoming,
                )
    if head.sender is None:
        await _task(
            ctx,
            session,
            TaskKind.message_unanswerable,
            "A message arrived that names no sender HER-id: no receipt could be sent.",
            message=incoming,
        )
        return "unanswerable"
    receipt_id = str(uuid.uuid4())
    now = ctx.clock.now()
    xml = builders.apprec(
        builders.AppRec(
            id=receipt_id,
            generated_at=now,
            sender=own_party(ctx.settings),
            receiver=head.sender,
            status=builders.APPREC_REJECTED if error else builders.APPREC_OK,
            original_type=head.msg_type,
            original_type_name=head.msg_type,
            original_issued_at=_issued(head.issued) or now,
            original_msg_id=head.msg_id,
            errors=[error] if error else [],
        )
    )
    await store_outgoing(
        ctx,
        session,
        xml,
        msg_id=receipt_id,
        msg_type=builders.APPREC_TYPE,
        shipment=None,
        origin=f"apprec:{incoming.id}",
        person_id=incoming.person_id,
        decision_id=None,
        district=None,
        receiver_her_id=head.sender.most_specific_her_id,
        refers_to=head.msg_id,
    )
    return "answered-rejected" if error else "answered-ok"


# The hospital's logistics messages (LOG_*): their handlers use Arrival and Effect above.
from hjemflyt.assessment.messaging import logistics  # noqa: E402

HANDLERS.update(logistics.HANDLERS)
