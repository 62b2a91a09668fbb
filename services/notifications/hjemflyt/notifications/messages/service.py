"""Enqueue a message to a provider: numbered per person and in the provider's inbox, then
delivered by webhook (if the provider has one) and always readable from the inbox.

Every module that tells a provider something goes through `enqueue`, in the transaction of
the change that caused it, so a message exists exactly when its cause was committed.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from hjemflyt.notifications.messages.models import Message
from hjemflyt.notifications.messages.repository import INBOX_KEY, NO_PERSON_KEY, MessageRepository
from hjemflyt.notifications.webhooks.repository import provider_has_webhook
from hjemflyt.shared.platform.context import ServiceContext


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
    has_webhook: bool | None = None,
) -> Message:
    """Add one message for `provider_org`. With `ack_deadline` the provider must accept or
    reject it by then. `has_webhook` None means: look it up (pass it when known)."""
    repo = MessageRepository(session)
    ordering_key = str(person_id) if person_id else NO_PERSON_KEY
    # Person sequence first, inbox position second: always in this order, so two
    # transactions never wait on each other's counters the other way round.
    sequence = await repo.next_number(provider_org, ordering_key)
    position = await repo.next_number(provider_org, INBOX_KEY)
    if has_webhook is None:
        has_webhook = await provider_has_webhook(session, provider_org)
    now = ctx.clock.now()
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
        ack_status="awaiting" if ack_deadline else None,
        ack_deadline=ack_deadline,
        delivery_state="pending" if has_webhook else "inbox",
        attempts=0,
        next_attempt_at=now if has_webhook else None,
    )
    await repo.add(message)
    if has_webhook:
        await repo.wake_delivery()
    return message
