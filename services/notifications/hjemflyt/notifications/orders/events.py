"""Consumed: `order.issued` from assessment. Published: `order.created`."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from hjemflyt.notifications.orders.repository import OrderRepository
from hjemflyt.notifications.providers.repository import ProviderRepository
from hjemflyt.shared.contracts.envelope import CloudEvent
from hjemflyt.shared.contracts.events import ORDER_CREATED, ORDER_ISSUED, OrderCreated, OrderIssued
from hjemflyt.shared.platform.consumer import Subscription
from hjemflyt.shared.platform.context import ServiceContext


class UnknownProvider(Exception):
    """An order for a provider the registry does not know: retried, then dead-lettered."""


def subscriptions(ctx: ServiceContext) -> list[Subscription[OrderIssued]]:
    async def on_order_issued(session: AsyncSession, event: CloudEvent, data: OrderIssued) -> None:
        if await ProviderRepository(session).get(data.provider_org) is None:
            raise UnknownProvider(f"no provider {data.provider_org} in the registry")
        order = await OrderRepository(session).add_once(
            {
                "id": uuid.uuid4(),
                "decision_id": data.decision_id,
                "decision_version": data.decision_version,
                "provider_org": data.provider_org,
                "person_id": data.person_id,
                "district": data.district,
                "kind": data.kind,
                "status": "sent",
                "content": {
                    "recipient": data.recipient.model_dump(mode="json"),
                    "services": [s.model_dump(mode="json") for s in data.services],
                    "start_date": data.start_date.isoformat(),
                    "end_date": data.end_date.isoformat() if data.end_date else None,
                    "case_office_contact": data.case_office_contact,
                },
                "created_at": ctx.clock.now(),
            }
        )
        if order is None:
            return  # this decision version already has its order
        await ctx.outbox.add(
            session,
            ORDER_CREATED,
            OrderCreated(
                order_id=order.id,
                decision_id=order.decision_id,
                decision_version=order.decision_version,
                person_id=order.person_id,
                provider_org=order.provider_org,
                created_at=order.created_at,
            ),
            subject=str(order.id),
        )

    return [Subscription(ORDER_ISSUED, on_order_issued)]
