"""The decision's own clock, told to the provider: when assessment's sweep activates a
decision on its start date (`decision.activated`), each provider holding a live order of it
gets `order.started`, an informational message (no acknowledgement: nothing to accept,
the order it accepted now runs). Ending is told by the `ended` order itself."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from hjemflyt.notifications.messages.models import Message
from hjemflyt.notifications.messages.service import enqueue
from hjemflyt.notifications.orders.repository import OrderRepository
from hjemflyt.notifications.orders.service import order_data
from hjemflyt.shared.contracts.envelope import CloudEvent
from hjemflyt.shared.contracts.events import DECISION_ACTIVATED, DecisionActivated
from hjemflyt.shared.platform.consumer import Subscription
from hjemflyt.shared.platform.context import ServiceContext

STARTED = "started"


async def started(ctx: ServiceContext, session: AsyncSession, data: DecisionActivated) -> list[Message]:
    """`order.started` to each provider with a live (sent, accepted or paused) order of the
    decision. A provider that rejected the order, or whose order ended, is not told. The
    consumer's inbox makes a redelivered event a no-op."""
    sent = []
    for order in await OrderRepository(session).live_for_decision(data.decision_id):
        body = order_data(
            order,
            STARTED,
            started={
                "decision_version": data.version,
                "start_date": data.start_date.isoformat(),
                "activated_at": data.activated_at.isoformat(),
            },
        )
        sent.append(
            await enqueue(
                ctx,
                session,
                provider_org=order.provider_org,
                kind=f"order.{STARTED}",
                body=body,
                person_id=order.person_id,
                district=order.district,
                order_id=order.id,
            )
        )
    return sent


def subscriptions(ctx: ServiceContext) -> list[Subscription[Any]]:
    async def on_decision_activated(
        session: AsyncSession, event: CloudEvent, data: DecisionActivated
    ) -> None:
        await started(ctx, session, data)

    return [Subscription(DECISION_ACTIVATED, on_decision_activated)]
