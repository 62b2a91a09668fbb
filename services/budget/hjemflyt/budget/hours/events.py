"""Consumed: decisions through their life (decided hours) and the provider registry (unit names).

Only granted and partly granted services with hours count. A decision's versions replace
each other (stale versions are ignored); an ended decision stops counting for good; a
provider choice moves the service's hours to the chosen provider.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from hjemflyt.budget.hours.repository import HoursRepository
from hjemflyt.budget.hours.rules import counted_services
from hjemflyt.shared.contracts.envelope import CloudEvent
from hjemflyt.shared.contracts.events import (
    DECISION_AMENDED,
    DECISION_ENDED,
    DECISION_MADE,
    PROVIDER_CHOSEN,
    PROVIDER_REGISTERED,
    DecisionAmended,
    DecisionEnded,
    DecisionMade,
    ProviderChosen,
    ProviderRegistered,
)
from hjemflyt.shared.platform.consumer import Subscription


async def on_decision_made(session: AsyncSession, event: CloudEvent, data: DecisionMade) -> None:
    await HoursRepository(session).apply(
        decision_id=data.decision_id,
        version=data.version,
        person_id=data.person_id,
        district=data.district,
        start_date=data.start_date,
        end_date=data.end_date,
        services=counted_services(data.services),
        age_band=data.age_band,
    )


async def on_decision_amended(session: AsyncSession, event: CloudEvent, data: DecisionAmended) -> None:
    await HoursRepository(session).apply(
        decision_id=data.decision_id,
        version=data.version,
        person_id=data.person_id,
        district=data.district,
        start_date=data.start_date,
        end_date=data.end_date,
        services=counted_services(data.services),
        age_band=data.age_band,
    )


async def on_decision_ended(session: AsyncSession, event: CloudEvent, data: DecisionEnded) -> None:
    await HoursRepository(session).end(
        decision_id=data.decision_id,
        version=data.version,
        person_id=data.person_id,
        district=data.district,
        end_date=data.end_date,
        ended_at=data.ended_at,
    )


async def on_provider_chosen(session: AsyncSession, event: CloudEvent, data: ProviderChosen) -> None:
    if data.provider_org is None:
        return  # informed of the choice, not chosen yet: the hours stay where they are
    await HoursRepository(session).choose_provider(
        decision_id=data.decision_id,
        service_type=data.service_type,
        service_code=data.service_code,
        provider_org=data.provider_org,
        chosen_date=data.chosen_date or data.informed_date,
    )


async def on_provider_registered(session: AsyncSession, event: CloudEvent, data: ProviderRegistered) -> None:
    await HoursRepository(session).upsert_unit(
        {
            "provider_org": data.provider_org,
            "name": data.name,
            "kind": data.kind.value,
            "version": data.version,
            "contract_prices_ore_per_hour": data.contract_prices_ore_per_hour,
            "agreement_valid_from": data.agreement_valid_from,
            "agreement_valid_to": data.agreement_valid_to,
        }
    )


ASSESSMENT: list[Subscription[Any]] = [
    Subscription(DECISION_MADE, on_decision_made),
    Subscription(DECISION_AMENDED, on_decision_amended),
    Subscription(DECISION_ENDED, on_decision_ended),
    Subscription(PROVIDER_CHOSEN, on_provider_chosen),
]
NOTIFICATIONS: list[Subscription[Any]] = [Subscription(PROVIDER_REGISTERED, on_provider_registered)]
