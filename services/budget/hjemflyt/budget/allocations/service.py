"""Use cases for allocations: make one at the budgeting date, recompute each tertial,
propose, approve and reject redistributions. Every change to a line is recorded with its
reason, and the buffer moves only through its ledger. Flushes, never commits."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from hjemflyt.budget.allocations import rules
from hjemflyt.budget.allocations.models import (
    Allocation,
    AllocationChange,
    AllocationUnit,
    BufferEntry,
    Redistribution,
)
from hjemflyt.budget.allocations.repository import AllocationRepository
from hjemflyt.budget.deliveries.repository import actual_hours, delivered_measures, paused_months
from hjemflyt.budget.financing import service as rule_sets
from hjemflyt.budget.financing.rules import ActivityModel, LevelsModel, RuleSetBody, annual_ore
from hjemflyt.budget.hours.repository import HoursRepository
from hjemflyt.shared.contracts.budget import (
    ALLOCATION_MADE,
    REDISTRIBUTION_APPROVED,
    AllocationMade,
    RedistributionApproved,
    UnitAmount,
)
from hjemflyt.shared.platform.auth import Principal
from hjemflyt.shared.platform.context import ServiceContext
from hjemflyt.shared.platform.errors import Conflict, NotFound, RuleViolation

GENERAL, BUFFER = "general", "buffer"


def kr(amount_ore: int) -> str:
    """An amount for a reason text: 1234567 -> '12 345.67 kr'."""
    sign = "-" if amount_ore < 0 else ""
    whole, cents = divmod(abs(amount_ore), 100)
    return f"{sign}{whole:,}.{cents:02d} kr".replace(",", " ")


@dataclass
class _Writer:
    """Collects the change rows and ledger entries of one use case."""

    allocation: Allocation
    by: str
    at: datetime
    cause: str
    redistribution_id: uuid.UUID | None = None
    rows: list[object] = field(default_factory=list)

    def change(self, line: str, before: int | None, after: int, reason: str) -> None:
        self.rows.append(
            AllocationChange(
                allocation_id=self.allocation.id,
                line=line,
                before_ore=before,
                after_ore=after,
                reason=reason,
                cause=self.cause,
                redistribution_id=self.redistribution_id,
                changed_by=self.by,
                changed_at=self.at,
            )
        )

    def buffer(self, amount: int, reason: str, provider_org: str | None = None) -> None:
        self.allocation.buffer_ore += amount
        self.rows.append(
            BufferEntry(
                allocation_id=self.allocation.id,
                amount_ore=amount,
                balance_ore=self.allocation.buffer_ore,
                provider_org=provider_org,
                reason=reason,
                cause=self.cause,
                redistribution_id=self.redistribution_id,
                created_by=self.by,
                created_at=self.at,
            )
        )


async def _event(
    ctx: ServiceContext,
    session: AsyncSession,
    allocation: Allocation,
    lines: list[AllocationUnit],
    reason: str,
) -> None:
    await ctx.outbox.add(
        session,
        ALLOCATION_MADE,
        AllocationMade(
            allocation_id=allocation.id,
            year=allocation.year,
            budgeting_date=allocation.budgeting_date,
            rule_set_id=allocation.rule_set_id,
            frame_ore=allocation.frame_ore,
            units=[UnitAmount(provider_org=u.provider_org, amount_ore=u.amount_ore) for u in lines],
            general_ore=allocation.general_ore,
            buffer_ore=allocation.buffer_ore,
            reason=reason,
            made_at=allocation.updated_at,
        ),
        subject=str(allocation.id),
    )


async def _rule_set(
    session: AsyncSession, rule_set_id: uuid.UUID | None, on: date
) -> tuple[uuid.UUID, RuleSetBody]:
    if rule_set_id is None:
        found, body = await rule_sets.in_force(session, on)
        return found.id, body
    try:
        chosen = await rule_sets.get(session, rule_set_id)
    except NotFound:
        raise RuleViolation(f"No rule set {rule_set_id}.", slug="unknown-rule-set") from None
    if chosen.adopted_at is None:
        raise Conflict("This rule set version is not adopted; adopt it first.", slug="rule-set-not-adopted")
    if chosen.valid_from > on:
        raise RuleViolation(
            f"The rule set is valid from {chosen.valid_from}, after the budgeting date {on}.",
            slug="rule-set-not-valid",
        )
    return chosen.id, RuleSetBody.model_validate(chosen.body)


async def make(
    ctx: ServiceContext,
    session: AsyncSession,
    principal: Principal,
    *,
    year: int,
    budgeting_date: date,
    frame_ore: int,
    rule_set_id: uuid.UUID | None,
) -> Allocation:
    if frame_ore <= 0:
        raise RuleViolation("The frame must be above 0 øre.", slug="frame-not-positive")
    if budgeting_date.year != year:
        raise RuleViolation(
            f"The budgeting date {budgeting_date} is not in {year}.", slug="budgeting-date-outside-year"
        )
    repo = AllocationRepository(session)
    await repo.lock_year(year)
    if await repo.for_year(year) is not None:
        raise Conflict(f"{year} has an allocation already.", slug="allocation-exists")
    rule_set_id, body = await _rule_set(session, rule_set_id, budgeting_date)
    units = await repo.units()
    result = rules.allocate(
        frame_ore,
        body,
        await HoursRepository(session).population(budgeting_date),
        prices={org: prices for org, (_, prices) in units.items()},
        units={org: kind for org, (kind, _) in units.items()},
        measures=await _year_of_measures(session, budgeting_date),
        ordered=await _year_of_orders(session, body, budgeting_date),
    )
    now = ctx.clock.now()
    allocation = Allocation(
        id=uuid.uuid4(),
        year=year,
        budgeting_date=budgeting_date,
        rule_set_id=rule_set_id,
        frame_ore=frame_ore,
        general_ore=result.general_ore,
        buffer_ore=0,
        shortfall_ore=result.shortfall_ore,
        tertial=1,
        version=1,
        created_at=now,
        created_by=principal.subject,
        updated_at=now,
    )
    w = _Writer(allocation, principal.subject, now, "budgeting")
    lines = []
    for org, need in sorted(result.needs.items()):
        amount = result.amounts[org]
        lines.append(
            AllocationUnit(
                allocation_id=allocation.id,
                provider_org=org,
                kind=need.kind,
                model=need.model,
                persons=need.persons,
                persons_per_level=need.persons_per_level,
                focus_persons=need.focus_persons,
                need_ore=need.need_ore,
                amount_ore=amount,
                unfunded_ore=0,
                notes=need.notes,
            )
        )
        scaled = (
            f", scaled from {kr(need.need_ore)} (the needs outgrow the frame)"
            if amount != need.need_ore
            else ""
        )
        w.change(
            org,
            None,
            amount,
            f"budgeting {budgeting_date}: {need.model} model, {need.persons} persons{scaled}",
        )
    general_share, buffer_share = rules.shares(body)
    w.change(
        GENERAL, None, result.general_ore, f"budgeting: general part, {general_share * 100}% of the frame"
    )
    share = rules.share_of(frame_ore, buffer_share)
    w.buffer(share, f"budgeting: buffer, {buffer_share * 100}% of the frame")
    if result.buffer_ore != share:
        w.buffer(result.buffer_ore - share, "budgeting: what no unit needs at the budgeting date")
    w.change(BUFFER, None, allocation.buffer_ore, "budgeting: the buffer's balance")
    await repo.add(allocation)
    await repo.add(*lines, *w.rows)
    await _event(ctx, session, allocation, lines, "budgeting")
    return allocation


async def get(session: AsyncSession, allocation_id: uuid.UUID) -> Allocation:
    found = await AllocationRepository(session).get(allocation_id)
    if found is None:
        raise NotFound("No such allocation.")
    return found


async def lines(session: AsyncSession, allocation_id: uuid.UUID) -> Sequence[AllocationUnit]:
    return await AllocationRepository(session).lines(allocation_id)


async def list_with_lines(
    session: AsyncSession, year: int | None
) -> list[tuple[Allocation, Sequence[AllocationUnit]]]:
    """Allocations, the latest year first, each with its lines as they stand."""
    repo = AllocationRepository(session)
    found = await repo.list(year)
    lines = await repo.lines_of([a.id for a in found])
    return [(a, lines[a.id]) for a in found]


async def buffer(session: AsyncSession, allocation_id: uuid.UUID) -> tuple[Allocation, Sequence[BufferEntry]]:
    allocation = await get(session, allocation_id)
    return allocation, await AllocationRepository(session).buffer(allocation.id)


async def changes(session: AsyncSession, allocation_id: uuid.UUID) -> Sequence[AllocationChange]:
    allocation = await get(session, allocation_id)
    return await AllocationRepository(session).changes(allocation.id)


async def redistributions(session: AsyncSession, allocation_id: uuid.UUID) -> Sequence[Redistribution]:
    allocation = await get(session, allocation_id)
    return await AllocationRepository(session).redistributions(allocation.id)


async def _locked(session: AsyncSession, allocation_id: uuid.UUID) -> Allocation:
    found = await AllocationRepository(session).get(allocation_id, for_update=True)
    if found is None:
        raise NotFound("No such allocation.")
    return found


async def _body(session: AsyncSession, allocation: Allocation) -> RuleSetBody:
    # The rule set chosen at the budgeting date holds for the whole year.
    return RuleSetBody.model_validate((await rule_sets.get(session, allocation.rule_set_id)).body)


@dataclass
class TertialResult:
    allocation: Allocation
    recomputation: rules.Recomputation
    on: date
    focus_months: list[int]
    notes: list[str]


async def recompute(
    ctx: ServiceContext, session: AsyncSession, principal: Principal, allocation_id: uuid.UUID, tertial: int
) -> TertialResult:
    if tertial not in (2, 3):
        raise NotFound("Tertials 2 and 3 are recomputed; tertial 1 is the budgeting date.")
    allocation = await _locked(session, allocation_id)
    if allocation.tertial != tertial - 1:
        raise Conflict(
            f"Tertial {allocation.tertial} is the latest computed; "
            f"the next is tertial {allocation.tertial + 1}.",
            slug="tertial-out-of-order",
        )
    repo = AllocationRepository(session)
    body = await _body(session, allocation)
    on = rules.tertial_start(allocation.year, tertial)
    units = await repo.units()
    kinds = {org: kind for org, (kind, _) in units.items()}
    lines = {line.provider_org: line for line in await repo.lines(allocation.id)}
    kinds.update({org: line.kind for org, line in lines.items() if org not in kinds})
    new = rules.needs(
        body,
        await HoursRepository(session).population(on),
        prices={org: prices for org, (_, prices) in units.items()},
        units=kinds,
        measures=await _year_of_measures(session, on),
        ordered=await _year_of_orders(session, body, on),
    )
    # Focus users are funded after the fact, from what they received in the tertial just ended.
    months = rules.tertial_months(tertial - 1)
    actual = await actual_hours(session, year=allocation.year, months=months)
    paused = await paused_months(session, year=allocation.year, months=months)
    focus = rules.focus_extra_by_unit(body, kinds, actual, paused, months)
    states = {
        org: rules.UnitState(org, line.need_ore, line.amount_ore, line.unfunded_ore)
        for org, line in lines.items()
    }
    result = rules.recompute(tertial, states, new, allocation.buffer_ore, focus)

    now = ctx.clock.now()
    cause = f"tertial-{tertial}"
    w = _Writer(allocation, principal.subject, now, cause)
    buffer_before = allocation.buffer_ore
    notes = []
    for org, g in result.growth.items():
        need = new.get(org)
        line = lines.get(org)
        if line is None:
            assert need is not None or org in focus
            line = lines[org] = AllocationUnit(
                allocation_id=allocation.id,
                provider_org=org,
                kind=kinds.get(org, "unknown"),
                model=need.model if need else "levels",
                persons=0,
                persons_per_level={},
                focus_persons=0,
                need_ore=0,
                amount_ore=0,
                unfunded_ore=0,
                notes=[],
            )
            w.change(org, None, 0, f"tertial {tertial}: a unit new since the budgeting date")
            w.rows.append(line)
        if need is not None:
            line.persons, line.persons_per_level, line.focus_persons = (
                need.persons,
                need.persons_per_level,
                need.focus_persons,
            )
            line.notes = need.notes
            if need.need_ore < g.need_before_ore:
                notes.append(
                    f"{org}: the annual need fell from {kr(g.need_before_ore)} to {kr(need.need_ore)}; "
                    "units are not cut during the year"
                )
        line.need_ore = g.need_after_ore
        if g.paid_ore:
            parts = []
            if g.levels_growth_ore:
                parts.append(
                    f"annual need grew from {kr(g.need_before_ore)} to {kr(g.need_after_ore)}, "
                    f"{rules.remaining_months(tertial)}/12 of the growth: {kr(g.levels_growth_ore)}"
                )
            if g.focus_ore:
                parts.append(
                    f"focus users above the top band, months {months[0]}-{months[-1]}: {kr(g.focus_ore)}"
                )
            short = f"; {kr(g.unfunded_ore)} unfunded (the buffer ran out)" if g.unfunded_ore else ""
            reason = f"tertial {tertial}: " + "; ".join(parts) + short
            w.change(org, line.amount_ore, line.amount_ore + g.paid_ore, reason)
            line.amount_ore += g.paid_ore
            w.buffer(-g.paid_ore, reason, org)
        elif g.unfunded_ore:
            notes.append(f"{org}: growth of {kr(g.unfunded_ore)} unfunded (the buffer is empty)")
        line.unfunded_ore += g.unfunded_ore
    if allocation.buffer_ore != buffer_before:
        w.change(
            BUFFER, buffer_before, allocation.buffer_ore, f"tertial {tertial}: growth paid from the buffer"
        )
    if result.deficit_ore:
        notes.append(
            f"growth of {kr(result.deficit_ore)} is beyond the buffer: propose a redistribution "
            "(a lower base amount)"
        )
    allocation.tertial = tertial
    allocation.version += 1
    allocation.updated_at = now
    await repo.add(*w.rows)
    await _event(ctx, session, allocation, sorted(lines.values(), key=lambda u: u.provider_org), cause)
    return TertialResult(allocation, result, on, months, notes)


def _base(body: RuleSetBody, line: AllocationUnit) -> tuple[str, LevelsModel] | None:
    part = body.part_for(line.provider_org, line.kind)
    if part is None or not isinstance(part.financing, LevelsModel):
        return None
    return part.financing.bands[0].level, part.financing


async def propose(
    ctx: ServiceContext, session: AsyncSession, principal: Principal, allocation_id: uuid.UUID
) -> Redistribution:
    allocation = await _locked(session, allocation_id)
    repo = AllocationRepository(session)
    body = await _body(session, allocation)
    levels = body.levels()
    if levels is None:
        raise Conflict(
            "The rule set has no levels part: there is no base rate to lower.", slug="no-levels-part"
        )
    lines = await repo.lines(allocation.id)
    base_persons = {}
    for line in lines:
        found = _base(body, line)
        if found is not None:
            base_persons[line.provider_org] = line.persons_per_level.get(found[0], 0)
    # The smallest base amount of the levels parts bounds the cut (usually one model).
    base_amount = min(
        annual_ore(m, m.bands[0]) for m in (p.financing for p in body.parts) if isinstance(m, LevelsModel)
    )
    try:
        plan = rules.propose(
            {u.provider_org: u.unfunded_ore for u in lines if u.unfunded_ore},
            base_persons,
            {u.provider_org: u.amount_ore for u in lines},
            base_amount,
            allocation.tertial,
        )
    except rules.CannotRedistribute as exc:
        raise Conflict(f"No redistribution: {exc}.", slug="cannot-redistribute") from None
    proposal = Redistribution(
        id=uuid.uuid4(),
        allocation_id=allocation.id,
        allocation_version=allocation.version,
        tertial=allocation.tertial,
        status="proposed",
        deficit_ore=plan.deficit_ore,
        base_level=levels.bands[0].level,
        base_persons=plan.base_persons,
        cut_per_base_person_ore=plan.cut_per_base_person_ore,
        base_amount_before_ore=plan.base_amount_before_ore,
        base_amount_after_ore=plan.base_amount_after_ore,
        moved_ore=plan.moved_ore,
        to_buffer_ore=plan.to_buffer_ore,
        units=[
            {
                "provider_org": m.provider_org,
                "base_persons": m.base_persons,
                "taken_ore": m.taken_ore,
                "given_ore": m.given_ore,
                "change_ore": m.change_ore,
            }
            for m in plan.units
        ],
        proposed_at=ctx.clock.now(),
        proposed_by=principal.subject,
    )
    await repo.add(proposal)
    return proposal


async def get_redistribution(session: AsyncSession, redistribution_id: uuid.UUID) -> Redistribution:
    found = await AllocationRepository(session).redistribution(redistribution_id)
    if found is None:
        raise NotFound("No such redistribution.")
    return found


async def _decidable(
    session: AsyncSession, redistribution_id: uuid.UUID
) -> tuple[Allocation, Redistribution]:
    repo = AllocationRepository(session)
    found = await get_redistribution(session, redistribution_id)
    # Lock order allocation -> redistribution, as tertials and proposals take the allocation.
    allocation = await _locked(session, found.allocation_id)
    proposal = await repo.redistribution(redistribution_id, for_update=True)
    assert proposal is not None
    if proposal.status != "proposed":
        raise Conflict(f"This redistribution is {proposal.status} already.", slug="already-decided")
    return allocation, proposal


async def approve(
    ctx: ServiceContext,
    session: AsyncSession,
    principal: Principal,
    redistribution_id: uuid.UUID,
    note: str | None,
) -> Redistribution:
    allocation, proposal = await _decidable(session, redistribution_id)
    if proposal.allocation_version != allocation.version:
        raise Conflict(
            "The allocation has changed since this redistribution was proposed; propose again.",
            slug="stale-redistribution",
        )
    repo = AllocationRepository(session)
    lines = {line.provider_org: line for line in await repo.lines(allocation.id)}
    now = ctx.clock.now()
    w = _Writer(allocation, principal.subject, now, "redistribution", proposal.id)
    cut = proposal.cut_per_base_person_ore
    for move in proposal.units:
        line = lines[move["provider_org"]]
        reason = (
            f"redistribution: base amount lowered from {kr(proposal.base_amount_before_ore)} to "
            f"{kr(proposal.base_amount_after_ore)} ({kr(cut)} less for each of "
            f"{move['base_persons']} base users: "
            f"-{kr(move['taken_ore'])}); unfunded growth covered: +{kr(move['given_ore'])}"
        )
        w.change(line.provider_org, line.amount_ore, line.amount_ore + move["change_ore"], reason)
        line.amount_ore += move["change_ore"]
        line.unfunded_ore -= move["given_ore"]
    if proposal.to_buffer_ore:
        before = allocation.buffer_ore
        w.buffer(proposal.to_buffer_ore, "redistribution: freed beyond the deficit by the whole-øre cut")
        w.change(BUFFER, before, allocation.buffer_ore, "redistribution: freed beyond the deficit")
    allocation.version += 1
    allocation.updated_at = now
    proposal.status = "approved"
    proposal.decided_at = now
    proposal.decided_by = principal.subject
    proposal.decision_reason = note
    await repo.add(*w.rows)
    await ctx.outbox.add(
        session,
        REDISTRIBUTION_APPROVED,
        RedistributionApproved(
            redistribution_id=proposal.id,
            allocation_id=allocation.id,
            moved_ore=proposal.moved_ore,
            units=[
                UnitAmount(provider_org=m["provider_org"], amount_ore=m["change_ore"]) for m in proposal.units
            ],
            approved_at=now,
        ),
        subject=str(proposal.id),
    )
    await _event(
        ctx, session, allocation, sorted(lines.values(), key=lambda u: u.provider_org), "redistribution"
    )
    return proposal


async def reject(
    ctx: ServiceContext,
    session: AsyncSession,
    principal: Principal,
    redistribution_id: uuid.UUID,
    reason: str,
) -> Redistribution:
    _, proposal = await _decidable(session, redistribution_id)
    proposal.status = "rejected"
    proposal.decided_at = ctx.clock.now()
    proposal.decided_by = principal.subject
    proposal.decision_reason = reason
    await session.flush()
    return proposal


async def _year_of_measures(session: AsyncSession, before: date) -> dict[str, dict[str, int]]:
    """The measures delivered in the 12 months before a date: an activity-model unit's
    annual need is estimated from them (its income follows what it delivers)."""
    start = date(before.year - 1, before.month, min(before.day, 28 if before.month == 2 else 31))
    return await delivered_measures(session, start=start, end=before)


async def _year_of_orders(
    session: AsyncSession, body: RuleSetBody, on: date
) -> dict[str, dict[str, Decimal]]:
    """The coded measures the decisions running on a date order for the 12 months from it:
    an activity-model unit paid on ordered measures gets its need from them (read only when
    the rule set has such a part)."""
    if not any(isinstance(p.financing, ActivityModel) and p.financing.basis == "ordered" for p in body.parts):
        return {}
    following = date(on.year + 1, on.month, 1) + (on - date(on.year, on.month, 1))
    return await HoursRepository(session).ordered_measures(on, following)
