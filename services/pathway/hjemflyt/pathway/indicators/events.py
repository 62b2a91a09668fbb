"""Consumed: the facts behind the indicators.

From assessment: referrals, decisions (made, amended, ended) and appeal decisions; from
notifications: reported visits (each chunk of up to 1,000 in one statement).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from hjemflyt.pathway.indicators.repository import FactRepository, Visit
from hjemflyt.pathway.indicators.rules import oslo_date
from hjemflyt.shared.contracts.envelope import CloudEvent
from hjemflyt.shared.contracts.events import (
    APPEAL_DECIDED,
    DECISION_AMENDED,
    DECISION_ENDED,
    DECISION_MADE,
    REFERRAL_RECEIVED,
    AppealDecided,
    DecisionAmended,
    DecisionEnded,
    DecisionMade,
    ReferralReceived,
)
from hjemflyt.shared.contracts.reports import VISITS_REPORTED, VisitsReported
from hjemflyt.shared.platform.consumer import Subscription


async def on_referral_received(session: AsyncSession, event: CloudEvent, data: ReferralReceived) -> None:
    await FactRepository(session).record_referral(
        {
            "referral_id": data.referral_id,
            "person_id": data.person_id,
            "district": data.district,
            "received_date": oslo_date(data.received_at),
        }
    )


def _codes(data: DecisionMade | DecisionAmended) -> list[str]:
    # Refused services are decided but not given: they make no one a user of them.
    return sorted({s.service_code for s in data.services if s.outcome != "refused"})


async def on_decision_made(session: AsyncSession, event: CloudEvent, data: DecisionMade) -> None:
    await FactRepository(session).record_decision_version(
        {
            "decision_id": data.decision_id,
            "person_id": data.person_id,
            "district": data.district,
            "decision_date": data.decision_date,
            "content_version": data.version,
            "start_date": data.start_date,
            "end_date": data.end_date,
            "evaluation_date": data.evaluation_date,
            "service_codes": _codes(data),
        }
    )


async def on_decision_amended(session: AsyncSession, event: CloudEvent, data: DecisionAmended) -> None:
    await FactRepository(session).record_decision_version(
        {
            "decision_id": data.decision_id,
            "person_id": data.person_id,
            "district": data.district,
            "decision_date": None,
            "content_version": data.version,
            "start_date": data.start_date,
            "end_date": data.end_date,
            "evaluation_date": data.evaluation_date,
            "service_codes": _codes(data),
        }
    )


async def on_decision_ended(session: AsyncSession, event: CloudEvent, data: DecisionEnded) -> None:
    await FactRepository(session).record_decision_end(
        data.decision_id, data.person_id, data.district, data.end_date
    )


async def on_appeal_decided(session: AsyncSession, event: CloudEvent, data: AppealDecided) -> None:
    await FactRepository(session).record_appeal(
        {
            "appeal_id": data.appeal_id,
            "stage": data.stage,
            "district": data.district,
            "outcome": data.outcome,
            "decided_date": data.decided_date,
        }
    )


async def on_visits_reported(session: AsyncSession, event: CloudEvent, data: VisitsReported) -> None:
    visits = [
        Visit(
            visit_id=v.visit_id,
            person_id=v.person_id,
            district=v.district,
            # The day the visit happened in Norway; planned, when it did not happen.
            visit_date=oslo_date(v.actual_start or v.planned_start),
            staff_id=v.staff_id,
            cancelled=v.cancelled,
        )
        for v in data.visits
    ]
    await FactRepository(session).record_visits(data.provider_org, visits, data.reported_at)


ASSESSMENT: list[Subscription[Any]] = [
    Subscription(REFERRAL_RECEIVED, on_referral_received),
    Subscription(DECISION_MADE, on_decision_made),
    Subscription(DECISION_AMENDED, on_decision_amended),
    Subscription(DECISION_ENDED, on_decision_ended),
    Subscription(APPEAL_DECIDED, on_appeal_decided),
]
NOTIFICATIONS: list[Subscription[Any]] = [Subscription(VISITS_REPORTED, on_visits_reported)]
