"""The facts a snooping review needs about each person, from the case office's own records:
their districts, who worked on their cases, which providers serve them, and when a case was
open. Read for review only: never scoped by the auditor's districts (an auditor sees all)."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Collection
from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import CompoundSelect, Select, literal, select, union_all
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


def _rows(model: Any, ids: list[uuid.UUID], *columns: Any) -> Select[Any]:
    return select(model.person_id, *columns).where(model.person_id.in_(ids))


async def _worked(
    session: AsyncSession, ids: list[uuid.UUID]
) -> list[tuple[uuid.UUID, str | None, str | None]]:
    """Who worked on the person's cases, and in which districts."""
    worked: CompoundSelect[Any] = union_all(
        select(Person.id, Person.district, Person.created_by).where(Person.id.in_(ids)),
        _rows(Referral, ids, Referral.district, Referral.registered_by),
        _rows(Application, ids, Application.district, Application.registered_by),
        _rows(Assessment, ids, Assessment.district, Assessment.created_by),
        _rows(Decision, ids, Decision.district, Decision.created_by),
        _rows(Decision, ids, Decision.district, Decision.made_by),
        _rows(Appeal, ids, Appeal.district, Appeal.registered_by),
        _rows(Assignment, ids, Assignment.district, Assignment.created_by),
        _rows(ProviderChoice, ids, literal(None), ProviderChoice.informed_by),
        select(Decision.person_id, literal(None), DecisionVersion.changed_by)
        .join(Decision, Decision.id == DecisionVersion.decision_id)
        .where(Decision.person_id.in_(ids)),
    )
    return [(p, d, s) for p, d, s in await session.execute(worked)]


async def _served(session: AsyncSession, ids: list[uuid.UUID]) -> list[tuple[uuid.UUID, str | None]]:
    """The providers chosen or assigned for the person."""
    served: CompoundSelect[Any] = union_all(
        _rows(ProviderChoice, ids, ProviderChoice.provider_org),
        _rows(Assignment, ids, Assignment.provider_org),
        select(Decision.person_id, DecisionService.provider_org)
        .join(Decision, Decision.id == DecisionService.decision_id)
        .where(Decision.person_id.in_(ids)),
    )
    return [(p, org) for p, org in await session.execute(served)]


async def _periods(session: AsyncSession, ids: list[uuid.UUID]) -> list[tuple[uuid.UUID, CasePeriod]]:
    """When a case was open: from its first record to its close (None: still open)."""
    found: list[tuple[uuid.UUID, CasePeriod]] = []
    for pid, start, status in await session.execute(
        _rows(Referral, ids, Referral.received_at, Referral.status)
    ):
        found.append((pid, CasePeriod(start, None if status == "received" else start)))
    applications = _rows(Application, ids, Application.created_at, Application.decided_at, Application.status)
    for pid, start, decided_at, status in await session.execute(applications):
        open_ = status in ("received", "assessing")
        found.append((pid, CasePeriod(start, None if open_ else (decided_at or start))))
    assessments = _rows(Assessment, ids, Assessment.created_at, Assessment.completed_at)
    found += [(pid, CasePeriod(start, done)) for pid, start, done in await session.execute(assessments)]
    decisions = _rows(Decision, ids, Decision.created_at, Decision.ended_at, Decision.end_date)
    for pid, start, ended_at, end_date in await session.execute(decisions):
        found.append((pid, CasePeriod(start, ended_at or _day(end_date))))
    appeals = _rows(Appeal, ids, Appeal.created_at, Appeal.received_date, Appeal.final_date, Appeal.status)
    for pid, start, received, final, status in await session.execute(appeals):
        begun = min(start, _day(received) or start)
        found.append((pid, CasePeriod(begun, None if status != "closed" else (_day(final) or start))))
    assignments = _rows(Assignment, ids, Assignment.created_at, Assignment.end_date)
    found += [(pid, CasePeriod(start, _day(end))) for pid, start, end in await session.execute(assignments)]
    # Registering the person is a case's start.
    registered = select(Person.id, Person.created_at).where(Person.id.in_(ids))
    found += [(pid, CasePeriod(at, at)) for pid, at in await session.execute(registered)]
    return found


async def remits(session: AsyncSession, person_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, Remit]:
    if not person_ids:
        return {}
    ids = list(person_ids)
    districts: defaultdict[uuid.UUID, set[str]] = defaultdict(set)
    handlers: defaultdict[uuid.UUID, set[str]] = defaultdict(set)
    providers: defaultdict[uuid.UUID, set[str]] = defaultdict(set)
    periods: defaultdict[uuid.UUID, list[CasePeriod]] = defaultdict(list)
    for pid, district, subject in await _worked(session, ids):
        if district:
            districts[pid].add(district)
        if subject:
            handlers[pid].add(subject)
    for pid, org in await _served(session, ids):
        if org:
            providers[pid].add(org)
    for pid, period in await _periods(session, ids):
        periods[pid].append(period)
    return {
        pid: Remit(
            districts=frozenset(districts[pid]),
            handlers=frozenset(handlers[pid]),
            providers=frozenset(providers[pid]),
            periods=tuple(periods[pid]),
        )
        for pid in ids
    }
