"""Consumed: the events that open, feed and close pathways.

Rules (DOMAIN § 5):

- `referral.received`: remembered (a pathway's dates may not be before its referral). A
  referral from a hospital opens pathway 1 (mastery after hospital) unless the person has
  a pathway open; other referrals open nothing: the case officer picks the kind by hand
  (`POST /v1/pathways`) after the assessment. A referral arriving after a pathway opened
  without one is linked to it if it is not dated after the opening.
- `person.discharged`: opens pathway 1 dated the discharge day unless the person has any
  pathway open (someone already follows them).
- `person.admitted`: not consumed. The deadline keeps running during a stay: a pause
  would hide exactly the forgotten closures the deadlines exist to find; a long stay shows
  as overdue and the case officer closes or corrects.
- `decision.made` / `decision.amended`: `has_active_services` recomputed from the
  decisions read model; a decision made during the pathway that runs past its decision
  deadline satisfies the requirement and closes a decision task.
- `decision.ended`: `has_active_services` recomputed; with reason `masters_daily_life` it
  closes the person's open pathways 0-2 as `masters_daily_life.reported` does.
- `assignment.issued` / `assignment.ended`: `has_active_services` recomputed (the
  assignments read model counts, its handler runs first). An assignment is not a decision:
  it never satisfies the requirement, so pathway 1 with an assignment running at day 14 and
  no decision gets its `decision_required` task.
- `masters_daily_life.reported` (notifications): closes the person's open pathways 0-2
  opened on or before the observation: `no_services`, or `reduced` when other decisions
  go on running.

Idempotency: the inbox drops a redelivered event id; the same fact under another id opens
nothing twice (unique (source, source_ref) and one open pathway per person and kind);
closing acts only on open pathways; an event dated before a later pathway of the person
(out of order) opens nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from hjemflyt.pathway.pathways import service
from hjemflyt.pathway.pathways.models import Pathway
from hjemflyt.pathway.pathways.repository import PathwayRepository
from hjemflyt.pathway.pathways.rules import Kind, Source
from hjemflyt.shared.contracts.assignments import (
    ASSIGNMENT_ENDED,
    ASSIGNMENT_ISSUED,
    AssignmentEnded,
    AssignmentIssued,
)
from hjemflyt.shared.contracts.envelope import CloudEvent
from hjemflyt.shared.contracts.events import (
    DECISION_AMENDED,
    DECISION_ENDED,
    DECISION_MADE,
    PERSON_DISCHARGED,
    REFERRAL_RECEIVED,
    DecisionAmended,
    DecisionEnded,
    DecisionMade,
    PersonDischarged,
    ReferralReceived,
)
from hjemflyt.shared.contracts.reports import MASTERS_DAILY_LIFE_REPORTED, MastersDailyLifeReported
from hjemflyt.shared.platform.clock import OSLO
from hjemflyt.shared.platform.consumer import Subscription
from hjemflyt.shared.platform.context import ServiceContext

HOSPITAL = "hospital"
MASTERS = "masters_daily_life"


def assessment(ctx: ServiceContext) -> list[Subscription[Any]]:
    async def on_referral_received(session: AsyncSession, event: CloudEvent, data: ReferralReceived) -> None:
        repo = PathwayRepository(session)
        received_on = data.received_at.astimezone(OSLO).date()
        await repo.add_referral(
            {
                "referral_id": data.referral_id,
                "person_id": data.person_id,
                "district": data.district,
                "source": data.source,
                "received_on": received_on,
                "received_at": data.received_at,
            }
        )
        referral = await repo.referral(data.referral_id)
        assert referral is not None
        open_now = await repo.open_for_person(data.person_id, lock=True)
        _link_referral(open_now, referral.referral_id, received_on)
        if data.source != HOSPITAL or open_now or await repo.opened_after(data.person_id, received_on):
            return
        await service.open_pathway(
            ctx,
            session,
            person_id=data.person_id,
            district=data.district,
            kind=Kind.mastery_two_weeks,
            opened_on=min(received_on, ctx.clock.today()),
            source=Source.referral,
            source_ref=data.referral_id,
            referral=referral,
        )

    async def on_person_discharged(session: AsyncSession, event: CloudEvent, data: PersonDischarged) -> None:
        repo = PathwayRepository(session)
        day = min(data.discharged_at.astimezone(OSLO).date(), ctx.clock.today())
        if await repo.open_for_person(data.person_id) or await repo.opened_after(data.person_id, day):
            return
        referral = await repo.latest_referral(data.person_id)
        if referral is not None and referral.received_on > day:
            referral = None
        await service.open_pathway(
            ctx,
            session,
            person_id=data.person_id,
            district=data.district,
            kind=Kind.mastery_two_weeks,
            opened_on=day,
            source=Source.discharge,
            source_ref=data.admission_id,
            referral=referral,
        )

    async def on_decision_made(session: AsyncSession, event: CloudEvent, data: DecisionMade) -> None:
        await service.decision_arrived(ctx, session, data.person_id, data.decision_date, data.end_date)

    async def on_decision_amended(session: AsyncSession, event: CloudEvent, data: DecisionAmended) -> None:
        # An amendment is in the person's favour; it counts from the day it was made.
        await service.decision_arrived(
            ctx, session, data.person_id, data.amended_at.astimezone(OSLO).date(), data.end_date
        )

    async def on_decision_ended(session: AsyncSession, event: CloudEvent, data: DecisionEnded) -> None:
        # The decisions read model has marked it ended already (its handler runs first).
        running = await service.refresh_services(ctx, session, data.person_id)
        if data.reason == MASTERS:
            await service.masters_daily_life(
                ctx, session, data.person_id, data.end_date, running, DECISION_ENDED.name
            )

    async def on_assignment(
        session: AsyncSession, event: CloudEvent, data: AssignmentIssued | AssignmentEnded
    ) -> None:
        await service.refresh_services(ctx, session, data.person_id)

    return [
        Subscription(REFERRAL_RECEIVED, on_referral_received),
        Subscription(PERSON_DISCHARGED, on_person_discharged),
        Subscription(DECISION_MADE, on_decision_made),
        Subscription(DECISION_AMENDED, on_decision_amended),
        Subscription(DECISION_ENDED, on_decision_ended),
        Subscription(ASSIGNMENT_ISSUED, on_assignment),
        Subscription(ASSIGNMENT_ENDED, on_assignment),
    ]


def _link_referral(open_now: Sequence[Pathway], referral_id: UUID, received_on: date) -> None:
    """A referral arriving late belongs to the open pathways opened without one on or after its day."""
    for pathway in open_now:
        if pathway.referral_id is None and received_on <= pathway.opened_on:
            pathway.referral_id, pathway.referral_on = referral_id, received_on


def notifications(ctx: ServiceContext) -> list[Subscription[Any]]:
    async def on_masters_daily_life(
        session: AsyncSession, event: CloudEvent, data: MastersDailyLifeReported
    ) -> None:
        running = await PathwayRepository(session).active_decisions(data.person_id, ctx.clock.today())
        # The decision the report is about still runs until the case office ends it.
        await service.masters_daily_life(
            ctx, session, data.person_id, data.observed_on, running - 1, MASTERS_DAILY_LIFE_REPORTED.name
        )

    return [Subscription(MASTERS_DAILY_LIFE_REPORTED, on_masters_daily_life)]
