"""Use cases of provider settlement: draft a month's statement, recalculate it, issue it
(closing the month), and disputes. Services flush; the request commits."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from hjemflyt.budget.delivered import service as delivered
from hjemflyt.budget.deliveries.repository import lock_provider
from hjemflyt.budget.settlements import rules
from hjemflyt.budget.settlements.models import Dispute, Settlement, SettlementLine
from hjemflyt.budget.settlements.repository import ACCEPTED, DRAFT, ISSUED, OPEN, SettlementRepository
from hjemflyt.budget.settlements.schemas import AnswerIn, DisputeIn
from hjemflyt.shared.contracts.budget import SETTLEMENT_ISSUED, SettlementIssued
from hjemflyt.shared.contracts.events import ProviderKind
from hjemflyt.shared.platform.audit import LoggedRead
from hjemflyt.shared.platform.auth import Principal, Role
from hjemflyt.shared.platform.context import ServiceContext
from hjemflyt.shared.platform.errors import Conflict, Forbidden, NotFound, Problem, RuleViolation
from hjemflyt.shared.platform.pagination import decode_cursor

BAD_CURSOR = "The cursor is not one this API gave out."


def _manager(principal: Principal) -> None:
    if principal.role != Role.manager:
        raise Forbidden(
            "Statements are drawn up, issued and disputes answered by the contract owner (manager)."
        )


def _provider(principal: Principal) -> str:
    if principal.role != Role.provider or not principal.provider_org:
        raise Forbidden("Lines are disputed by the provider the statement is for; use a provider token.")
    return principal.provider_org


def _final(settlement: Settlement) -> None:
    if settlement.status == ISSUED:
        raise Conflict(
            f"The statement for {settlement.month} is issued: the month is closed and the statement "
            "final. Differences go on the next statement (as corrections or accepted disputes).",
            slug="settlement-issued",
            settlement_id=str(settlement.id),
        )


async def _calculate(
    ctx: ServiceContext, repo: SettlementRepository, settlement: Settlement
) -> list[rules.Line]:
    unit = await repo.unit(settlement.provider_org)
    assert unit is not None  # checked when drafted; the read model never forgets a unit
    lines = rules.statement_lines(
        repo.agreement(unit),
        await repo.month_visits(settlement.provider_org, settlement.month),
        await repo.pending_corrections(settlement.provider_org),
        await repo.accepted_disputes(settlement.provider_org),
        # Each person's visits are held to what the decisions allow in the month; the part
        # beyond is withheld unless the contract owner approved it on this draft.
        limits=await delivered.limits(repo.session, settlement.provider_org, settlement.month),
        approved=await repo.approved_persons(settlement.id),
    )
    await repo.replace_lines(settlement.id, lines)
    settlement.lines = len(lines)
    settlement.amount_ore = rules.total_ore(lines)
    settlement.withheld_ore = rules.withheld_ore(lines)
    settlement.calculated_at = ctx.clock.now()
    return lines


async def draft(
    ctx: ServiceContext, session: AsyncSession, principal: Principal, provider_org: str, month: str
) -> Settlement:
    _manager(principal)
    if not rules.month_started(month, ctx.clock.today()):
        raise RuleViolation(f"{month} has not begun: nothing can have been delivered.", slug="future-month")
    repo = SettlementRepository(session)
    unit = await repo.unit(provider_org)
    if unit is None:
        raise RuleViolation(f"{provider_org} is not in the provider registry.", slug="unknown-provider")
    if unit.kind != ProviderKind.private.value:
        raise RuleViolation(
            f"{provider_org} is a {unit.kind} provider: only private providers are settled by the hour.",
            slug="not-a-private-provider",
        )
    await lock_provider(session, provider_org)
    existing = await repo.find(provider_org, month)
    if existing is not None:
        raise Conflict(
            f"There is a statement for {provider_org} for {month} already.",
            slug="settlement-exists",
            settlement_id=str(existing.id),
            settlement_status=existing.status,
        )
    now = ctx.clock.now()
    settlement = Settlement(
        id=uuid.uuid4(),
        provider_org=provider_org,
        month=month,
        status=DRAFT,
        lines=0,
        amount_ore=0,
        withheld_ore=0,
        created_at=now,
        created_by=principal.subject,
        calculated_at=now,
    )
    await repo.add(settlement)
    await _calculate(ctx, repo, settlement)
    return settlement


async def get(
    session: AsyncSession, principal: Principal, settlement_id: uuid.UUID, *, for_update: bool = False
) -> Settlement:
    found = await SettlementRepository(session).get(principal, settlement_id, for_update=for_update)
    if found is None:
        raise NotFound("No such statement.")
    return found


async def list_settlements(
    session: AsyncSession,
    principal: Principal,
    *,
    provider_org: str | None,
    month: str | None,
    status: str | None,
    limit: int,
    after: tuple[str, str] | None,
) -> Sequence[Settlement]:
    """Statements, newest month first (a provider: its own issued ones)."""
    return await SettlementRepository(session).list_settlements(
        principal, provider_org=provider_org, month=month, status=status, limit=limit, after=after
    )


async def lines(
    session: AsyncSession,
    principal: Principal,
    settlement_id: uuid.UUID,
    log_read: LoggedRead,
    *,
    limit: int,
    cursor: str | None,
) -> Sequence[SettlementLine]:
    """A statement's lines in order; each person on them logged (an unknown statement 404s
    before a bad cursor 400s)."""
    settlement = await get(session, principal, settlement_id)
    after = None
    values = decode_cursor(cursor)
    if values is not None:
        try:
            after = int(values["line_no"])
        except (KeyError, TypeError, ValueError) as exc:
            raise Problem(BAD_CURSOR, slug="invalid-cursor", status=400) from exc
    found = await SettlementRepository(session).lines(settlement.id, limit=limit, after=after)
    await log_read.rows("settlement-lines", found, resource_id=str(settlement.id))
    return found


async def disputes(
    session: AsyncSession, principal: Principal, settlement_id: uuid.UUID
) -> list[tuple[Dispute, int]]:
    await get(session, principal, settlement_id)
    return await SettlementRepository(session).disputes(principal, settlement_id)


async def get_dispute(
    session: AsyncSession, principal: Principal, settlement_id: uuid.UUID, dispute_id: uuid.UUID
) -> tuple[Dispute, int]:
    found = await SettlementRepository(session).dispute(principal, settlement_id, dispute_id)
    if found is None:
        raise Problem("No such dispute.", status=404, slug="not-found", title="Not found")
    return found


async def recalculate(
    ctx: ServiceContext, session: AsyncSession, principal: Principal, settlement_id: uuid.UUID
) -> Settlement:
    _manager(principal)
    settlement = await get(session, principal, settlement_id, for_update=True)
    _final(settlement)
    await lock_provider(session, settlement.provider_org)
    await _calculate(ctx, SettlementRepository(session), settlement)
    return settlement


async def discard(session: AsyncSession, principal: Principal, settlement_id: uuid.UUID) -> None:
    _manager(principal)
    settlement = await get(session, principal, settlement_id, for_update=True)
    _final(settlement)
    await SettlementRepository(session).delete(settlement)


async def issue(
    ctx: ServiceContext, session: AsyncSession, principal: Principal, settlement_id: uuid.UUID
) -> Settlement:
    """Recalculate under the provider's lock (no visit slips in between), freeze the lines,
    close the month and announce it."""
    _manager(principal)
    settlement = await get(session, principal, settlement_id, for_update=True)
    _final(settlement)
    if not rules.month_ended(settlement.month, ctx.clock.today()):
        raise Conflict(
            f"{settlement.month} is not over yet: a month is closed only after its last day.",
            slug="month-not-ended",
        )
    await lock_provider(session, settlement.provider_org)
    repo = SettlementRepository(session)
    lines = await _calculate(ctx, repo, settlement)
    await repo.mark_settled(settlement.id, lines)
    now = ctx.clock.now()
    settlement.status = ISSUED
    settlement.issued_at = now
    settlement.issued_by = principal.subject
    await session.flush()
    await ctx.outbox.add(
        session,
        SETTLEMENT_ISSUED,
        SettlementIssued(
            settlement_id=settlement.id,
            provider_org=settlement.provider_org,
            month=settlement.month,
            lines=settlement.lines,
            amount_ore=settlement.amount_ore,
            issued_at=now,
            withheld_ore=settlement.withheld_ore,
        ),
        subject=str(settlement.id),
    )
    # The month is closed for the provider: its deliveries far from the decisions are final.
    await delivered.raise_flags(
        ctx,
        session,
        settlement.month,
        trigger=delivered.STATEMENT_ISSUED,
        provider_org=settlement.provider_org,
    )
    return settlement


async def approve_beyond(
    ctx: ServiceContext,
    session: AsyncSession,
    principal: Principal,
    settlement_id: uuid.UUID,
    person_id: uuid.UUID,
    note: str,
) -> Settlement:
    """Pay a person's delivery beyond the decision on a draft: the contract owner approves
    it (with a note why), and the draft is recalculated. Approving twice changes nothing."""
    _manager(principal)
    settlement = await get(session, principal, settlement_id, for_update=True)
    _final(settlement)
    repo = SettlementRepository(session)
    if not await repo.has_beyond(settlement.id, person_id):
        raise RuleViolation(
            "Nothing on this statement lies beyond the person's decision: there is nothing to approve.",
            slug="nothing-beyond-decision",
        )
    await repo.approve(settlement.id, person_id, note, ctx.clock.now(), principal.subject)
    await lock_provider(session, settlement.provider_org)
    await _calculate(ctx, repo, settlement)
    return settlement


async def dispute(
    ctx: ServiceContext,
    session: AsyncSession,
    principal: Principal,
    settlement_id: uuid.UUID,
    body: DisputeIn,
) -> tuple[Dispute, int]:
    provider_org = _provider(principal)
    settlement = await get(session, principal, settlement_id)  # the provider's own, issued ones only
    repo = SettlementRepository(session)
    line = await repo.line(settlement.id, body.line_no)
    if line is None:
        raise NotFound(f"The statement has no line {body.line_no}.")
    if await repo.open_dispute_for(line.id) is not None:
        raise Conflict(f"Line {body.line_no} is disputed already and not answered yet.", slug="dispute-open")
    found = Dispute(
        id=uuid.uuid4(),
        settlement_id=settlement.id,
        line_id=line.id,
        provider_org=provider_org,
        reason=body.reason,
        expected_amount_ore=body.expected_amount_ore,
        status=OPEN,
        created_at=ctx.clock.now(),
        created_by=principal.subject,
    )
    await repo.add_dispute(found)
    return found, line.line_no


async def answer(
    ctx: ServiceContext,
    session: AsyncSession,
    principal: Principal,
    settlement_id: uuid.UUID,
    dispute_id: uuid.UUID,
    body: AnswerIn,
) -> tuple[Dispute, int]:
    _manager(principal)
    repo = SettlementRepository(session)
    found = await repo.dispute(principal, settlement_id, dispute_id, for_update=True)
    if found is None:
        raise NotFound("No such dispute.")
    d, line_no = found
    if d.status != OPEN:
        raise Conflict(f"The dispute is answered already ({d.status}).", slug="dispute-answered")
    if body.outcome == ACCEPTED:
        adjustment = body.adjustment_ore
        if adjustment is None:
            if d.expected_amount_ore is None:
                raise RuleViolation(
                    "Say the adjustment_ore to pay: the provider gave no expected amount.",
                    slug="adjustment-required",
                )
            line = await repo.line(settlement_id, line_no)
            assert line is not None
            adjustment = d.expected_amount_ore - line.amount_ore
        d.adjustment_ore = adjustment
    elif body.adjustment_ore is not None:
        raise RuleViolation("A rejected dispute has no adjustment.", slug="adjustment-on-rejection")
    d.status = body.outcome
    d.answer = body.answer
    d.answered_at = ctx.clock.now()
    d.answered_by = principal.subject
    await session.flush()
    return d, line_no
