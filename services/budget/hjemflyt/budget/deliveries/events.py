"""Consumed: the visits providers report (notifications) and hospital and institution stays
(assessment). Register the handlers on the service's consumers of those producers (one
durable consumer per producer, so these lists are joined with the other modules')."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from hjemflyt.budget.deliveries.repository import DeliveryRepository
from hjemflyt.budget.deliveries.rules import facts
from hjemflyt.shared.contracts.envelope import CloudEvent
from hjemflyt.shared.contracts.events import (
    ADMISSION_CANCELLED,
    ADMISSION_REOPENED,
    PERSON_ADMITTED,
    PERSON_DISCHARGED,
    AdmissionCancelled,
    AdmissionReopened,
    PersonAdmitted,
    PersonDischarged,
)
from hjemflyt.shared.contracts.reports import VISITS_REPORTED, VisitsReported
from hjemflyt.shared.platform.consumer import Subscription


async def on_visits_reported(session: AsyncSession, event: CloudEvent, data: VisitsReported) -> None:
    await DeliveryRepository(session).record_visits(
        data.provider_org, [(v, facts(v)) for v in data.visits], data.reported_at
    )


async def on_person_admitted(session: AsyncSession, event: CloudEvent, data: PersonAdmitted) -> None:
    await DeliveryRepository(session).admit(
        admission_id=data.admission_id,
        person_id=data.person_id,
        district=data.district,
        institution_kind=data.institution_kind,
        admitted_at=data.admitted_at,
    )


async def on_person_discharged(session: AsyncSession, event: CloudEvent, data: PersonDischarged) -> None:
    await DeliveryRepository(session).discharge(
        admission_id=data.admission_id,
        person_id=data.person_id,
        district=data.district,
        admitted_at=data.admitted_at,
        discharged_at=data.discharged_at,
    )


async def on_admission_cancelled(session: AsyncSession, event: CloudEvent, data: AdmissionCancelled) -> None:
    """The stay did not happen: it no longer counts."""
    await DeliveryRepository(session).drop_stay(data.admission_id)


async def on_admission_reopened(session: AsyncSession, event: CloudEvent, data: AdmissionReopened) -> None:
    """The discharge did not happen: the stay runs on."""
    await DeliveryRepository(session).reopen_stay(data.admission_id)


ASSESSMENT: list[Subscription[Any]] = [
    Subscription(ADMISSION_REOPENED, on_admission_reopened),
    Subscription(ADMISSION_CANCELLED, on_admission_cancelled),
    Subscription(PERSON_ADMITTED, on_person_admitted),
    Subscription(PERSON_DISCHARGED, on_person_discharged),
]
NOTIFICATIONS: list[Subscription[Any]] = [Subscription(VISITS_REPORTED, on_visits_reported)]
