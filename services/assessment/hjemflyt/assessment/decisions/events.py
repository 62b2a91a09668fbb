"""Publishing a decision's changes: amended, ended, activated (pseudonymous, for every
service) and the orders (with the personal details one provider needs, for notifications
only). What `decision.made` and the orders say is built in `builder`."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from hjemflyt.assessment.decisions import builder
from hjemflyt.assessment.decisions.models import Decision
from hjemflyt.assessment.decisions.schemas import DecisionOut
from hjemflyt.assessment.orders import rules as orders
from hjemflyt.assessment.persons.schemas import PersonOut
from hjemflyt.shared.contracts.events import (
    DECISION_ACTIVATED,
    DECISION_ENDED,
    AgeBand,
    DecisionActivated,
    DecisionEnded,
)
from hjemflyt.shared.contracts.registry import EventType
from hjemflyt.shared.identity import InvalidIdentityNumber, Month40Meaning, age_band, parse_identity_number
from hjemflyt.shared.platform.context import ServiceContext


def person_age_band(identity_number: str, on: date | None, month40: Month40Meaning) -> AgeBand | None:
    """The person's KOSTRA age band on the decision date, from the birth date in the identity
    number (the only birth date assessment holds); None when the number gives none (FH-numbers,
    numbers valid only under the 2032 rules)."""
    if on is None:
        return None
    try:
        parsed = parse_identity_number(identity_number, month40=month40)
    except InvalidIdentityNumber:
        return None
    return age_band(parsed.birth_date, on)


async def publish_amended(
    ctx: ServiceContext,
    session: AsyncSession,
    out: DecisionOut,
    changed: list[str],
    band: AgeBand | None = None,
) -> None:
    type_, data, subject = builder.amended_event(out, changed, band, at=ctx.clock.now())
    await ctx.outbox.add(session, type_, data, subject=subject)


async def publish_ended(
    ctx: ServiceContext, session: AsyncSession, decision: Decision, superseded_by: object = None
) -> None:
    assert decision.end_date is not None
    assert decision.ended_at is not None
    assert decision.end_reason is not None
    await ctx.outbox.add(
        session,
        DECISION_ENDED,
        DecisionEnded(
            decision_id=decision.id,
            version=decision.version,
            person_id=decision.person_id,
            district=decision.district,
            end_date=decision.end_date,
            reason=decision.end_reason,
            superseded_by=superseded_by,
            ended_at=decision.ended_at,
        ),
        subject=str(decision.id),
    )


async def publish_activated(ctx: ServiceContext, session: AsyncSession, decision: Decision) -> None:
    assert decision.start_date is not None
    assert decision.activated_at is not None
    await ctx.outbox.add(
        session,
        DECISION_ACTIVATED,
        DecisionActivated(
            decision_id=decision.id,
            version=decision.version,
            person_id=decision.person_id,
            district=decision.district,
            start_date=decision.start_date,
            activated_at=decision.activated_at,
        ),
        subject=str(decision.id),
    )


def order_events(
    ctx: ServiceContext,
    out: DecisionOut,
    person: PersonOut,
    *,
    kind: str,
    providers: set[str] | None = None,
    case_office: str | None = None,
) -> list[tuple[EventType[Any], BaseModel, str]]:
    """One `order.issued` per provider with granted services (only `providers`, if given),
    built by `orders.rules` (the one structured order)."""
    return orders.orders(
        out,
        builder.recipient(person),
        kind=kind,
        providers=providers,
        case_office=case_office,
        issued_at=ctx.clock.now(),
    )


def dropped_orders(
    ctx: ServiceContext,
    before: DecisionOut,
    out: DecisionOut,
    person: PersonOut,
    *,
    end_date: date,
    case_office: str | None = None,
) -> list[tuple[EventType[Any], BaseModel, str]]:
    """An `ended` order for each provider that had granted services in `before` and has
    none in `out` (the person chose another provider): it must stop delivering."""
    return orders.dropped_orders(
        before,
        out,
        builder.recipient(person),
        end_date=end_date,
        case_office=case_office,
        issued_at=ctx.clock.now(),
    )


async def publish_orders(
    ctx: ServiceContext,
    session: AsyncSession,
    out: DecisionOut,
    person: PersonOut,
    *,
    kind: str,
    providers: set[str] | None = None,
    case_office: str | None = None,
) -> None:
    """One order per provider with granted services (only `providers`, if given)."""
    issued = order_events(ctx, out, person, kind=kind, providers=providers, case_office=case_office)
    if issued:
        await ctx.outbox.add_many(session, issued)


async def publish_dropped(
    ctx: ServiceContext,
    session: AsyncSession,
    before: DecisionOut,
    out: DecisionOut,
    person: PersonOut,
    end_date: date | None,
    case_office: str | None,
) -> None:
    dropped = dropped_orders(
        ctx, before, out, person, end_date=end_date or ctx.clock.today(), case_office=case_office
    )
    if dropped:
        await ctx.outbox.add_many(session, dropped)


async def publish_amended_orders(
    ctx: ServiceContext,
    session: AsyncSession,
    before: DecisionOut,
    out: DecisionOut,
    person: PersonOut,
    case_office: str | None,
) -> None:
    """What an amendment sends (`orders.amended_orders`, as the bulk import): `changed` to a
    provider that keeps services, `new` to one the amendment names for the first time,
    `ended` to one left with none."""
    issued = orders.amended_orders(
        before,
        out,
        builder.recipient(person),
        end_date=ctx.clock.today(),
        case_office=case_office,
        issued_at=ctx.clock.now(),
    )
    if issued:
        await ctx.outbox.add_many(session, issued)
