"""Use cases of pathway assignments: issue, read, end, and end when a decision replaces one.

In Stavanger's pathway 1 the case office sends the provider the assignment before any
decision (DOMAIN § 2, step 3; § 5). The provider gets it as an ordinary order (basis
"assignment", keyed by the assignment's id), delivers and reports visits against it. An
assignment runs at most 14 days; it is not a decision, so pathway's day-14 rule still asks
for one if measures run on. It ends by hand, when a decision for the same provider is made
(`end_superseded`, called by the decision's make path), or runs out on its end date (the
order carries the end date; reads show it as expired; no event is sent).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from hjemflyt.assessment.assignments import events, rules
from hjemflyt.assessment.assignments.models import Assignment
from hjemflyt.assessment.assignments.repository import AssignmentRepository
from hjemflyt.assessment.assignments.schemas import (
    AssignmentEndIn,
    AssignmentIn,
    AssignmentMeasureOut,
    AssignmentOut,
    AssignmentServiceOut,
)
from hjemflyt.assessment.decisions.catalogue import Catalogue
from hjemflyt.assessment.decisions.repository import DecisionRepository
from hjemflyt.assessment.decisions.rules import MeasureFacts, ScopeKind
from hjemflyt.assessment.districts.repository import DistrictRepository
from hjemflyt.assessment.persons import service as persons
from hjemflyt.assessment.providers.repository import ProviderRepository
from hjemflyt.shared.platform.audit import Action
from hjemflyt.shared.platform.auth import Principal
from hjemflyt.shared.platform.context import ServiceContext
from hjemflyt.shared.platform.errors import Conflict, NotFound, RuleViolation

if TYPE_CHECKING:
    from hjemflyt.assessment.decisions.models import Decision

PURPOSE = "case handling"


def to_out(a: Assignment, catalogue: Catalogue, today: date) -> AssignmentOut:
    return AssignmentOut(
        id=a.id,
        version=a.version,
        status=rules.effective_status(rules.Status(a.status), a.end_date, today),
        person_id=a.person_id,
        district=a.district,
        provider_org=a.provider_org,
        pathway_id=a.pathway_id,
        services=[
            AssignmentServiceOut(
                service_type=s["service_type"],
                service_name=catalogue.name(s["service_type"]),
                service_code=s["service_code"],
                hours_per_month=Decimal(s["hours_per_month"]),
                measures=[AssignmentMeasureOut(**m) for m in s["measures"]],
            )
            for s in a.services
        ],
        purpose=a.purpose,
        user_goal=a.user_goal,
        start_date=a.start_date,
        end_date=a.end_date,
        planned_end_date=a.planned_end_date,
        end_reason=a.end_reason,
        superseded_by=a.superseded_by,
        created_by=a.created_by,
        created_at=a.created_at,
        ended_at=a.ended_at,
    )


def _refuse(violations: list[rules.Violation]) -> RuleViolation:
    broken = sorted({v.rule for v in violations})
    return RuleViolation(
        "The assignment cannot be sent: " + ", ".join(broken) + ".",
        slug=rules.refusal_slug(violations),
        violations=[{"rule": v.rule, "message": v.message, "field": v.field} for v in violations],
    )


async def _log(
    ctx: ServiceContext,
    session: AsyncSession,
    principal: Principal,
    a: Assignment,
    action: Action,
    purpose: str = PURPOSE,
) -> None:
    await ctx.access_log.record(
        session,
        principal,
        action=action,
        resource="assignment",
        person_ids=[a.person_id],
        purpose=purpose,
        resource_id=str(a.id),
    )


async def create(
    ctx: ServiceContext, session: AsyncSession, principal: Principal, body: AssignmentIn
) -> AssignmentOut:
    found = await DecisionRepository(session).person_with_district(principal, body.person_id)
    if found is None:
        raise NotFound("No such person.")
    person_row, district, token, _ = found
    await ctx.access_log.record(
        session,
        principal,
        action=Action.read,
        resource="person",
        person_ids=[person_row.id],
        purpose="issuing an assignment",
        resource_id=str(person_row.id),
    )
    catalogue = await Catalogue.load(ctx, session, token=token)
    approved = await ProviderRepository(session).get_many({body.provider_org})
    today = ctx.clock.today()
    # Codes resolved as decisions resolve them (a code alone reads as the catalogue's name);
    # minutes only where given: an assignment's scope is hours per month.
    stated = {
        s.service_type: [catalogue.measure(m, ScopeKind.hours_per_month) for m in s.measures]
        for s in body.services
    }
    measures = {
        service_type: tuple(MeasureFacts(m.description, m.times, m.per, m.minutes, m.code) for m in listed)
        for service_type, listed in stated.items()
    }
    violations = rules.check(
        rules.AssignmentFacts(
            provider_org=body.provider_org,
            district=person_row.district,
            start_date=body.start_date,
            end_date=body.end_date,
            services=[rules.ServiceFacts(s.service_type, measures[s.service_type]) for s in body.services],
        ),
        rules.CatalogueFacts(
            service_types=catalogue.active_types,
            providers={o: (frozenset(p.service_codes), frozenset(p.districts)) for o, p in approved.items()},
            measures=catalogue.active_measures,
        ),
        today,
    )
    if violations:
        raise _refuse(violations)
    repo = AssignmentRepository(session)
    if await repo.running(person_row.id, today, {body.provider_org}):
        raise Conflict(
            f"The person has a running assignment with {body.provider_org}; end it first.",
            slug="assignment-running",
        )
    now = ctx.clock.now()
    services: list[dict[str, Any]] = [
        {
            "service_type": s.service_type,
            "service_code": catalogue.active_types[s.service_type],
            "hours_per_month": str(rules.hours_per_month(measures[s.service_type])),
            "measures": [m.model_dump(mode="json") for m in stated[s.service_type]],
        }
        for s in body.services
    ]
    a = await repo.add(
        Assignment(
            id=uuid.uuid4(),
            version=1,
            person_id=person_row.id,
            district=person_row.district,
            provider_org=body.provider_org,
            pathway_id=body.pathway_id,
            status=rules.Status.issued.value,
            services=services,
            purpose=body.purpose,
            user_goal=body.user_goal,
            start_date=body.start_date,
            end_date=body.end_date,
            planned_end_date=body.end_date,
            created_by=principal.subject,
            created_at=now,
            updated_at=now,
        )
    )
    await _log(ctx, session, principal, a, Action.create)
    person = persons.to_out(person_row, ctx.cipher)
    decided = events.decided_services(a, catalogue.name)
    await ctx.outbox.add_many(
        session,
        [
            events.issued_event(a, decided),
            events.order_event(
                ctx,
                a,
                person,
                decided,
                kind="new",
                case_office=district.case_office if district else None,
                organisation_model=district.organisation_model if district else None,
            ),
        ],
    )
    return to_out(a, catalogue, today)


async def _load(
    session: AsyncSession, principal: Principal, assignment_id: uuid.UUID, *, for_update: bool = False
) -> Assignment:
    a = await AssignmentRepository(session).get(principal, assignment_id, for_update=for_update)
    if a is None:
        raise NotFound("No such assignment.")
    return a


async def get(
    ctx: ServiceContext, session: AsyncSession, principal: Principal, assignment_id: uuid.UUID, purpose: str
) -> AssignmentOut:
    a = await _load(session, principal, assignment_id)
    await _log(ctx, session, principal, a, Action.read, purpose)
    return to_out(a, await Catalogue.load(ctx, session), ctx.clock.today())


async def for_person(
    ctx: ServiceContext, session: AsyncSession, principal: Principal, person_id: uuid.UUID
) -> Sequence[AssignmentOut]:
    found = await AssignmentRepository(session).for_person(principal, person_id)
    if found:
        await ctx.access_log.record(
            session,
            principal,
            action=Action.read,
            resource="assignment-list",
            person_ids=[person_id],
            purpose=PURPOSE,
        )
    catalogue = await Catalogue.load(ctx, session)
    return [to_out(a, catalogue, ctx.clock.today()) for a in found]


async def _finish(
    ctx: ServiceContext,
    session: AsyncSession,
    principal: Principal,
    a: Assignment,
    *,
    end_date: date,
    reason: rules.EndReason,
    superseded_by: uuid.UUID | None = None,
) -> Assignment:
    """End the assignment: version 2, the provider's order ended, `assignment.ended`."""
    now = ctx.clock.now()
    a.status = rules.Status.ended.value
    a.version += 1
    a.end_date = end_date
    a.end_reason = reason.value
    a.superseded_by = superseded_by
    a.ended_by = principal.subject
    a.ended_at = now
    a.updated_at = now
    await session.flush()
    await _log(ctx, session, principal, a, Action.update)
    catalogue = await Catalogue.load(ctx, session)
    person = await persons.get(ctx, session, principal, a.person_id, purpose="ending an assignment order")
    district = await DistrictRepository(session).get(a.district)
    await ctx.outbox.add_many(
        session,
        [
            events.ended_event(a),
            events.order_event(
                ctx,
                a,
                person,
                events.decided_services(a, catalogue.name),
                kind="ended",
                case_office=district.case_office if district else None,
                organisation_model=district.organisation_model if district else None,
            ),
        ],
    )
    return a


