"""Use cases of the national health messages (PLO v1.6 in MsgHead 1.2, AppRec 1.1).

Out: *Orientering om tjenestetilbud* to the person's GP when a decision is sent (Ny), when a
sent decision is amended or superseded (Endring of the first message), when it is ended
early (Kansellering). Called by the decision's use cases (decisions/making.py, amending.py,
lifecycle.py) in the decision's own transaction, so the message is stored (state
`pending`) exactly when the decision changes, and once: its `origin` is unique. A message
that does not validate against the national schemas is stored as `invalid`, never sent, and
raises a task.

Transport (worker.py): pending messages are handed to the transport and marked `sent` in one
transaction per batch; the directory transport names the file by MsgId, so a retry after a
crash replaces the file instead of sending a second message.

In: AppRecs are matched to what was sent (`ok`, or `rejected` with the reason, which also
raises a task); a sent message without a receipt after `plo_receipt_hours` raises a task.
Every other message received is answered with an AppRec (Helseopplysninger ved søknad
becomes a referral as through the API).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from hjemflyt.assessment.decisions.rules import Outcome
from hjemflyt.assessment.decisions.schemas import DecisionOut
from hjemflyt.assessment.messaging import builders, inbound
from hjemflyt.assessment.messaging.models import PloMessage, PloTask
from hjemflyt.assessment.messaging.repository import MessageRepository
from hjemflyt.assessment.messaging.rules import Direction, State, TaskKind
from hjemflyt.assessment.messaging.transport.base import Transport
from hjemflyt.assessment.persons import service as persons
from hjemflyt.shared.platform.audit import LoggedRead
from hjemflyt.shared.platform.auth import Principal
from hjemflyt.shared.platform.context import ServiceContext
from hjemflyt.shared.platform.errors import Conflict, NotFound
from hjemflyt.shared.platform.settings import Settings

PURPOSE = "Orientering om tjenestetilbud to the GP"


def own_party(settings: Settings) -> builders.Party:
    """The case office as a communication party under the municipality (configuration)."""
    return builders.Party(
        name=settings.plo_municipality_name,
        her_id=settings.plo_municipality_her_id,
        unit_name=settings.plo_case_office_name,
        unit_her_id=settings.plo_case_office_her_id,
    )


def own_her_ids(settings: Settings) -> frozenset[str]:
    return frozenset(
        {
            settings.plo_municipality_her_id,
            settings.plo_case_office_her_id,
            settings.plo_nursing_service_her_id,
        }
    )


async def _task(
    ctx: ServiceContext,
    session: AsyncSession,
    kind: TaskKind,
    detail: str,
    *,
    message: PloMessage | None = None,
    person_id: uuid.UUID | None = None,
    decision_id: uuid.UUID | None = None,
    district: str | None = None,
) -> None:
    person_id = person_id or (message.person_id if message else None)
    decision_id = decision_id or (message.decision_id if message else None)
    if (
        message is None
        and decision_id is not None
        and await MessageRepository(session).open_task(kind, decision_id)
    ):
        return  # the same task is open already
    if district is None and person_id is not None:
        district = await MessageRepository(session).district_of(person_id)
    try:
        async with session.begin_nested():
            session.add(
                PloTask(
                    id=uuid.uuid4(),
                    kind=kind.value,
                    message_id=message.id if message else None,
                    person_id=person_id,
                    decision_id=decision_id,
                    district=district,
                    detail=detail[:2000],
                    created_at=ctx.clock.now(),
                )
            )
            await session.flush()
    except IntegrityError:
        pass  # that task exists already


async def _chain_start(session: AsyncSession, decision_ids: Sequence[uuid.UUID]) -> PloMessage | None:
    """The first Orientering sent for any of these decisions (the one later ones refer to)."""
    return await MessageRepository(session).chain_start(decision_ids, builders.ORIENTERING_TJENESTETILBUD)


async def decision_sent(
    ctx: ServiceContext, session: AsyncSession, principal: Principal, out: DecisionOut
) -> None:
    """A decision's letter went out: tell the GP (Ny; Endring if it supersedes a decision the
    GP was told about)."""
    first = await _chain_start(session, [out.supersedes_id]) if out.supersedes_id else None
    await _orientering(ctx, session, principal, out, "E" if first else "N", first, "sent")


async def decision_amended(
    ctx: ServiceContext, session: AsyncSession, principal: Principal, out: DecisionOut
) -> None:
    """A sent decision changed: Endring of the first message, if the GP was told."""
    first = await _chain_start(session, [out.id])
    if first is not None:
        await _orientering(ctx, session, principal, out, "E", first, "amended")


async def decision_ended(
    ctx: ServiceContext, session: AsyncSession, principal: Principal, out: DecisionOut, reason: str
) -> None:
    """Withdrawn or ended before its time: Kansellering of the first message. Expiry (the GP
    knew the end date) and supersession (the new decision's Endring tells) send nothing."""
    if reason in ("expired", "superseded"):
        return
    first = await _chain_start(session, [out.id])
    if first is not None:
        await _orientering(ctx, session, principal, out, "K", first, f"ended-{reason}")


async def send_again(
    ctx: ServiceContext, session: AsyncSession, principal: Principal, decision_id: uuid.UUID
) -> PloMessage | None:
    """The case officer asks for the decision's Orientering again (after registering the GP,
    or after a negative or missing receipt): Ny if the GP was never told, else Endring of the
    first message. Once per decision version; None if nothing could be stored (a task says
    why)."""
    from hjemflyt.assessment.decisions import reading  # (it imports this module)
    from hjemflyt.assessment.decisions.rules import Status

    out = await reading.get(ctx, session, principal, decision_id, purpose=PURPOSE)
    if out.status not in (Status.sent, Status.active):
        raise Conflict(
            f"Only a sent or running decision is told to the GP; this one is {out.status}.",
            slug="decision-not-sent",
        )
    first = await _chain_start(session, [out.id])
    if first is None and out.supersedes_id is not None:
        first = await _chain_start(session, [out.supersedes_id])
    origin = f"decision:{out.id}:v{out.version}:again"
    await _orientering(ctx, session, principal, out, "E" if first else "N", first, "again")
    return await MessageRepository(session).by_origin(origin)


def _services(out: DecisionOut) -> list[builders.Service]:
    return [
        builders.Service(
            iplos_code=s.service_code or "0",
            name=s.service_name,
            hours_per_month=s.hours_per_month if s.hours_per_month else None,
            start_date=out.start_date,
            end_date=out.end_date,
            provider=s.provider_org,
            private=False,
        )
        for s in out.services
        if s.outcome != Outcome.refused
    ]


async def _orientering(
    ctx: ServiceContext,
    session: AsyncSession,
    principal: Principal,
    out: DecisionOut,
    shipment: str,
    first: PloMessage | None,
    why: str,
) -> None:
    origin = f"decision:{out.id}:v{out.version}:{why}"
    if await MessageRepository(session).by_origin(origin) is not None:
        return
    person = await persons.get(ctx, session, principal, out.person_id, purpose=PURPOSE)
    if person.gp is None:
        await _task(
            ctx,
            session,
            TaskKind.gp_missing,
            "The person has no GP with a HER-id on record: Orientering om tjenestetilbud was not sent. "
            "Register the GP and send the decision's message again.",
            person_id=out.person_id,
            decision_id=out.id,
            district=out.district,
        )
        return
    services = _services(out)
    msg_id = str(uuid.uuid4())
    receiver = builders.Party(
        name=person.gp.office_name,
        her_id=person.gp.office_her_id,
        professional_name=person.gp.name,
        professional_her_id=person.gp.her_id,
    )
    xml = builders.orientering(
        builders.Orientering(
            msg_id=msg_id,
            generated_at=ctx.clock.now(),
            sender=own_party(ctx.settings),
            receiver=receiver,
            patient=builders.Patient(
                name=person.name,
                identity_number=person.identity_number,
                identity_kind=person.identity_kind.value,
                address=person.address,
            ),
            services=services,
            shipment=shipment,
            refers_to=first.msg_id if first else None,
        )
    )
    stored = await store_outgoing(
        ctx,
        session,
        xml,
        msg_id=msg_id,
        msg_type=builders.ORIENTERING_TJENESTETILBUD,
        shipment=shipment,
        origin=origin,
        person_id=out.person_id,
        decision_id=out.id,
        district=out.district,
        receiver_her_id=receiver.most_specific_her_id,
        refers_to=first.msg_id if first else None,
    )
    if stored.status == State.pending.value:  # the GP is known now: that task is done
        await MessageRepository(session).resolve_open_tasks(TaskKind.gp_missing, out.id, ctx.clock.now())


async def store_outgoing(
    ctx: ServiceContext,
    session: AsyncSession,
    xml: bytes,
    *,
    msg_id: str,
    msg_type: str,
    shipment: str | None,
    origin: str | None,
    person_id: uuid.UUID | None,
    decision_id: uuid.UUID | None,
    district: str | None,
    receiver_her_id: str | None,
    refers_to: str | None,
) -> PloMessage:
    """Validate and store a message for sending; one that does not validate is stored as
    `invalid` (never sent) and raises a task."""
    errors = await asyncio.to_thread(builders.validation_errors, xml)
    message = PloMessage(
        id=uuid.uuid4(),
        msg_id=msg_id,
        direction=Direction.out.value,
        msg_type=msg_type,
        shipment=shipment,
        status=State.invalid.value if errors else State.pending.value,
        origin=origin,
        person_id=person_id,
        decision_id=decision_id,
        counterpart_her_id=receiver_her_id,
        refers_to=refers_to,
        body=xml,
        created_at=ctx.clock.now(),
    )
    session.add(message)
    await session.flush()
    if errors:
        await _task(
            ctx,
            session,
            TaskKind.message_invalid,
            f"The {msg_type} message does not validate against the national schema and was not sent: "
            + "; ".join(errors),
            message=message,
            district=district,
        )
    return message


# --- transport ---------------------------------------------------------------------------


async def send_pending(
    ctx: ServiceContext, session: AsyncSession, transport: Transport, *, limit: int
) -> int:
    """Hand pending messages to the transport and mark them sent (in the caller's
    transaction; rows locked so replicas do not send the same one)."""
    pending = await MessageRepository(session).pending(limit)
    for message in pending:
        await asyncio.to_thread(transport.send, message.msg_id, message.body)
        message.status = State.sent.value
        message.sent_at = ctx.clock.now()
    await session.flush()
    return len(pending)


async def flag_overdue(ctx: ServiceContext, session: AsyncSession) -> int:
    """Sent messages with no AppRec after the configured time raise a task (once each)."""
    limit = ctx.clock.now() - timedelta(hours=ctx.settings.plo_receipt_hours)
    overdue = await MessageRepository(session).overdue(limit, builders.APPREC_TYPE)
    for message in overdue:
        await _task(
            ctx,
            session,
            TaskKind.receipt_missing,
            f"No application receipt for the {message.msg_type} message sent "
            f"{message.sent_at:%Y-%m-%d %H:%M} "
            f"to HER-id {message.counterpart_her_id}: check with the receiver or send it again.",
            message=message,
        )
    return len(overdue)


async def receive(ctx: ServiceContext, session: AsyncSession, body: bytes) -> str:
    """One incoming message from the transport; what it was ("apprec", "answered", ...)."""
    return await inbound.receive(ctx, session, body)


async def resolve_task(
    ctx: ServiceContext, session: AsyncSession, principal: Principal, task_id: uuid.UUID
) -> PloTask:
    """A case officer has handled the task (idempotent)."""
    from hjemflyt.assessment.messaging.repository import MessageRepository

    task = await MessageRepository(session).task(principal, task_id)
    if task is None:
        raise NotFound("No such task.")
    if task.resolved_at is None:
        task.resolved_at = ctx.clock.now()
        await session.flush()
    return task


async def messages(
    session: AsyncSession,
    principal: Principal,
    log_read: LoggedRead,
    *,
    person_id: uuid.UUID | None,
    decision_id: uuid.UUID | None,
    status: str | None,
    direction: str | None,
    limit: int,
) -> Sequence[PloMessage]:
    """PLO messages and their state; the persons they are about logged."""
    rows = await MessageRepository(session).messages(
        principal,
        person_id=person_id,
        decision_id=decision_id,
        status=status,
        direction=direction,
        limit=limit,
    )
    await log_read("plo-message-list", sorted({r.person_id for r in rows if r.person_id is not None}))
    return rows


async def tasks(
    session: AsyncSession, principal: Principal, log_read: LoggedRead, *, open_only: bool, limit: int
) -> Sequence[PloTask]:
    """Tasks raised by messages; the persons they are about logged."""
    rows = await MessageRepository(session).tasks(principal, open_only=open_only, limit=limit)
    await log_read.rows("plo-task-list", rows)
    return rows
