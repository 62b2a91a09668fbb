"""Consumed from assessment: `order.issued`, `person.admitted`, `person.discharged`,
`admission.cancelled` (the stay did not happen: the orders it paused resume),
`admission.reopened` (the discharge did not happen: the orders pause again).
Published (see service.py): `order.created`, `order.changed`, `order.ended`,
`order.paused`, `order.resumed`, `order.acknowledged`."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from hjemflyt.notifications.orders import lifecycle, service
from hjemflyt.notifications.orders.service import UnknownProvider
from hjemflyt.shared.contracts.envelope import CloudEvent
from hjemflyt.shared.contracts.events import (
    ADMISSION_CANCELLED,
    ADMISSION_REOPENED,
    ORDER_ISSUED,
    PERSON_ADMITTED,
    PERSON_DISCHARGED,
    AdmissionCancelled,
    AdmissionReopened,
    OrderIssued,
    PersonAdmitted,
    PersonDischarged,
)
from hjemflyt.shared.platform.consumer import Subscription
from hjemflyt.shared.platform.context import ServiceContext

__all__ = ["UnknownProvider", "subscriptions"]


def subscriptions(ctx: ServiceContext) -> list[Subscription[Any]]:
    async def on_order_issued(session: AsyncSession, event: CloudEvent, data: OrderIssued) -> None:
        await service.issue(ctx, session, data)

    async def on_person_admitted(session: AsyncSession, event: CloudEvent, data: PersonAdmitted) -> None:
        await service.pause(ctx, session, data)

    async def on_person_discharged(session: AsyncSession, event: CloudEvent, data: PersonDischarged) -> None:
        await service.resume(ctx, session, data)

    async def on_admission_cancelled(
        session: AsyncSession, event: CloudEvent, data: AdmissionCancelled
    ) -> None:
        await service.resume_cancelled(ctx, session, data)

    async def on_admission_reopened(
        session: AsyncSession, event: CloudEvent, data: AdmissionReopened
    ) -> None:
        await service.pause(
            ctx,
            session,
            PersonAdmitted(
                admission_id=data.admission_id,
                person_id=data.person_id,
                district=data.district,
                admitted_at=data.admitted_at,
                institution_kind=data.institution_kind,
            ),
        )

    return [
        Subscription(ORDER_ISSUED, on_order_issued),
        Subscription(ADMISSION_REOPENED, on_admission_reopened),
        Subscription(ADMISSION_CANCELLED, on_admission_cancelled),
        Subscription(PERSON_ADMITTED, on_person_admitted),
        Subscription(PERSON_DISCHARGED, on_person_discharged),
        *lifecycle.subscriptions(ctx),  # decision.activated: order.started
    ]
