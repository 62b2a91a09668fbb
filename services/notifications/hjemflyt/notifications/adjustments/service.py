"""The provider's adjustment log: the provider logs an adjustment inside the decision's
bounds (refused, and pointed to a change-of-need report, outside them); the case office
reads the log and overrules an adjustment, which reaches the provider as a message to
acknowledge. Every step is an event."""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from hjemflyt.notifications.adjustments import rules
from hjemflyt.notifications.adjustments.models import Adjustment
from hjemflyt.notifications.adjustments.repository import AdjustmentRepository
from hjemflyt.notifications.adjustments.rules import EscalationLevel, Status
from hjemflyt.notifications.adjustments.schemas import AdjustmentIn, AdjustmentOut, OverruleIn
from hjemflyt.notifications.messages.service import enqueue
from hjemflyt.notifications.orders.rules import OrderStatus
from hjemflyt.notifications.reports.orders import ref
from hjemflyt.notifications.reports.scoping import logged_page, logged_read, provider_only
from hjemflyt.shared.contracts.orders import (
    ADJUSTMENT_OVERRULED,
    ORDER_ADJUSTED,
    AdjustmentOverruled,
    MeasureChange,
    OrderAdjusted,
)
from hjemflyt.shared.platform.audit import Action, LoggedRead
from hjemflyt.shared.platform.auth import Principal, Role
from hjemflyt.shared.platform.context import ServiceContext
from hjemflyt.shared.platform.errors import Conflict, Forbidden, NotFound, RuleViolation
from hjemflyt.shared.platform.pagination import Page, decode_position

MESSAGE_KIND = "adjustment.overruled"
# Who may overrule: the case office of the district (decision authority sits there).
CASE_OFFICE = frozenset({Role.case_officer, Role.service_lead})


def change_of_need_path(order_id: uuid.UUID) -> str:
    return f"/v1/orders/{order_id}/change-of-need"


def to_out(row: Adjustment) -> AdjustmentOut:
    overrule = None
    if row.status == Status.overruled and row.overruled_at is not None:
        overrule = {
            "overruled_at": row.overruled_at,
            "reason": row.overrule_reason,
            "instruction": row.overrule_instruction,
            "decided_by": row.decided_by,
            "escalation_path": row.escalation_path or [],
            "message_id": row.message_id,
        }
    return AdjustmentOut.model_validate(
        {
            "id": row.id,
            "adjustment_id": row.client_id,
            "order_id": row.order_id,
            "decision_id": row.decision_id,
            "decision_version": row.decision_version,
            "person_id": row.person_id,
            "provider_org": row.provider_org,
            "district": row.district,
            "service_type": row.service_type,
            "measure_code": row.measure_code,
            "measure_description": row.measure_description,
            "new_measure": row.new_measure,
            "before": row.before,
            "after": row.after,
            "content": row.content,
            "reason": row.reason,
            "planned_hours_before": row.planned_hours_before,
            "planned_hours_after": row.planned_hours_after,
            "bounds": row.bounds,
            "status": row.status,
            "adjusted_at": row.adjusted_at,
            "overrule": overrule,
        }
    )


