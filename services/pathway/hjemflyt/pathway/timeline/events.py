"""Consumed: every step of a person's case becomes a timeline entry.

From assessment: referral, application, assessment, decision (made, amended, ended),
provider choice and appeal (received, decided); from notifications: orders. Details hold
what a case officer needs to follow the case and nothing the event does not carry; the
assessment's function scores stay in assessment (pathway does not need them).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from hjemflyt.pathway.decisions.repository import DecisionRepository
from hjemflyt.pathway.timeline.repository import TimelineRepository
from hjemflyt.pathway.timeline.rules import EntryKind, moment
from hjemflyt.shared.contracts.envelope import CloudEvent
from hjemflyt.shared.contracts.events import (
    APPEAL_DECIDED,
    APPEAL_RECEIVED,
    APPLICATION_REGISTERED,
    ASSESSMENT_COMPLETED,
    DECISION_AMENDED,
    DECISION_ENDED,
    DECISION_MADE,
    ORDER_CREATED,
    PROVIDER_CHOSEN,
    REFERRAL_RECEIVED,
    AppealDecided,
    AppealReceived,
    ApplicationRegistered,
    AssessmentCompleted,
    DecidedService,
    DecisionAmended,
    DecisionEnded,
    DecisionMade,
    OrderCreated,
    ProviderChosen,
    ReferralReceived,
)
from hjemflyt.shared.platform.consumer import Subscription


async def _add(
    session: AsyncSession,
    event: CloudEvent,
    *,
    person_id: uuid.UUID,
    district: str | None,
    kind: EntryKind,
    occurred_at: datetime,
    source: str,
    reference: uuid.UUID,
    details: dict[str, Any],
) -> None:
    await TimelineRepository(session).add(
        {
            "event_id": event.id,
            "person_id": person_id,
            "district": district,
            "kind": kind.value,
            "occurred_at": occurred_at,
            "source": source,
            "reference": str(reference),
            "details": details,
        }
    )


def _iso(value: object | None) -> str | None:
    return None if value is None else str(value)


def _services(services: list[DecidedService]) -> list[dict[str, Any]]:
    # Only the contract's fields: fields a later producer adds are not copied unseen.
    return [s.model_dump(mode="json") for s in services]


async def on_referral_received(session: AsyncSession, event: CloudEvent, data: ReferralReceived) -> None:
    await _add(
        session,
        event,
        person_id=data.person_id,
        district=data.district,
        kind=EntryKind.referral_received,
        occurred_at=data.received_at,
        source="assessment",
        reference=data.referral_id,
        details={"from": data.source, "requested_services": data.requested_services},
    )


async def on_application_registered(
    session: AsyncSession, event: CloudEvent, data: ApplicationRegistered
) -> None:
    await _add(
        session,
        event,
        person_id=data.person_id,
        district=data.district,
        kind=EntryKind.application_registered,
        occurred_at=moment(data.received_date, event.time),
        source="assessment",
        reference=data.application_id,
        details={
            "referral_id": _iso(data.referral_id),
            "services": data.services,
            "received_date": data.received_date.isoformat(),
            "deadline_date": data.deadline_date.isoformat(),
        },
    )


async def on_assessment_completed(
    session: AsyncSession, event: CloudEvent, data: AssessmentCompleted
) -> None:
    await _add(
        session,
        event,
        person_id=data.person_id,
        district=data.district,
        kind=EntryKind.assessment_completed,
        occurred_at=data.completed_at,
        source="assessment",
        reference=data.assessment_id,
        details={
            "application_id": _iso(data.application_id),
            "visit_date": _iso(data.visit_date),
            "iplos_version": data.iplos_version,
            "goals": data.goals,
        },
    )


async def on_decision_made(session: AsyncSession, event: CloudEvent, data: DecisionMade) -> None:
    await _add(
        session,
        event,
        person_id=data.person_id,
        district=data.district,
        kind=EntryKind.decision_made,
        occurred_at=data.made_at,
        source="assessment",
        reference=data.decision_id,
        details={
            "decision_version": data.version,
            "decision_date": data.decision_date.isoformat(),
            "start_date": data.start_date.isoformat(),
            "end_date": _iso(data.end_date),
            "evaluation_date": _iso(data.evaluation_date),
            "application_id": _iso(data.application_id),
            "supersedes_id": _iso(data.supersedes_id),
            "legal_basis": data.legal_basis,
            "services": _services(data.services),
        },
    )
    await TimelineRepository(session).fill_district(data.person_id, data.decision_id, data.district)


async def on_decision_amended(session: AsyncSession, event: CloudEvent, data: DecisionAmended) -> None:
    await _add(
        session,
        event,
        person_id=data.person_id,
        district=data.district,
        kind=EntryKind.decision_amended,
        occurred_at=data.amended_at,
        source="assessment",
        reference=data.decision_id,
        details={
            "decision_version": data.version,
            "changes": data.changes,
            "start_date": data.start_date.isoformat(),
            "end_date": _iso(data.end_date),
            "evaluation_date": _iso(data.evaluation_date),
            "services": _services(data.services),
        },
    )
    await TimelineRepository(session).fill_district(data.person_id, data.decision_id, data.district)


async def on_decision_ended(session: AsyncSession, event: CloudEvent, data: DecisionEnded) -> None:
    await _add(
        session,
        event,
        person_id=data.person_id,
        district=data.district,
        kind=EntryKind.decision_ended,
        occurred_at=data.ended_at,
        source="assessment",
        reference=data.decision_id,
        details={
            "decision_version": data.version,
            "end_date": data.end_date.isoformat(),
            "reason": data.reason,
            "superseded_by": _iso(data.superseded_by),
        },
    )


async def on_provider_chosen(session: AsyncSession, event: CloudEvent, data: ProviderChosen) -> None:
    await _add(
        session,
        event,
        person_id=data.person_id,
        district=data.district,
        kind=EntryKind.provider_chosen,
        occurred_at=moment(data.chosen_date or data.informed_date, event.time),
        source="assessment",
        reference=data.decision_id,
        details={
            "decision_id": str(data.decision_id),
            "service_type": data.service_type,
            "service_code": data.service_code,
            "provider_org": data.provider_org,
            "informed_date": data.informed_date.isoformat(),
            "chosen_date": _iso(data.chosen_date),
        },
    )


async def on_appeal_received(session: AsyncSession, event: CloudEvent, data: AppealReceived) -> None:
    await _add(
        session,
        event,
        person_id=data.person_id,
        district=data.district,
        kind=EntryKind.appeal_received,
        occurred_at=moment(data.received_date, event.time),
        source="assessment",
        reference=data.appeal_id,
        details={
            "decision_id": str(data.decision_id),
            "received_date": data.received_date.isoformat(),
            "late": data.late,
        },
    )


async def on_appeal_decided(session: AsyncSession, event: CloudEvent, data: AppealDecided) -> None:
    await _add(
        session,
        event,
        person_id=data.person_id,
        district=data.district,
        kind=EntryKind.appeal_decided,
        occurred_at=moment(data.decided_date, event.time),
        source="assessment",
        reference=data.appeal_id,
        details={
            "decision_id": str(data.decision_id),
            "stage": data.stage,
            "outcome": data.outcome,
            "decided_date": data.decided_date.isoformat(),
            "forwarded": data.forwarded,
            "new_decision_id": _iso(data.new_decision_id),
        },
    )


async def on_order_created(session: AsyncSession, event: CloudEvent, data: OrderCreated) -> None:
    # The order carries no district; its decision's, when pathway knows the decision already.
    district = await DecisionRepository(session).district_of(data.decision_id)
    await _add(
        session,
        event,
        person_id=data.person_id,
        district=district,
        kind=EntryKind.order_created,
        occurred_at=data.created_at,
        source="notifications",
        reference=data.order_id,
        details={
            "decision_id": str(data.decision_id),
            "decision_version": data.decision_version,
            "provider_org": data.provider_org,
        },
    )


ASSESSMENT: list[Subscription[Any]] = [
    Subscription(REFERRAL_RECEIVED, on_referral_received),
    Subscription(APPLICATION_REGISTERED, on_application_registered),
    Subscription(ASSESSMENT_COMPLETED, on_assessment_completed),
    Subscription(DECISION_MADE, on_decision_made),
    Subscription(DECISION_AMENDED, on_decision_amended),
    Subscription(DECISION_ENDED, on_decision_ended),
    Subscription(PROVIDER_CHOSEN, on_provider_chosen),
    Subscription(APPEAL_RECEIVED, on_appeal_received),
    Subscription(APPEAL_DECIDED, on_appeal_decided),
]
NOTIFICATIONS: list[Subscription[Any]] = [Subscription(ORDER_CREATED, on_order_created)]
