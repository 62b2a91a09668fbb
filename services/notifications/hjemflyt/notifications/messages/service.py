"""Enqueue a message to a provider: numbered per person and in the provider's inbox, then
delivered by webhook (if the provider has one) and always readable from the inbox.

Every module that tells a provider something goes through `enqueue`, in the transaction of
the change that caused it, so a message exists exactly when its cause was committed.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from hjemflyt.notifications.messages import acks
from hjemflyt.notifications.messages.models import Message
from hjemflyt.notifications.messages.repository import INBOX_KEY, NO_PERSON_KEY, MessageRepository
from hjemflyt.notifications.messages.rules import AckStatus, DeliveryState, same_answer, wire
from hjemflyt.notifications.messages.schemas import InboxPage
from hjemflyt.notifications.reports.scoping import reading
from hjemflyt.notifications.webhooks.repository import provider_has_webhook
from hjemflyt.shared.platform.audit import Action, LoggedRead
from hjemflyt.shared.platform.auth import Principal
from hjemflyt.shared.platform.context import ServiceContext
from hjemflyt.shared.platform.errors import Conflict, NotFound, RuleViolation


async def enqueue(
    ctx: ServiceContext,
    session: AsyncSession,
    *,
    provider_org: str,
    kind: str,
    body: dict[str, Any],
    person_id: uuid.UUID | None = None,
    district: str | None = None,
    order_id: uuid.UUID | None = None,
    reference_id: uuid.UUID | None = None,
    ack_deadline: datetime | None = None,
    ack_within: timedelta | None = None,
    has_webhook: bool | None = None,
) -> Message:
    """Add one message for `provider_org`. With `ack_deadline` the provider must accept or
    reject it by then (or within `ack_within` from now). `has_webhook` None means: look it
    up (pass it when known)."""
    repo = MessageRepository(session)
    ordering_key = str(person_id) if person_id else NO_PERSON_KEY
    # Person sequence first, inbox position second: always in this order, so two
    # transactions never wait on each other's counters the other way round.
    sequence = await repo.next_number(provider_org, ordering_key)
    position = await repo.next_number(provider_org, INBOX_KEY)
    if has_webhook is None:
        has_webhook = await provider_has_webhook(session, provider_org)
    now = ctx.clock.now()
    if ack_within is not None:
        ack_deadline = now + ack_within
    message = Message(
        id=uuid.uuid4(),
        position=position,
        provider_org=provider_org,
        ordering_key=ordering_key,
        sequence=sequence,
        kind=kind,
        person_id=person_id,
        district=district,
        order_id=order_id,
        reference_id=reference_id,
        body=body,
        created_at=now,
        ack_status=AckStatus.awaiting.value if ack_deadline else None,
        ack_deadline=ack_deadline,
        delivery_state=(DeliveryState.pending if has_webhook else DeliveryState.inbox).value,
        attempts=0,
        next_attempt_at=now if has_webhook else None,
    )
    await repo.add(message)
    if has_webhook:
        await repo.wake_delivery()
    return message


async def acknowledge(
    ctx: ServiceContext,
    session: AsyncSession,
    principal: Principal,
    message_id: uuid.UUID,
    *,
    accepted: bool,
    reason: str | None,
) -> tuple[Message, bool]:
    """The provider accepts or rejects a message that asks for it. Returns (message,
    changed): the same answer again changes nothing; a different one is a conflict.
    After the deadline the answer still counts, and is shown as late."""
    repo = MessageRepository(session)
    message = await repo.get(principal, message_id, for_update=True)
    if message is None:
        raise NotFound("No such message.")
    if message.ack_status is None:
        raise RuleViolation(
            "This message does not ask for an acknowledgement.", slug="acknowledgement-not-required"
        )
    if message.ack_status == AckStatus.superseded:
        raise Conflict(
            "A newer version was sent since: acknowledge that one.",
            slug="acknowledgement-superseded",
        )
    if message.ack_status != AckStatus.awaiting:
        if same_answer(message, accepted):
            return message, False
        raise Conflict(
            f"The message was already {message.ack_status}.",
            slug="already-acknowledged",
            ack_status=message.ack_status,
        )
    message.ack_status = (AckStatus.accepted if accepted else AckStatus.rejected).value
    message.acked_at = ctx.clock.now()
    message.ack_reason = None if accepted else reason
    await session.flush()
    handlers = acks.handlers_for(message.kind)
    handler = handlers.accepted if accepted else handlers.rejected
    if handler is not None:
        await handler(ctx, session, message)
    return message, True


async def escalate_overdue(ctx: ServiceContext, session: AsyncSession, *, limit: int = 100) -> int:
    """Unanswered messages past their deadline: their kind's `overdue` hook, once each."""
    now = ctx.clock.now()
    overdue = await MessageRepository(session).overdue(now, limit)
    for message in overdue:
        message.escalated_at = now
        handler = acks.handlers_for(message.kind).overdue
        if handler is not None:
            await handler(ctx, session, message)
    await session.flush()
    return len(overdue)


