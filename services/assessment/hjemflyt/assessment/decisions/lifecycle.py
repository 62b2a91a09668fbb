"""A decision starts and ends: activation (by hand or by the sweep when its start date comes),
ending (by hand for a reason the law allows, by the sweep past its end date, or superseded by
a new decision), each with its version row, its event and, on ending, the ended orders."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from hjemflyt.assessment.decisions import events, rules
from hjemflyt.assessment.decisions.catalogue import Catalogue
from hjemflyt.assessment.decisions.models import Decision
from hjemflyt.assessment.decisions.recording import case_office_of, load_to_move, record
from hjemflyt.assessment.decisions.repository import DecisionRepository
from hjemflyt.assessment.decisions.rules import Status
from hjemflyt.assessment.decisions.schemas import DecisionOut, EndIn
from hjemflyt.assessment.decisions.views import snapshot, to_out
from hjemflyt.assessment.messaging import service as messaging
from hjemflyt.assessment.persons import service as persons
from hjemflyt.shared.platform.auth import Principal, Role
from hjemflyt.shared.platform.context import ServiceContext
from hjemflyt.shared.platform.errors import Conflict, RuleViolation


async def activate(
    ctx: ServiceContext,
    session: AsyncSession,
    principal: Principal,
    decision_id: uuid.UUID,
    if_match: str | None,
) -> DecisionOut:
    decision = await load_to_move(session, principal, decision_id, Status.active, if_match)
    if decision.start_date and decision.start_date > ctx.clock.today():
        raise Conflict(f"The decision starts on {decision.start_date}.", slug="not-started")
    return await _activate(ctx, session, principal, decision, await Catalogue.load(ctx, session))


async def _activate(
    ctx: ServiceContext, session: AsyncSession, principal: Principal, decision: Decision, catalogue: Catalogue
) -> DecisionOut:
    """Services have started: the version row and `decision.activated` (the provider is told)."""
    before = snapshot(to_out(decision, catalogue))
    decision.status = Status.active.value
    decision.activated_at = ctx.clock.now()
    decision.version += 1
    decision.updated_at = decision.activated_at
    await session.flush()
    out = await record(ctx, session, principal, decision, catalogue, "activated", before)
    await events.publish_activated(ctx, session, decision)
    return out


# --- the clock: decisions start and end on their own -----------------------------------

SWEEPER = "system:decision-sweep"


def sweeper(ctx: ServiceContext) -> Principal:
    """Who the sweep acts as: the municipality's own system, in every district."""
    return Principal(subject=SWEEPER, role=Role.integration, tenant=ctx.settings.tenant, all_districts=True)


async def activate_due(
    ctx: ServiceContext,
    session: AsyncSession,
    *,
    limit: int,
    skip: frozenset[uuid.UUID] = frozenset(),
    taken: list[uuid.UUID] | None = None,
) -> int:
    """Sent decisions whose start date has come become active. Only sent ones: a decision
    takes effect for the person when they have the letter; a made one that was never sent
    waits (the case office sends it, then the sweep or /activate starts it). `taken`
    collects each decision's id before it is moved (the sweep skips one that failed)."""
    principal = sweeper(ctx)
    repo = DecisionRepository(session)
    due = await repo.due(principal, activate_by=ctx.clock.today(), skip=skip, limit=limit)
    if due:
        catalogue = await Catalogue.load(ctx, session)
        for decision in due:
            if taken is not None:
                taken.append(decision.id)
            await _activate(ctx, session, principal, decision, catalogue)
    return len(due)


async def expire_due(
    ctx: ServiceContext,
    session: AsyncSession,
    *,
    limit: int,
    skip: frozenset[uuid.UUID] = frozenset(),
    taken: list[uuid.UUID] | None = None,
) -> int:
    """Running decisions past their end date (Norway's date) end with reason `expired`."""
    principal = sweeper(ctx)
    due = await DecisionRepository(session).due(
        principal, ended_before=ctx.clock.today(), skip=skip, limit=limit
    )
    for decision in due:
        assert decision.end_date is not None
        if taken is not None:
            taken.append(decision.id)
        await record_end(
            ctx, session, principal, decision.id, decision.end_date, rules.EndReason.expired.value
        )
    return len(due)


async def end(
    ctx: ServiceContext,
    session: AsyncSession,
    principal: Principal,
    decision_id: uuid.UUID,
    body: EndIn,
    if_match: str | None,
) -> DecisionOut:
    decision = await load_to_move(session, principal, decision_id, Status.ended, if_match)
    if decision.end_date is not None and body.end_date > decision.end_date:
        raise RuleViolation(
            f"The decision ends on {decision.end_date} already; a later end is an amendment of its end date.",
            slug="end-after-end-date",
        )
    if not rules.end_reason_allowed(body.reason, body.end_date, decision.end_date):
        allowed = ", ".join(sorted(rules.EARLY_END_REASONS))
        until = (
            f"before its end date {decision.end_date}" if decision.end_date else "while it runs indefinitely"
        )
        raise RuleViolation(
            f"A decision is ended {until} only for a reason the law allows ({allowed}); "
            f"{body.reason.value!r} is not one. A reduction needs a new decision (forvaltningsloven § 35).",
            slug="end-reason-not-allowed",
            allowed=sorted(rules.EARLY_END_REASONS),
        )
    return await record_end(ctx, session, principal, decision_id, body.end_date, body.reason.value)


async def record_end(
    ctx: ServiceContext,
    session: AsyncSession,
    principal: Principal,
    decision_id: uuid.UUID,
    end_date: date,
    reason: str,
    *,
    superseded_by: uuid.UUID | None = None,
) -> DecisionOut:
    decision = await load_to_move(session, principal, decision_id, Status.ended, None)
    # A superseded decision may end before it started: the new one replaced it in time.
    if reason != "superseded" and decision.start_date and end_date < decision.start_date - timedelta(days=1):
        raise RuleViolation("The end date is before the decision started.", slug="end-before-start")
    # Ending never lengthens a decision: superseded by one that starts after it ends, it
    # keeps its own end date.
    if decision.end_date is not None:
        end_date = min(end_date, decision.end_date)
    catalogue = await Catalogue.load(ctx, session)
    before_out = to_out(decision, catalogue)
    decision.status = Status.ended.value
    decision.end_date = end_date
    decision.end_reason = reason
    decision.ended_at = ctx.clock.now()
    decision.version += 1
    decision.updated_at = decision.ended_at
    await session.flush()
    out = await record(ctx, session, principal, decision, catalogue, "ended", snapshot(before_out))
    await events.publish_ended(ctx, session, decision, superseded_by)
    person = await persons.get(ctx, session, principal, decision.person_id, purpose="ending an order")
    # The ended order carries the decision's end_reason (the order builder takes it from `out`).
    await events.publish_orders(
        ctx, session, out, person, kind="ended", case_office=await case_office_of(session, out)
    )
    await messaging.decision_ended(ctx, session, principal, out, reason)
    return out
