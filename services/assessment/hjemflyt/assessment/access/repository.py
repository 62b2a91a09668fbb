"""The facts a snooping review needs about each person, from the case office's own records:
their districts, who worked on their cases, which providers serve them, and when a case was
open. Read for review only: never scoped by the auditor's districts (an auditor sees all)."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Collection
from datetime import UTC, date, datetime, time

from sqlalchemy import Select, literal, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from hjemflyt.assessment.access.rules import CasePeriod, Remit
from hjemflyt.assessment.appeals.models import Appeal
from hjemflyt.assessment.assessments.models import Assessment
from hjemflyt.assessment.assignments.models import Assignment
from hjemflyt.assessment.decisions.models import Decision, DecisionService, DecisionVersion, ProviderChoice
from hjemflyt.assessment.persons.models import Person
from hjemflyt.assessment.referrals.models import Application, Referral


def _day(value: date | None) -> datetime | None:
    return None if value is None else datetime.combine(value, time.min, tzinfo=UTC)


async def remits(session: AsyncSession, person_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, Remit]:
    if not person_ids:
        return {}
    ids = list(person_ids)
    districts: defaultdict[uuid.UUID, set[str]] = defaultdict(set)
    handlers: defaultdict[uuid.UUID, set[str]] = defaultdict(set)
    providers: defaultdict[uuid.UUID, set[str]] = defaultdict(set)
    periods: defaultdict[uuid.UUID, list[CasePeriod]] = defaultdict(list)

    def rows(model: type, *columns: object) -> Select:  # type: ignore[type-arg]
        return select(model.person_id, *columns).where(model.person_id.in_(ids))  # type: ignore[attr-defined]

    # Who worked on the person's cases, and in which districts.
    worked = union_all(
        select(Person.id, Person.district, Person.created_by).where(Person.id.in_(ids)),
        rows(Referral, Referral.district, Referral.registered_by),
        rows(Application, Application.district, Application.registered_by),
        rows(Assessment, Assessment.district, Assessment.created_by),
        rows(Decision, Decision.district, Decision.created_by),
        rows(Decision, Decision.district, Decision.made_by),
        rows(Appeal, Appeal.district, Appeal.registered_by),
        rows(Assignment, Assignment.district, Assignment.created_by),
        rows(ProviderChoice, literal(None), ProviderChoice.informed_by),
        select(Decision.person_id, literal(None), DecisionVersion.changed_by)
        .join(Decision, Decision.id == DecisionVersion.decision_id)
        .where(Decision.person_id.in_(ids)),
    )
    for person_id, district, subject in await session.execute(worked):
        if district:
            districts[person_id].add(district)
        if subject:
            handlers[person_id].add(subject)

    served = union_all(
        rows(ProviderChoice, ProviderChoice.provider_org),
        rows(Assignment, Assignment.provider_org),
        select(Decision.person_id, DecisionService.provider_org)
        .join(Decision, Decision.id == DecisionService.decision_id)
        .where(Decision.person_id.in_(ids)),
    )
    for person_id, org in await session.execute(served):
        if org:
            providers[person_id].add(org)

    # When a case was open: from its first record to its close (None: still open).
    for person_id, start, status in await session.execute(
        rows(Referral, Referral.received_at, Referral.status)
    ):
        periods[person_id].append(CasePeriod(start, None if status == "received" else start))
    for person_id, start, decided_at, status in await session.execute(
        rows(Application, Application.created_at, Application.decided_at, Application.status)
    ):
        open_ = status in ("received", "assessing")
        periods[person_id].append(CasePeriod(start, None if open_ else (decided_at or start)))
    for person_id, start, completed_at in await session.execute(
        rows(Assessment, Assessment.created_at, Assessment.completed_at)
    ):
        periods[person_id].append(CasePeriod(start, completed_at))
    for person_id, start, ended_at, end_date in await session.execute(
        rows(Decision, Decision.created_at, Decision.ended_at, Decision.end_date)
    ):
        periods[person_id].append(CasePeriod(start, ended_at or _day(end_date)))
    for person_id, start, received, final, status in await session.execute(
        rows(Appeal, Appeal.created_at, Appeal.received_date, Appeal.final_date, Appeal.status)
    ):
        begun = min(start, _day(received) or start)
        periods[person_id].append(CasePeriod(begun, None if status != "closed" else (_day(final) or start)))
    for person_id, start, end_date in await session.execute(
        rows(Assignment, Assignment.created_at, Assignment.end_date)
    ):
        periods[person_id].append(CasePeriod(start, _day(end_date)))
    for person_id, created_at in await session.execute(
        select(Person.id, Person.created_at).where(Person.id.in_(ids))
    ):
        periods[person_id].append(CasePeriod(created_at, created_at))  # registering is a case's start

    return {
        pid: Remit(
            districts=frozenset(districts[pid]),
            handlers=frozenset(handlers[pid]),
            providers=frozenset(providers[pid]),
            periods=tuple(periods[pid]),
        )
        for pid in ids
    }