async def redeliver(
    ctx: ServiceContext, session: AsyncSession, principal: Principal, message_id: uuid.UUID
) -> Message:
    """Queue a dead message for delivery again; its retry window starts anew. The person's
    later messages, which waited behind it, follow once it is through."""
    repo = MessageRepository(session)
    message = await repo.get(principal, message_id, for_update=True)
    if message is None:
        raise NotFound("No such message.")
    if message.delivery_state != DeliveryState.dead:
        raise Conflict(
            f"Only a dead message can be redelivered; this one is {message.delivery_state}.",
            slug="not-dead",
            delivery_state=message.delivery_state,
        )
    if not await provider_has_webhook(session, message.provider_org):
        raise Conflict("The provider has no webhook: the message waits in its inbox.", slug="no-webhook")
    message.delivery_state = DeliveryState.pending.value
    message.next_attempt_at = ctx.clock.now()
    message.retry_from = None
    await session.flush()
    await repo.wake_delivery()
    return message


async def fetch_inbox(
    ctx: ServiceContext,
    session: AsyncSession,
    provider_org: str,
    log_read: LoggedRead,
    *,
    after: int,
    limit: int,
    last_look: bool,
) -> InboxPage | None:
    """One look into the provider's inbox: the messages after `after`, marked fetched and
    logged; None when there is nothing yet and the caller may wait (not `last_look`)."""
    repo = MessageRepository(session)
    messages = await repo.inbox(provider_org, after=after, limit=limit)
    if not messages and not last_look:
        return None
    now = ctx.clock.now()
    await repo.mark_fetched([m.id for m in messages if m.fetched_at is None], now)
    for m in messages:
        m.fetched_at = m.fetched_at or now
    await reading(log_read)("message-list", sorted({m.person_id for m in messages if m.person_id}))
    items: list[Any] = [wire(m) for m in messages]
    next_cursor = messages[-1].position if messages else after
    return InboxPage.model_validate({"items": items, "next_cursor": next_cursor})


async def get(
    session: AsyncSession, principal: Principal, message_id: uuid.UUID, log_read: LoggedRead
) -> Message:
    message = await MessageRepository(session).get(principal, message_id)
    if message is None:
        raise NotFound("No such message.")
    await reading(log_read)("message", [message.person_id], resource_id=str(message.id))
    return message


async def answer(
    ctx: ServiceContext,
    session: AsyncSession,
    principal: Principal,
    message_id: uuid.UUID,
    log_read: LoggedRead,
    *,
    accepted: bool,
    reason: str | None,
) -> tuple[Message, bool]:
    """The provider's acknowledgement over the API: `acknowledge`, and a changed answer
    logged as an update of the message."""
    message, changed = await acknowledge(
        ctx, session, principal, message_id, accepted=accepted, reason=reason
    )
    if changed:
        await reading(log_read)(
            "message", [message.person_id], resource_id=str(message.id), action=Action.update
        )
    return message, changed
