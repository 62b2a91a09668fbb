"""Reading decisions: one, a person's, their versions and provider choices, what a draft
still misses, and the evaluation worklist; each read of a person's data is access-logged."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from hjemflyt.assessment.decisions.catalogue import Catalogue
from hjemflyt.assessment.decisions.models import Decision, DecisionVersion, ProviderChoice
from hjemflyt.assessment.decisions.recording import PURPOSE, broken_rules, load
from hjemflyt.assessment.decisions.repository import DecisionRepository
from hjemflyt.assessment.decisions.schemas import Completeness, DecisionOut
from hjemflyt.assessment.decisions.views import to_out
from hjemflyt.shared.platform.audit import Action, LoggedRead
from hjemflyt.shared.platform.auth import Principal
from hjemflyt.shared.platform.context import ServiceContext


async def completeness(
    ctx: ServiceContext,
    session: AsyncSession,
    principal: Principal,
    decision_id: uuid.UUID,
    log_read: LoggedRead,
) -> Completeness:
    decision = await load(session, principal, decision_id)
    violations = await broken_rules(session, decision, await Catalogue.load(ctx, session))
    # What is missing from a person's decision is read from it: logged like the decision.
    await log_read("decision-completeness", [decision.person_id], resource_id=str(decision.id))
    return Completeness(
        complete=not violations,
        missing=[{"rule": v.rule, "message": v.message, "field": v.field} for v in violations],
    )


async def get(
    ctx: ServiceContext,
    session: AsyncSession,
    principal: Principal,
    decision_id: uuid.UUID,
    purpose: str = PURPOSE,
) -> DecisionOut:
    decision = await load(session, principal, decision_id)
    await ctx.access_log.record(
        session,
        principal,
        action=Action.read,
        resource="decision",
        person_ids=[decision.person_id],
        purpose=purpose,
        resource_id=str(decision.id),
    )
    return to_out(decision, await Catalogue.load(ctx, session))


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
            purpose=PURPOSE,
        )
    catalogue = await Catalogue.load(ctx, session)
    return [to_out(d, catalogue) for d in decisions]


async def versions(
    session: AsyncSession, principal: Principal, decision_id: uuid.UUID, log_read: LoggedRead
) -> Sequence[DecisionVersion]:
    decision = await load(session, principal, decision_id)
    found = await DecisionRepository(session).versions(decision_id)
    if found:
        await log_read("decision-versions", [decision.person_id], resource_id=str(decision.id))
    return found


async def choices(
    session: AsyncSession, principal: Principal, decision_id: uuid.UUID, log_read: LoggedRead
) -> Sequence[ProviderChoice]:
    decision = await load(session, principal, decision_id)
    found = await DecisionRepository(session).choices(decision_id)
    if found:
        await log_read("provider-choices", [decision.person_id], resource_id=str(decision.id))
    return found


async def evaluations_due(
    ctx: ServiceContext,
    session: AsyncSession,
    principal: Principal,
    log_read: LoggedRead,
    *,
    within_days: int,
    limit: int,
    after: tuple[date, uuid.UUID] | None,
) -> tuple[Sequence[Decision], list[DecisionOut]]:
    """The reassessment backlog: whole decisions of many persons, each person logged."""
    by = ctx.clock.today() + timedelta(days=within_days)
    found = await DecisionRepository(session).evaluations_due(principal, by, limit=limit, after=after)
    await log_read.rows("evaluations-due", found)
    catalogue = await Catalogue.load(ctx, session)
    return found, [to_out(d, catalogue) for d in found]