def _request_hash(order_id: uuid.UUID, body: AdjustmentIn) -> str:
    canonical = json.dumps(
        {"order_id": str(order_id), **body.model_dump(mode="json", by_alias=True)}, sort_keys=True
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def _proposal(body: AdjustmentIn) -> rules.Proposal:
    said = body.from_
    return rules.Proposal(
        service_type=body.service_type,
        measure_code=body.measure.code,
        measure_description=body.measure.description,
        new_measure=body.new_measure,
        times=body.to.times,
        per=body.to.per.value if body.to.per else None,
        minutes=body.to.minutes,
        content=body.content,
        times_from=said.times if said else None,
        per_from=said.per.value if said and said.per else None,
        minutes_from=said.minutes if said else None,
    )


def _json_bounds(bounds: dict[str, Any]) -> dict[str, Any]:
    """The bounds as stored and answered: hours to the hundredth, as the planned hours."""
    cent = Decimal("0.01")
    return {k: (str(Decimal(v).quantize(cent)) if isinstance(v, Decimal) else v) for k, v in bounds.items()}


async def _repeat(
    repo: AdjustmentRepository, provider_org: str, body: AdjustmentIn, request_hash: str
) -> AdjustmentOut | None:
    """The adjustment logged before under the provider's `adjustment_id`, if any; 409 if
    that id was used for another adjustment."""
    assert body.adjustment_id is not None
    existing = await repo.by_client_id(provider_org, body.adjustment_id)
    if existing is None:
        return None
    if existing.request_hash != request_hash:
        raise Conflict(
            "This adjustment_id was used for a different adjustment.",
            slug="adjustment-id-reused",
            adjustment=str(existing.id),
        )
    return to_out(existing)


async def log(
    ctx: ServiceContext,
    session: AsyncSession,
    principal: Principal,
    order_id: uuid.UUID,
    body: AdjustmentIn,
) -> tuple[AdjustmentOut, bool]:
    """(the adjustment, logged now?). The same `adjustment_id` again returns the first."""
    provider_org = provider_only(principal)
    repo = AdjustmentRepository(session)
    order = await repo.order_for_update(principal, order_id)
    if order is None:
        raise NotFound("No such order.")
    request_hash = _request_hash(order.id, body)
    if body.adjustment_id is not None and (repeat := await _repeat(repo, provider_org, body, request_hash)):
        return repeat, False
    if order.status == OrderStatus.rejected:
        raise Conflict("You rejected this order.", slug="order-rejected")
    held = ref(order)
    if order.status == OrderStatus.ended or held.ended_before(ctx.clock.today()):
        raise Conflict(
            "The order has ended: there is nothing to adjust.",
            slug="order-ended",
            end_date=str(held.end_date) if held.end_date else None,
        )
    proposal = _proposal(body)
    service = next(
        (s for s in rules.services_from(order.content) if s.matches(body.service_type)),
        None,
    )
    key = (
        (service.service_type or service.service_code or body.service_type) if service else body.service_type
    )
    prior = await repo.in_force(order.id, order.decision_version, key)
    adjusted = [m for m in (rules.measure_from(a.after) for a in prior) if m is not None]
    verdict = rules.assess(order.content, proposal, adjusted)
    if isinstance(verdict, rules.Refusal):
        extra: dict[str, Any] = (
            {"change_of_need": change_of_need_path(order.id)} if verdict.change_of_need else {}
        )
        if verdict.status == 409:
            raise Conflict(verdict.detail, slug=verdict.slug, **extra)
        raise RuleViolation(verdict.detail, slug=verdict.slug, **extra)
    now = ctx.clock.now()
    row = Adjustment(
        id=uuid.uuid4(),
        client_id=body.adjustment_id,
        order_id=order.id,
        decision_id=order.decision_id,
        decision_version=order.decision_version,
        provider_org=order.provider_org,
        person_id=order.person_id,
        district=order.district,
        service_type=key,
        measure_code=verdict.after.code,
        measure_description=verdict.after.description,
        new_measure=verdict.before is None,
        before=verdict.before.as_dict() if verdict.before else None,
        after=verdict.after.as_dict(),
        content=body.content,
        reason=body.reason,
        planned_hours_before=rules.hours(verdict.planned_before),
        planned_hours_after=rules.hours(verdict.planned_after),
        bounds=_json_bounds(verdict.bounds),
        request_hash=request_hash,
        adjusted_at=now,
        adjusted_by=principal.subject,
        status=Status.in_force.value,
    )
    if not await repo.add_once(row):
        assert body.adjustment_id is not None
        repeat = await _repeat(repo, provider_org, body, request_hash)
        assert repeat is not None
        return repeat, False
    before, after = verdict.before, verdict.after
    await ctx.outbox.add(
        session,
        ORDER_ADJUSTED,
        OrderAdjusted(
            order_id=order.id,
            decision_id=order.decision_id,
            decision_version=order.decision_version,
            person_id=order.person_id,
            provider_org=order.provider_org,
            district=order.district,
            adjustment_id=row.id,
            service_type=key,
            measure_code=after.code,
            measure_description=after.description,
            new_measure=before is None,
            change=MeasureChange(
                times_from=before.plan.times if before else None,
                times_to=after.plan.times,
                per_from=before.plan.per if before else None,
                per_to=after.plan.per,
                minutes_from=before.plan.minutes if before else None,
                minutes_to=after.plan.minutes,
                content_changed=body.content is not None,
            ),
            planned_hours_before=row.planned_hours_before,
            planned_hours_after=row.planned_hours_after,
            reason=row.reason,
            adjusted_at=now,
        ),
        subject=str(row.id),
    )
    await ctx.access_log.record(
        session,
        principal,
        action=Action.create,
        resource="adjustment",
        person_ids=[order.person_id],
        purpose="service delivery",
        resource_id=str(row.id),
    )
    return to_out(row), True


def _escalation(body: OverruleIn) -> list[EscalationLevel]:
    path = list(body.escalation_path) or [body.decided_by]
    problem = rules.escalation_problem([p.value for p in path])
    if problem is None and path[-1] != body.decided_by:
        problem = "The escalation path ends with the level that decided (`decided_by`)."
    if problem is not None:
        raise RuleViolation(problem, slug="invalid-escalation-path")
    return path


async def overrule(
    ctx: ServiceContext,
    session: AsyncSession,
    principal: Principal,
    adjustment_id: uuid.UUID,
    body: OverruleIn,
) -> AdjustmentOut:
    """The body with decision authority wins: the adjustment no longer counts, the provider
    is told (a message to acknowledge), and the overrule is recorded with its path."""
    if principal.role not in CASE_OFFICE:
        raise Forbidden("Only the case office (a case officer or service lead) overrules an adjustment.")
    row = await AdjustmentRepository(session).get(principal, adjustment_id, for_update=True)
    if row is None:
        raise NotFound("No such adjustment in your districts.")
    if row.status == Status.overruled:
        raise Conflict(
            "This adjustment was overruled already.",
            slug="adjustment-already-overruled",
            overruled_at=row.overruled_at.isoformat() if row.overruled_at else None,
        )
    path = _escalation(body)
    now = ctx.clock.now()
    row.status = Status.overruled.value
    row.overruled_at = now
    row.overruled_by = principal.subject
    row.overrule_reason = body.reason
    row.overrule_instruction = body.instruction
    row.decided_by = body.decided_by.value
    row.escalation_path = [p.value for p in path]
    message = await enqueue(
        ctx,
        session,
        provider_org=row.provider_org,
        kind=MESSAGE_KIND,
        body={
            "adjustment_id": str(row.id),
            "your_adjustment_id": row.client_id,
            "order_id": str(row.order_id),
            "decision_id": str(row.decision_id),
            "service_type": row.service_type,
            "measure_code": row.measure_code,
            "measure_description": row.measure_description,
            "before": row.before,
            "after": row.after,
            "adjusted_at": row.adjusted_at.isoformat(),
            "reason": body.reason,
            "instruction": body.instruction
            or (
                "The measure runs as before your adjustment."
                if row.before is not None
                else "The new measure is not to be delivered."
            ),
            "decided_by": row.decided_by,
            "escalation_path": row.escalation_path,
            "overruled_at": now.isoformat(),
        },
        person_id=row.person_id,
        district=row.district,
        order_id=row.order_id,
        reference_id=row.id,
        ack_within=timedelta(hours=ctx.settings.order_ack_hours),
    )
    row.message_id = message.id
    await session.flush()
    await ctx.outbox.add(
        session,
        ADJUSTMENT_OVERRULED,
        AdjustmentOverruled(
            adjustment_id=row.id,
            order_id=row.order_id,
            decision_id=row.decision_id,
            person_id=row.person_id,
            provider_org=row.provider_org,
            district=row.district,
            service_type=row.service_type,
            measure_code=row.measure_code,
            measure_description=row.measure_description,
            decided_by=row.decided_by,
            escalation_path=row.escalation_path,
            message_id=message.id,
            overruled_at=now,
        ),
        subject=str(row.id),
    )
    await ctx.access_log.record(
        session,
        principal,
        action=Action.update,
        resource="adjustment",
        person_ids=[row.person_id],
        purpose="case handling",
        resource_id=str(row.id),
    )
    return to_out(row)


async def page(
    session: AsyncSession,
    principal: Principal,
    log_read: LoggedRead,
    *,
    limit: int,
    cursor: str | None,
    **filters: Any,
) -> Page[AdjustmentOut]:
    """Adjustments the principal sees, oldest first, each person on the page logged."""
    rows = await AdjustmentRepository(session).page(
        principal, limit=limit, after=decode_position(cursor), **filters
    )
    next_cursor = await logged_page(log_read, "adjustment-list", rows, limit=limit, at="adjusted_at")
    return Page[AdjustmentOut](items=[to_out(r) for r in rows], next_cursor=next_cursor)


async def get(
    session: AsyncSession, principal: Principal, adjustment_id: uuid.UUID, log_read: LoggedRead
) -> AdjustmentOut:
    row = await AdjustmentRepository(session).get(principal, adjustment_id)
    if row is None:
        raise NotFound("No such adjustment.")
    await logged_read(log_read, "adjustment", row)
    return to_out(row)
