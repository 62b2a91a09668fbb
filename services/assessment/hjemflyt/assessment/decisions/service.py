"""Use cases for decisions. The walking skeleton makes a decision in one step (made);
drafts, letters and the full lifecycle come with the assessment issue."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from hjemflyt.assessment.decisions import rules
from hjemflyt.assessment.decisions.events import publish_decision_made
from hjemflyt.assessment.decisions.models import Decision, DecisionService
from hjemflyt.assessment.decisions.repository import DecisionRepository
from hjemflyt.assessment.decisions.schemas import DecisionIn, DecisionOut, ServiceOut
from hjemflyt.assessment.districts.repository import DistrictRepository
from hjemflyt.assessment.persons import service as persons
from hjemflyt.assessment.providers.repository import ProviderRepository
from hjemflyt.shared.contracts.codes import IPLOS_SERVICES
from hjemflyt.shared.platform.audit import Action
from hjemflyt.shared.platform.auth import Principal
from hjemflyt.shared.platform.context import ServiceContext
from hjemflyt.shared.platform.errors import NotFound, RuleViolation


def to_out(decision: Decision) -> DecisionOut:
    return DecisionOut(
        id=decision.id,
        version=decision.version,
        person_id=decision.person_id,
        district=decision.district,
        status=decision.status,
        decision_date=decision.decision_date,
        start_date=decision.start_date,
        end_date=decision.end_date,
        evaluation_date=decision.evaluation_date,
        made_by=decision.made_by,
        made_at=decision.made_at,
        services=[
            ServiceOut(
                service_code=s.service_code,
                service_name=IPLOS_SERVICES[s.service_code].name_nb,
                # The same form whether read back from the database or just made.
                hours_per_month=Decimal(s.hours_per_month).quantize(Decimal("0.01")),
                provider_org=s.provider_org,
            )
            for s in sorted(decision.services, key=lambda s: s.service_code)
        ],
    )


async def make(
    ctx: ServiceContext, session: AsyncSession, principal: Principal, body: DecisionIn
) -> DecisionOut:
    person = await persons.get(ctx, session, principal, body.person_id, purpose="making a decision")
    requested = [
        rules.RequestedService(s.service_code, s.hours_per_month, s.provider_org) for s in body.services
    ]
    approved = await ProviderRepository(session).get_many({s.provider_org for s in requested})
    violations = rules.check_decision(
        district=person.district,
        start_date=body.start_date,
        end_date=body.end_date,
        evaluation_date=body.evaluation_date,
        services=requested,
        providers={
            org: rules.ProviderFacts(frozenset(p.service_codes), frozenset(p.districts))
            for org, p in approved.items()
        },
    )
    if violations:
        raise RuleViolation(
            "The decision breaks " + ", ".join(sorted({v.rule for v in violations})) + ".",
            slug="decision-incomplete" if len(violations) > 1 else violations[0].rule,
            violations=[{"rule": v.rule, "message": v.message, "field": v.field} for v in violations],
        )
    now = ctx.clock.now()
    decision = Decision(
        id=uuid.uuid4(),
        version=1,
        person_id=person.id,
        district=person.district,
        status="made",
        decision_date=ctx.clock.today(),
        start_date=body.start_date,
        end_date=body.end_date,
        evaluation_date=body.evaluation_date,
        made_by=principal.subject,
        made_at=now,
        services=[
            DecisionService(
                service_code=s.service_code, hours_per_month=s.hours_per_month, provider_org=s.provider_org
            )
            for s in requested
        ],
    )
    await DecisionRepository(session).add(decision)
    out = to_out(decision)
    district = await DistrictRepository(session).get(person.district)
    await publish_decision_made(
        ctx, session, decision, out.services, person, district.case_office if district else None
    )
    await ctx.access_log.record(
        session,
        principal,
        action=Action.create,
        resource="decision",
        person_ids=[person.id],
        purpose="making a decision",
        resource_id=str(decision.id),
    )
    return out


async def get(
    ctx: ServiceContext, session: AsyncSession, principal: Principal, decision_id: uuid.UUID
) -> DecisionOut:
    decision = await DecisionRepository(session).get(principal, decision_id)
    if decision is None:
        raise NotFound("No such decision.")
    await ctx.access_log.record(
        session,
        principal,
        action=Action.read,
        resource="decision",
        person_ids=[decision.person_id],
        purpose="case handling",
        resource_id=str(decision.id),
    )
    return to_out(decision)


async def for_person(
    ctx: ServiceContext, session: AsyncSession, principal: Principal, person_id: uuid.UUID
) -> Sequence[DecisionOut]:
    decisions = await DecisionRepository(session).for_person(principal, person_id)
    if decisions:
        await ctx.access_log.record(
            session,
            principal,
            action=Action.read,
            resource="decision-list",
            person_ids=[person_id],
            purpose="case handling",
        )
    return [to_out(d) for d in decisions]
