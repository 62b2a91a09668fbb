"""Consumed: decisions from assessment and orders from notifications become timeline entries."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from hjemflyt.pathway.timeline.repository import TimelineRepository
from hjemflyt.shared.contracts.envelope import CloudEvent
from hjemflyt.shared.contracts.events import DECISION_MADE, ORDER_CREATED, DecisionMade, OrderCreated
from hjemflyt.shared.platform.consumer import Subscription


async def on_decision_made(session: AsyncSession, event: CloudEvent, data: DecisionMade) -> None:
    await TimelineRepository(session).add(
        {
            "event_id": event.id,
            "person_id": data.person_id,
            "district": data.district,
            "kind": "decision-made",
            "occurred_at": data.made_at,
            "source": "assessment",
            "reference": str(data.decision_id),
            "details": {
                "decision_version": data.version,
                "start_date": data.start_date.isoformat(),
                "evaluation_date": data.evaluation_date.isoformat() if data.evaluation_date else None,
                "services": [s.model_dump(mode="json") for s in data.services],
            },
        }
    )


async def on_order_created(session: AsyncSession, event: CloudEvent, data: OrderCreated) -> None:
    await TimelineRepository(session).add(
        {
            "event_id": event.id,
            "person_id": data.person_id,
            "district": None,
            "kind": "order-created",
            "occurred_at": data.created_at,
            "source": "notifications",
            "reference": str(data.order_id),
            "details": {"decision_id": str(data.decision_id), "provider_org": data.provider_org},
        }
    )


ASSESSMENT = [Subscription(DECISION_MADE, on_decision_made)]
NOTIFICATIONS = [Subscription(ORDER_CREATED, on_order_created)]
