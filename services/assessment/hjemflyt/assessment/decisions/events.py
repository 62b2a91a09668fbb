"""Published by decisions: made, amended, ended (pseudonymous, for every service), provider
chosen, and the orders (with the personal details one provider needs, for notifications only)."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from hjemflyt.assessment.decisions.models import Decision
from hjemflyt.assessment.decisions.schemas import DecisionOut
from hjemflyt.assessment.orders import rules as orders
from hjemflyt.assessment.persons.schemas import PersonOut
from hjemflyt.shared.contracts.events import (
    DECISION_ACTIVATED,
    DECISION_AMENDED,
    DECISION_ENDED,
    DECISION_MADE,
    AgeBand,
    DecidedService,
    DecisionActivated,
    DecisionAmended,
    DecisionEnded,
    DecisionMade,
    OrderRecipient,
)
from hjemflyt.shared.contracts.registry import EventType
from hjemflyt.shared.identity import InvalidIdentityNumber, Month40Meaning, age_band, parse_identity_number
from hjemflyt.shared.platform.context import ServiceContext


def decided_services(out: DecisionOut) -> list[DecidedService]:
    """The decision's services with scope, frames and measures (built in `orders.rules`)."""
    return orders.decided_services(out)


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


def made_event(
    out: DecisionOut, band: AgeBand | None = None, decided: list[DecidedService] | None = None
) -> tuple[EventType[Any], BaseModel, str]:
    """`decision.made` as (type, data, subject), for `Outbox.add_many`; `decided`: the
    decision's `decided_services` if the caller built them already."""
    assert out.decision_date is not None
    assert out.start_date is not None
    assert out.made_at is not None
    return (
        DECISION_MADE,
        DecisionMade(
            decision_id=out.id,
            version=out.version,
            person_id=out.person_id,
            district=out.district,
            decision_date=out.decision_date,
            start_date=out.start_date,
            end_date=out.end_date,
            evaluation_date=out.evaluation_date,
            services=decided if decided is not None else decided_services(out),
            made_at=out.made_at,
            application_id=out.application_id,
            supersedes_id=out.supersedes_id,
            legal_basis=out.legal_basis,
            age_band=band,
        ),
        str(out.id),
    )


async def publish_made(
    ctx: ServiceContext, session: AsyncSession, out: DecisionOut, band: AgeBand | None = None
) -> None:
    await ctx.outbox.add_many(session, [made_event(out, band)])


async def publish_amended(
    ctx: ServiceContext,
    session: AsyncSession,
    out: DecisionOut,
    changed: list[str],
    band: AgeBand | None = None,
) -> None:
    assert out.start_date
    await ctx.outbox.add(
        session,
        DECISION_AMENDED,
        DecisionAmended(
            decision_id=out.id,
            version=out.version,
            person_id=out.person_id,
            district=out.district,
            start_date=out.start_date,
            end_date=out.end_date,
            evaluation_date=out.evaluation_date,
            services=decided_services(out),
            changes=changed,
            amended_at=ctx.clock.now(),
            age_band=band,
        ),
        subject=str(out.id),
    )


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


def _recipient(person: PersonOut) -> OrderRecipient:
    return orders.recipient(person.identity_number, person.name, person.address, person.phone)


def order_events(
    ctx: ServiceContext,
    out: DecisionOut,
    person: PersonOut,
    *,
    kind: str,
    providers: set[str] | None = None,
    case_office: str | None = None,
    decided: list[DecidedService] | None = None,
) -> list[tuple[EventType[Any], BaseModel, str]]:
    """One `order.issued` per provider with granted services (only `providers`, if given),
    built by `orders.rules` (the one structured order)."""
    return orders.orders(
        out,
        _recipient(person),
        kind=kind,
        providers=providers,
        case_office=case_office,
        issued_at=ctx.clock.now(),
        decided=decided,
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
        before, out, _recipient(person), end_date=end_date, case_office=case_office, issued_at=ctx.clock.now()
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