async def end(
    ctx: ServiceContext,
    session: AsyncSession,
    principal: Principal,
    assignment_id: uuid.UUID,
    body: AssignmentEndIn,
) -> AssignmentOut:
    a = await _load(session, principal, assignment_id, for_update=True)
    today = ctx.clock.today()
    status = rules.effective_status(rules.Status(a.status), a.end_date, today)
    if status != rules.Status.issued:
        raise Conflict(f"The assignment has {status.value} already.", slug=f"assignment-{status.value}")
    end_date = body.end_date or today
    problem = rules.check_end(a.start_date, a.end_date, end_date)
    if problem is not None:
        raise RuleViolation(problem.message, slug=problem.rule)
    await _finish(ctx, session, principal, a, end_date=end_date, reason=rules.EndReason(body.reason))
    return to_out(a, await Catalogue.load(ctx, session), today)


async def end_superseded(
    ctx: ServiceContext, session: AsyncSession, principal: Principal, decision: Decision
) -> int:
    """A decision was made for the person: each running assignment with a provider the
    decision grants services to ends the day before the decision starts, superseded by it;
    the provider's assignment order ends (the decision's own order replaces it). Returns
    how many ended. Called by decisions' make path (`_after_made`)."""
    providers = {s.provider_org for s in decision.services if s.provider_org and s.outcome != "refused"}
    if not providers:
        return 0
    today = ctx.clock.today()
    running = await AssignmentRepository(session).running(decision.person_id, today, providers)
    for a in running:
        last = rules.superseded_end(a.start_date, a.end_date, decision.start_date, today)
        await _finish(
            ctx,
            session,
            principal,
            a,
            end_date=last,
            reason=rules.EndReason.superseded,
            superseded_by=decision.id,
        )
    return len(running)
