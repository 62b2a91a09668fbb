"""Consumed: notifications' orders, acknowledgements, change-of-need reports, adjustments and
tasks keep the read models the worklists are made from. Each handler is an upsert on the producer's id,
so a repeated or late event changes nothing it should not."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from hjemflyt.pathway.worklists.repository import WorklistRepository
from hjemflyt.shared.contracts.budget import DELIVERY_FLAGGED, DeliveryFlagged
from hjemflyt.shared.contracts.envelope import CloudEvent
from hjemflyt.shared.contracts.events import (
    ORDER_CREATED,
    TASK_CLOSED,
    TASK_OPENED,
    OrderCreated,
    TaskClosed,
    TaskOpened,
)
from hjemflyt.shared.contracts.orders import (
    ADJUSTMENT_OVERRULED,
    ORDER_ACKNOWLEDGED,
    ORDER_ADJUSTED,
    ORDER_CHANGED,
    ORDER_ENDED,
    AdjustmentOverruled,
    OrderAcknowledged,
    OrderAdjusted,
    OrderChanged,
    OrderEnded,
)
from hjemflyt.shared.contracts.reports import (
    CHANGE_OF_NEED_ANSWERED,
    CHANGE_OF_NEED_REPORTED,
    ChangeOfNeedAnswered,
    ChangeOfNeedReported,
)
from hjemflyt.shared.platform.consumer import Subscription


async def on_order_created(session: AsyncSession, event: CloudEvent, data: OrderCreated) -> None:
    await WorklistRepository(session).order_sent(
        {
            "order_id": data.order_id,
            "person_id": data.person_id,
            "provider_org": data.provider_org,
            "decision_id": data.decision_id,
            "district": None,
        },
        version=data.decision_version,
        at=data.created_at,
    )


async def on_order_changed(session: AsyncSession, event: CloudEvent, data: OrderChanged) -> None:
    # A changed order must be accepted again (notifications asks for an acknowledgement).
    await WorklistRepository(session).order_sent(
        {
            "order_id": data.order_id,
            "person_id": data.person_id,
            "provider_org": data.provider_org,
            "decision_id": data.decision_id,
            "district": data.district,
        },
        version=data.decision_version,
        at=data.changed_at,
    )


async def on_order_acknowledged(session: AsyncSession, event: CloudEvent, data: OrderAcknowledged) -> None:
    await WorklistRepository(session).order_acknowledged(
        {
            "order_id": data.order_id,
            "person_id": data.person_id,
            "provider_org": data.provider_org,
            "decision_id": data.decision_id,
            "district": data.district,
        },
        version=data.decision_version,
        at=data.acknowledged_at,
        accepted=data.accepted,
    )


async def on_order_ended(session: AsyncSession, event: CloudEvent, data: OrderEnded) -> None:
    await WorklistRepository(session).order_ended(
        {
            "order_id": data.order_id,
            "person_id": data.person_id,
            "provider_org": data.provider_org,
            "decision_id": data.decision_id,
            "district": data.district,
        },
        at=data.ended_at,
    )


async def on_change_of_need_reported(
    session: AsyncSession, event: CloudEvent, data: ChangeOfNeedReported
) -> None:
    await WorklistRepository(session).change_of_need_reported(
        {
            "change_of_need_id": data.change_of_need_id,
            "order_id": data.order_id,
            "person_id": data.person_id,
            "provider_org": data.provider_org,
            "district": data.district,
            "proposed_hours_per_month": data.proposed_hours_per_month,
            "reported_at": data.reported_at,
        }
    )


async def on_change_of_need_answered(
    session: AsyncSession, event: CloudEvent, data: ChangeOfNeedAnswered
) -> None:
    await WorklistRepository(session).change_of_need_answered(
        {
            "change_of_need_id": data.change_of_need_id,
            "order_id": data.order_id,
            "person_id": data.person_id,
            "provider_org": data.provider_org,
            "district": data.district,
            "answered_at": data.answered_at,
            "outcome": data.outcome,
        }
    )


async def on_order_adjusted(session: AsyncSession, event: CloudEvent, data: OrderAdjusted) -> None:
    await WorklistRepository(session).adjustment_logged(
        {
            "adjustment_id": data.adjustment_id,
            "order_id": data.order_id,
            "person_id": data.person_id,
            "provider_org": data.provider_org,
            "district": data.district,
            "service_type": data.service_type,
            "measure_code": data.measure_code,
            "measure_description": data.measure_description,
            "change": data.change.model_dump(mode="json"),
            "reason": data.reason,
            "adjusted_at": data.adjusted_at,
        }
    )


async def on_adjustment_overruled(
    session: AsyncSession, event: CloudEvent, data: AdjustmentOverruled
) -> None:
    await WorklistRepository(session).adjustment_overruled(
        {
            "adjustment_id": data.adjustment_id,
            "order_id": data.order_id,
            "person_id": data.person_id,
            "provider_org": data.provider_org,
            "district": data.district,
            "service_type": data.service_type,
            "measure_code": data.measure_code,
            "measure_description": data.measure_description,
            "overruled_at": data.overruled_at,
        }
    )


async def on_task_opened(session: AsyncSession, event: CloudEvent, data: TaskOpened) -> None:
    await WorklistRepository(session).task_opened(
        {
            "task_id": data.task_id,
            "kind": data.kind,
            "reference_id": data.reference_id,
            "district": data.district,
            "person_id": data.person_id,
            "provider_org": data.provider_org,
            "order_id": data.order_id,
            "due_date": data.due_date,
            "opened_at": data.opened_at,
        }
    )


async def on_task_closed(session: AsyncSession, event: CloudEvent, data: TaskClosed) -> None:
    await WorklistRepository(session).task_closed(
        {
            "task_id": data.task_id,
            "kind": data.kind,
            "reference_id": data.reference_id,
            "district": data.district,
            "person_id": data.person_id,
            "closed_at": data.closed_at,
            "resolution": data.resolution,
        }
    )


async def on_delivery_flagged(session: AsyncSession, event: CloudEvent, data: DeliveryFlagged) -> None:
    await WorklistRepository(session).delivery_flagged(data.model_dump())


NOTIFICATIONS: list[Subscription[Any]] = [
    Subscription(ORDER_CREATED, on_order_created),
    Subscription(ORDER_CHANGED, on_order_changed),
    Subscription(ORDER_ACKNOWLEDGED, on_order_acknowledged),
    Subscription(ORDER_ENDED, on_order_ended),
    Subscription(CHANGE_OF_NEED_REPORTED, on_change_of_need_reported),
    Subscription(CHANGE_OF_NEED_ANSWERED, on_change_of_need_answered),
    Subscription(ORDER_ADJUSTED, on_order_adjusted),
    Subscription(ADJUSTMENT_OVERRULED, on_adjustment_overruled),
    Subscription(TASK_OPENED, on_task_opened),
    Subscription(TASK_CLOSED, on_task_closed),
]
BUDGET: list[Subscription[Any]] = [Subscription(DELIVERY_FLAGGED, on_delivery_flagged)]
