"""Start confirmations, deviations and "the person masters this": stored, announced
pseudonymously, and a task for the case office where it must act."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from hjemflyt.notifications.reports import rules
from hjemflyt.notifications.reports.models import Deviation, MastersDailyLifeReport, StartConfirmation
from hjemflyt.notifications.reports.orders import OrderRef, readable_order
from hjemflyt.notifications.reports.repository import ReportRepository
from hjemflyt.notifications.reports.schemas import (
    DeviationIn,
    DeviationOut,
    MastersDailyLifeIn,
    MastersDailyLifeOut,
    PrimaryContact,
    StartIn,
    StartOut,
)
from hjemflyt.notifications.reports.scoping import logged_page, logged_read, provider_only, reading
from hjemflyt.notifications.tasks.rules import TaskKind
from hjemflyt.notifications.tasks.service import open_task
from hjemflyt.shared.contracts.reports import (
    DEVIATION_REPORTED,
    MASTERS_DAILY_LIFE_REPORTED,
    START_CONFIRMED,
    DeviationReported,
    MastersDailyLifeReported,
    StartConfirmed,
)
from hjemflyt.shared.platform.audit import Action, LoggedRead
from hjemflyt.shared.platform.auth import Principal
from hjemflyt.shared.platform.context import ServiceContext
from hjemflyt.shared.platform.errors import Conflict, NotFound, RuleViolation
from hjemflyt.shared.platform.pagination import Page, decode_position, encode_position


def start_out(row: StartConfirmation) -> StartOut:
    return StartOut(
        order_id=row.order_id,
        order_version=row.order_version,
        person_id=row.person_id,
        provider_org=row.provider_org,
        district=row.district,
        started_on=row.started_on,
        primary_contact=PrimaryContact(
            staff_id=row.contact_staff_id, name=row.contact_name, phone=row.contact_phone
        ),
        confirmed_at=row.confirmed_at,
    )


def require_not_ended(ctx: ServiceContext, order: OrderRef) -> None:
    if order.ended_before(ctx.clock.today()):
        raise Conflict(
            f"The order ended on {order.end_date}.", slug="order-ended", end_date=str(order.end_date)
        )


async def confirm_start(
    ctx: ServiceContext, session: AsyncSession, principal: Principal, order_id: uuid.UUID, body: StartIn
) -> tuple[StartOut, bool]:
    """(the confirmation, created now?). Once per order version: the same again is answered
    as it was; a different one is a conflict."""
    provider_only(principal)
    order = await readable_order(session, principal, order_id)
    repo = ReportRepository(session)
    existing = await repo.start(principal, order_id, order.version)
    if existing is None:
        if not order.held:
            raise Conflict("You rejected this order.", slug="order-rejected")
        if body.started_on > ctx.clock.today():
            raise RuleViolation(
                "started_on is in the future: confirm the start when it happened.", slug="start-in-future"
            )
        if order.start_date and body.started_on < order.start_date:
            raise RuleViolation(
                f"started_on is before the order's start date {order.start_date}.",
                slug="start-before-order",
                order_start_date=str(order.start_date),
            )
        if order.ended_before(body.started_on):
            raise Conflict(
                f"The order ended on {order.end_date}.", slug="order-ended", end_date=str(order.end_date)
            )
        now = ctx.clock.now()
        existing = await repo.add_start_once(
            {
                "order_id": order.id,
                "order_version": order.version,
                "provider_org": order.provider_org,
                "person_id": order.person_id,
                "district": order.district,
                "started_on": body.started_on,
                "contact_staff_id": body.primary_contact.staff_id,
                "contact_name": body.primary_contact.name,
                "contact_phone": body.primary_contact.phone,
                "confirmed_at": now,
                "confirmed_by": principal.subject,
            }
        )
        if existing is not None:
            await ctx.outbox.add(
                session,
                START_CONFIRMED,
                StartConfirmed(
                    order_id=order.id,
                    order_version=order.version,
                    person_id=order.person_id,
                    provider_org=order.provider_org,
                    district=order.district,
                    started_on=body.started_on,
                    primary_contact_staff_id=body.primary_contact.staff_id,
                    confirmed_at=now,
                ),
                subject=str(order.id),
            )
            await ctx.access_log.record(
                session,
                principal,
                action=Action.create,
                resource="start-confirmation",
                person_ids=[order.person_id],
                purpose="service delivery",
                resource_id=str(order.id),
            )
            return start_out(existing), True
        existing = await repo.start(principal, order_id, order.version)  # a concurrent one won
        assert existing is not None
    out = start_out(existing)
    if out.started_on != body.started_on or out.primary_contact != body.primary_contact:
        raise Conflict(
            "The start of this order was confirmed before with other details.",
            slug="start-already-confirmed",
            confirmed=out.model_dump(mode="json", include={"started_on", "confirmed_at"}),
        )
    return out, False


async def report_deviation(
    ctx: ServiceContext, session: AsyncSession, principal: Principal, order_id: uuid.UUID, body: DeviationIn
) -> DeviationOut:
    provider_only(principal)
    order = await readable_order(session, principal, order_id)
    now = ctx.clock.now()
    if rules.in_future(body.occurred_at, now):
        raise RuleViolation("occurred_at is in the future.", slug="occurred-in-future")
    row = Deviation(
        id=uuid.uuid4(),
        order_id=order.id,
        provider_org=order.provider_org,
        person_id=order.person_id,
        district=order.district,
        severity=body.severity.value,
        category=body.category.value,
        description=body.description,
        occurred_at=body.occurred_at,
        reported_at=now,
        reported_by=principal.subject,
    )
    await ReportRepository(session).add(row)
    await ctx.outbox.add(
        session,
        DEVIATION_REPORTED,
        DeviationReported(
            deviation_id=row.id,
            order_id=order.id,
            person_id=order.person_id,
            provider_org=order.provider_org,
            district=order.district,
            severity=row.severity,
            category=row.category,
            occurred_at=row.occurred_at,
            reported_at=now,
        ),
        subject=str(row.id),
    )
    task = None
    if rules.needs_task(body.severity):
        task = await open_task(
            ctx,
            session,
            TaskKind.deviation,
            reference_id=row.id,
            district=order.district,
            person_id=order.person_id,
            provider_org=order.provider_org,
            order_id=order.id,
            details={"severity": row.severity, "category": row.category, "deviation_id": str(row.id)},
            title=f"A {row.severity} deviation was reported ({row.category})",
        )
    await ctx.access_log.record(
        session,
        principal,
        action=Action.create,
        resource="deviation",
        person_ids=[order.person_id],
        purpose="service delivery",
        resource_id=str(row.id),
    )
    out = DeviationOut.model_validate(row)
    out.task_opened = task is not None
    return out


async def report_masters_daily_life(
    ctx: ServiceContext,
    session: AsyncSession,
    principal: Principal,
    order_id: uuid.UUID,
    body: MastersDailyLifeIn,
) -> MastersDailyLifeOut:
    provider_only(principal)
    order = await readable_order(session, principal, order_id)
    require_not_ended(ctx, order)
    if body.observed_on > ctx.clock.today():
        raise RuleViolation("observed_on is in the future.", slug="observed-in-future")
    now = ctx.clock.now()
    row = MastersDailyLifeReport(
        id=uuid.uuid4(),
        order_id=order.id,
        provider_org=order.provider_org,
        person_id=order.person_id,
        district=order.district,
        observed_on=body.observed_on,
        note=body.note,
        reported_at=now,
        reported_by=principal.subject,
    )
    await ReportRepository(session).add(row)
    await open_task(
        ctx,
        session,
        TaskKind.masters_daily_life,
        reference_id=row.id,
        district=order.district,
        person_id=order.person_id,
        provider_org=order.provider_org,
        order_id=order.id,
        details={"report_id": str(row.id), "observed_on": body.observed_on.isoformat()},
    )
    await ctx.outbox.add(
        session,
        MASTERS_DAILY_LIFE_REPORTED,
        MastersDailyLifeReported(
            report_id=row.id,
            order_id=order.id,
            person_id=order.person_id,
            provider_org=order.provider_org,
            district=order.district,
            observed_on=body.observed_on,
            reported_at=now,
        ),
        subject=str(row.id),
    )
    await ctx.access_log.record(
        session,
        principal,
        action=Action.create,
        resource="masters-daily-life-report",
        person_ids=[order.person_id],
        purpose="service delivery",
        resource_id=str(row.id),
    )
    return MastersDailyLifeOut.model_validate(row)


async def get_start(
    session: AsyncSession, principal: Principal, order_id: uuid.UUID, log_read: LoggedRead
) -> StartOut:
    row = await ReportRepository(session).start(principal, order_id)
    if row is None:
        raise NotFound("No start confirmation for this order.")
    await reading(log_read)("start-confirmation", [row.person_id], resource_id=str(order_id))
    return start_out(row)


async def starts(
    session: AsyncSession,
    principal: Principal,
    log_read: LoggedRead,
    *,
    person_id: uuid.UUID | None,
    limit: int,
    cursor: str | None,
) -> Page[StartOut]:
    """Start confirmations with their primary contacts, keyed by order (one per order)."""
    rows = await ReportRepository(session).starts(
        principal, person_id=person_id, limit=limit, after=decode_position(cursor)
    )
    await reading(log_read)("start-confirmation-list", sorted({r.person_id for r in rows}))
    next_cursor = encode_position(rows[-1].confirmed_at, rows[-1].order_id) if len(rows) == limit else None
    return Page[StartOut](items=[start_out(r) for r in rows], next_cursor=next_cursor)


async def deviations(
    session: AsyncSession,
    principal: Principal,
    log_read: LoggedRead,
    *,
    severity: str | None,
    order_id: uuid.UUID | None,
    limit: int,
    cursor: str | None,
) -> Page[DeviationOut]:
    rows = await ReportRepository(session).deviations(
        principal, severity=severity, order_id=order_id, limit=limit, after=decode_position(cursor)
    )
    next_cursor = await logged_page(log_read, "deviation-list", rows, limit=limit, at="reported_at")
    return Page[DeviationOut](items=[DeviationOut.model_validate(r) for r in rows], next_cursor=next_cursor)


async def get_deviation(
    session: AsyncSession, principal: Principal, deviation_id: uuid.UUID, log_read: LoggedRead
) -> DeviationOut:
    row = await ReportRepository(session).deviation(principal, deviation_id)
    if row is None:
        raise NotFound("No such deviation.")
    await logged_read(log_read, "deviation", row)
    return DeviationOut.model_validate(row)


async def get_masters_daily_life(
    session: AsyncSession, principal: Principal, report_id: uuid.UUID, log_read: LoggedRead
) -> MastersDailyLifeOut:
    row = await ReportRepository(session).masters_report(principal, report_id)
    if row is None:
        raise NotFound("No such report.")
    await logged_read(log_read, "masters-daily-life-report", row)
    return MastersDailyLifeOut.model_validate(row)
