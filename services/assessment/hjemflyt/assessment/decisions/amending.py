"""Editing a decision: a draft freely; a running one only in the person's favour and still
complete (an amendment: the next version, `decision.amended`, `changed` orders and an
`ended` order for a provider left without services). A change to the person's detriment is
refused with 409 and must be a new decision that supersedes it (forvaltningsloven § 35)."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import date
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from hjemflyt.assessment.decisions import builder, events, rules
from hjemflyt.assessment.decisions.catalogue import Catalogue
from hjemflyt.assessment.decisions.recording import (
    age_band,
    broken_rules,
    case_office_of,
    check_etag,
    load,
    record,
    refusal,
)
from hjemflyt.assessment.decisions.rules import Status
from hjemflyt.assessment.decisions.schemas import DecisionContent, DecisionOut
from hjemflyt.assessment.decisions.views import facts, snapshot, to_out
from hjemflyt.assessment.messaging import service as messaging
from hjemflyt.assessment.persons import service as persons
from hjemflyt.shared.platform.auth import Principal
from hjemflyt.shared.platform.context import ServiceContext
from hjemflyt.shared.platform.errors import Conflict


async def edit(
    ctx: ServiceContext,
    session: AsyncSession,
    principal: Principal,
    decision_id: uuid.UUID,
    body: DecisionContent,
    if_match: str | None,
) -> DecisionOut:
    decision = await load(session, principal, decision_id, for_update=True)
    check_etag(decision, if_match, required=True)
    status = Status(decision.status)
    if status == Status.ended:
        raise Conflict("An ended decision cannot change.", slug="decision-ended")
    catalogue = await Catalogue.load(ctx, session)
    before_out = to_out(decision, catalogue)
    before_facts = facts(decision)
    before_terms = (decision.household_income_g, decision.start_date or ctx.clock.today())
    builder.apply(decision, body, catalogue)
    decision.version += 1
    decision.updated_at = ctx.clock.now()
    if status == Status.draft:
        await session.flush()
        return await record(ctx, session, principal, decision, catalogue, "edited", snapshot(before_out))

    # A running decision: only changes in the person's favour, and it must stay complete.
    worse = rules.detriments(
        *_priced(
            before_facts,
            facts(decision),
            catalogue,
            before_terms,
            (decision.household_income_g, decision.start_date or ctx.clock.today()),
        )
    )
    if worse:
        raise Conflict(
            "This change is to the person's detriment and needs a new decision (forvaltningsloven § 35): "
            + "; ".join(worse)
            + ".",
            slug="reduction-requires-new-decision",
            detriments=worse,
        )
    violations = await broken_rules(session, decision, catalogue)
    if violations:
        raise refusal(violations)
    builder.price(decision, catalogue, ctx.clock.today())
    await session.flush()
    out = await record(ctx, session, principal, decision, catalogue, "amended", snapshot(before_out))
    changed = sorted({c["field"] for c in rules.changes(snapshot(before_out), snapshot(out))})
    person = await persons.get(ctx, session, principal, decision.person_id, purpose="issuing a changed order")
    await events.publish_amended(ctx, session, out, changed, age_band(ctx, person, out))
    office = await case_office_of(session, out)
    await events.publish_amended_orders(ctx, session, before_out, out, person, office)
    await messaging.decision_amended(ctx, session, principal, out)
    return out


def _priced(
    before: rules.DecisionFacts,
    after: rules.DecisionFacts,
    catalogue: Catalogue,
    before_terms: tuple[Decimal | None, date],
    after_terms: tuple[Decimal | None, date],
) -> tuple[rules.DecisionFacts, rules.DecisionFacts]:
    """Both sides with the co-payment per month of each service, for the § 35 check.

    Priced for the same scope, the one after the change, under the terms before and after it
    (household income; rates on the start date): more help at the same hourly price is the
    price of the help, not a detriment; the same help at a higher price (a higher household
    income, an income first set on a running decision) is, and needs a new decision."""
    hours = {s.service_type: rules.decided_hours(s) for s in after.services}

    def pay(service: rules.ServiceFacts, terms: tuple[Decimal | None, date]) -> int:
        scope = hours.get(service.service_type, rules.decided_hours(service))
        priced = builder.service_copayment(
            catalogue, service.service_type, service.outcome, scope, terms[0], terms[1]
        )
        return int(priced["monthly_ore"])

    def priced(side: rules.DecisionFacts, terms: tuple[Decimal | None, date]) -> rules.DecisionFacts:
        services = tuple(replace(s, copayment_ore=pay(s, terms)) for s in side.services)
        return replace(side, services=services)

    return priced(before, before_terms), priced(after, after_terms)
