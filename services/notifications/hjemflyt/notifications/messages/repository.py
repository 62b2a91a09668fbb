"""All SQL of messages, and the numbering that keeps them in order.

A provider reads only its own organisation's messages; a case officer or service lead only
those of its districts; an integration account (all districts) every one.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Select, false, func, select, text, tuple_, update

from hjemflyt.notifications.messages.models import Message
from hjemflyt.notifications.messages.rules import AckStatus, DeliveryState
from hjemflyt.shared.platform.auth import Principal, Role
from hjemflyt.shared.platform.repository import Repository

# The ordering key of the provider's whole inbox (positions), and of messages that concern
# no person (routine publications).
INBOX_KEY = "*inbox"
NO_PERSON_KEY = "*provider"

DELIVERY_CHANNEL = "hjemflyt_notifications_delivery"

_NEXT = text(
    """
    INSERT INTO notifications.message_sequence AS s (provider_org, ordering_key, last)
    VALUES (:provider_org, :ordering_key, 1)
    ON CONFLICT (provider_org, ordering_key) DO UPDATE SET last = s.last + 1
    RETURNING last
    """
)

# Due pending messages whose every earlier message (same provider, same person) is
# delivered: per person one at a time, in sequence order; persons in parallel. The claim
# is a lease: `next_attempt_at` moves past the HTTP call, and the transaction commits
# before the POST. A worker that dies leaves the lease to run out; the message is due
# again then. SKIP LOCKED lets replicas share the work without waiting on each other.
_CLAIM = text(
    """
    WITH due AS (
        SELECT m.id
        FROM notifications.message m
        WHERE m.delivery_state = 'pending'
          AND m.next_attempt_at <= :now
          AND NOT EXISTS (
              SELECT 1 FROM notifications.message e
              WHERE e.provider_org = m.provider_org
                AND e.ordering_key = m.ordering_key
                AND e.sequence < m.sequence
                AND e.delivery_state IN ('pending', 'dead')
          )
        ORDER BY m.next_attempt_at, m.position
        LIMIT :limit
        FOR UPDATE OF m SKIP LOCKED
    )
    UPDATE notifications.message m
    SET next_attempt_at = :lease_until,
        attempts = m.attempts + 1,
        retry_from = coalesce(m.retry_from, :now)
    FROM due
    WHERE m.id = due.id
    RETURNING m.id
    """
)


def readable(principal: Principal) -> Select[Message]:
    if principal.role == Role.provider:
        if not principal.provider_org:
            return select(Message).where(false())
        return select(Message).where(Message.provider_org == principal.provider_org)
    if principal.all_districts:
        return select(Message)
    return select(Message).where(Message.district.in_(sorted(principal.districts)))


class MessageRepository(Repository):
    async def next_number(self, provider_org: str, ordering_key: str) -> int:
        return int(
            (
                await self.session.execute(
                    _NEXT, {"provider_org": provider_org, "ordering_key": ordering_key}
                )
            ).scalar_one()
        )

    async def add(self, message: Message) -> Message:
        return await self.insert(message)

    async def wake_delivery(self) -> None:
        """Wake the delivery worker at commit (once per transaction)."""
        if not self.session.info.get("delivery_notified"):
            await self.session.execute(text("SELECT pg_notify(:c, '')"), {"c": DELIVERY_CHANNEL})
            self.session.info["delivery_notified"] = True

    # --- reads ---------------------------------------------------------------------

    async def get(
        self, principal: Principal, message_id: uuid.UUID, *, for_update: bool = False
    ) -> Message | None:
        stmt = readable(principal).where(Message.id == message_id)
        if for_update:
            stmt = stmt.with_for_update()
        return await self.session.scalar(stmt)

    async def by_id(self, message_id: uuid.UUID) -> Message | None:
        return await self.session.get(Message, message_id)

    async def inbox(self, provider_org: str, *, after: int, limit: int) -> Sequence[Message]:
        stmt = (
            select(Message)
            .where(Message.provider_org == provider_org, Message.position > after)
            .order_by(Message.position)
            .limit(limit)
        )
        return (await self.session.scalars(stmt)).all()

    async def mark_fetched(self, ids: Sequence[uuid.UUID], now: datetime) -> None:
        if ids:
            await self.session.execute(
                update(Message)
                .where(Message.id.in_(ids), Message.fetched_at.is_(None))
                .values(fetched_at=now)
            )

    async def for_order(self, order_id: uuid.UUID) -> Sequence[Message]:
        stmt = select(Message).where(Message.order_id == order_id).order_by(Message.sequence)
        return (await self.session.scalars(stmt)).all()

    async def latest_for_orders(self, order_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Message]:
        """Each order's newest message (its delivery state stands for the order's)."""
        if not order_ids:
            return {}
        return await self._latest(order_ids, requires_ack=False)

    async def latest_ack_for_orders(self, order_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Message]:
        """Each order's newest message that asked for an acknowledgement."""
        if not order_ids:
            return {}
        return await self._latest(order_ids, requires_ack=True)

    async def _latest(
        self, order_ids: Sequence[uuid.UUID], *, requires_ack: bool
    ) -> dict[uuid.UUID, Message]:
        # An order's messages share provider and person, so its newest has the highest sequence.
        newest = select(Message.order_id, func.max(Message.sequence)).where(Message.order_id.in_(order_ids))
        if requires_ack:
            newest = newest.where(Message.ack_status.is_not(None))
        newest = newest.group_by(Message.order_id)
        stmt = select(Message).where(tuple_(Message.order_id, Message.sequence).in_(newest))
        return {m.order_id: m for m in (await self.session.scalars(stmt)).all() if m.order_id}

    # --- delivery ------------------------------------------------------------------

    async def claim(self, now: datetime, lease_until: datetime, limit: int) -> Sequence[Message]:
        ids = (
            await self.session.scalars(_CLAIM, {"now": now, "lease_until": lease_until, "limit": limit})
        ).all()
        if not ids:
            return []
        stmt = (
            select(Message)
            .where(Message.id.in_(ids))
            .order_by(Message.position)
            .execution_options(populate_existing=True)
        )
        return (await self.session.scalars(stmt)).all()

    async def record_delivered(self, message_id: uuid.UUID, attempts: int, now: datetime) -> Message | None:
        """Delivered, if this claim is still the message's current one (its lease holds)."""
        stmt = (
            update(Message)
            .where(
                Message.id == message_id,
                Message.attempts == attempts,
                Message.delivery_state == DeliveryState.pending,
            )
            .values(
                delivery_state=DeliveryState.delivered,
                delivered_at=now,
                next_attempt_at=None,
                last_error=None,
            )
            .returning(Message)
        )
        return (await self.session.scalars(stmt)).first()

    async def record_failure(
        self, message_id: uuid.UUID, attempts: int, error: str, next_attempt_at: datetime
    ) -> bool:
        stmt = (
            update(Message)
            .where(
                Message.id == message_id,
                Message.attempts == attempts,
                Message.delivery_state == DeliveryState.pending,
            )
            .values(last_error=error[:1000], next_attempt_at=next_attempt_at)
            .returning(Message.id)
        )
        return (await self.session.scalars(stmt)).first() is not None

    async def record_dead(
        self, message_id: uuid.UUID, attempts: int, error: str, now: datetime
    ) -> Message | None:
        stmt = (
            update(Message)
            .where(
                Message.id == message_id,
                Message.attempts == attempts,
                Message.delivery_state == DeliveryState.pending,
            )
            .values(
                delivery_state=DeliveryState.dead,
                dead_at=now,
                last_error=error[:1000],
                next_attempt_at=None,
            )
            .returning(Message)
        )
        return (await self.session.scalars(stmt)).first()

    async def stop_pushing(self, provider_org: str) -> int:
        """The provider removed its webhook: what waited to be pushed waits in the inbox."""
        result = await self.session.execute(
            update(Message)
            .where(Message.provider_org == provider_org, Message.delivery_state == DeliveryState.pending)
            .values(delivery_state=DeliveryState.inbox, next_attempt_at=None)
            .returning(Message.id)
        )
        return len(result.all())

    async def start_pushing(self, provider_org: str, now: datetime) -> int:
        """A webhook was set: what the provider has not fetched from its inbox is pushed."""
        result = await self.session.execute(
            update(Message)
            .where(
                Message.provider_org == provider_org,
                Message.delivery_state == DeliveryState.inbox,
                Message.fetched_at.is_(None),
            )
            .values(delivery_state=DeliveryState.pending, next_attempt_at=now, retry_from=None)
            .returning(Message.id)
        )
        return len(result.all())

    # --- acknowledgements ------------------------------------------------------------

    async def supersede_awaiting(
        self, *, order_id: uuid.UUID | None = None, message_ids: Sequence[uuid.UUID] = ()
    ) -> Sequence[Message]:
        """Unanswered messages that a newer one replaced (an order's older versions, or given
        messages such as older routine publications): no longer to be answered or escalated."""
        if order_id is None and not message_ids:
            return []
        target = Message.order_id == order_id if order_id is not None else Message.id.in_(message_ids)
        stmt = (
            update(Message)
            .where(target, Message.ack_status == AckStatus.awaiting)
            .values(ack_status=AckStatus.superseded)
            .returning(Message)
        )
        return (await self.session.scalars(stmt)).all()

    async def overdue(self, now: datetime, limit: int) -> Sequence[Message]:
        stmt = (
            select(Message)
            .where(
                Message.ack_status == AckStatus.awaiting,
                Message.ack_deadline < now,
                Message.escalated_at.is_(None),
            )
            .order_by(Message.ack_deadline)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return (await self.session.scalars(stmt)).all()
