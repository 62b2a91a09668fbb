"""Consumed: every step of a person's case becomes a timeline entry (see `entries.py`).

One handler, `record`, writes the entry its table row describes; the few steps a row cannot
describe have their own handler below. Each entry is keyed by its event's id (and person):
a redelivered event adds nothing.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from hjemflyt.pathway.assignments.repository import AssignmentRepository
from hjemflyt.pathway.decisions.repository import DecisionRepository
from hjemflyt.pathway.timeline.entries import ENTRIES, TABLE
from hjemflyt.pathway.timeline.repository import TimelineRepository
from hjemflyt.shared.contracts.budget import DELIVERY_FLAGGED, DeliveryFlagged
from hjemflyt.shared.contracts.envelope import CloudEvent
from hjemflyt.shared.contracts.events import ORDER_CREATED, OrderCreated
from hjemflyt.shared.contracts.reports import VISITS_REPORTED, VisitsReported
from hjemflyt.shared.platform.consumer import Handler, Subscription


async def record(session: AsyncSession, event: CloudEvent, data: Any) -> None:
    """The entry of the event's table row, for the person the event is about."""
    entry = ENTRIES[event.type]
    if data.person_id is None:
        return  # a task about a routine or a provider, not about a person
    timeline = TimelineRepository(session)
    await timeline.add(entry.row(event, data, person_id=data.person_id, district=data.district))
    if entry.fills_district:
        await timeline.fill_district(data.person_id, getattr(data, entry.reference), data.district)


async def on_order_created(session: AsyncSession, event: CloudEvent, data: OrderCreated) -> None:
    # The order carries no district; its decision's (or assignment's), when pathway knows it already.
    district = await DecisionRepository(session).district_of(data.decision_id)
    district = district or await AssignmentRepository(session).district_of(data.decision_id)
    row = ENTRIES[ORDER_CREATED.name].row(event, data, person_id=data.person_id, district=district)
    await TimelineRepository(session).add(row)


async def on_visits_reported(session: AsyncSession, event: CloudEvent, data: VisitsReported) -> None:
    # One event holds many persons' visits: one entry for each person, with their visits.
    by_person: dict[uuid.UUID, list[dict[str, Any]]] = {}
    districts: dict[uuid.UUID, str] = {}
    for visit in data.visits:
        by_person.setdefault(visit.person_id, []).append(
            visit.model_dump(mode="json", exclude={"person_id", "district"})
        )
        districts.setdefault(visit.person_id, visit.district)
    entry = ENTRIES[VISITS_REPORTED.name]
    await TimelineRepository(session).add_many(
        [
            entry.row(
                event, data, person_id=person_id, district=districts[person_id], more={"visits": visits}
            )
            for person_id, visits in by_person.items()
        ]
    )


async def on_delivery_flagged(session: AsyncSession, event: CloudEvent, data: DeliveryFlagged) -> None:
    # Keyed by the flag, not the event: a flag is one fact however often it is published.
    await record(session, event.model_copy(update={"id": data.flag_id}), data)


_OWN_HANDLER: dict[str, Handler[Any]] = {
    ORDER_CREATED.name: on_order_created,
    VISITS_REPORTED.name: on_visits_reported,
    DELIVERY_FLAGGED.name: on_delivery_flagged,
}


def _subscriptions(producer: str) -> list[Subscription[Any]]:
    return [
        Subscription(entry.event_type, _OWN_HANDLER.get(entry.event_type.name, record))
        for entry in TABLE
        if entry.event_type.service == producer
    ]


ASSESSMENT = _subscriptions("assessment")
NOTIFICATIONS = _subscriptions("notifications")
BUDGET = _subscriptions("budget")
PATHWAY = _subscriptions("pathway")
