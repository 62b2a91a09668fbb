"""Provider choice (brukervalg): the person was informed and, if they chose, which approved
provider delivers a granted service; a running decision's providers get their orders."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from hjemflyt.assessment.decisions import events, rules
from hjemflyt.assessment.decisions.catalogue import Catalogue
from hjemflyt.assessment.decisions.models import Decision, DecisionService, ProviderChoice
from hjemflyt.assessment.decisions.recording import case_office_of, load, record
from hjemflyt.assessment.decisions.repository import DecisionRepository
from hjemflyt.assessment.decisions.rules import Outcome, Status
from hjemflyt.assessment.decisions.schemas import DecisionOut, ProviderChoiceIn
from hjemflyt.assessment.decisions.views import snapshot, to_out
from hjemflyt.assessment.persons import service as persons
from hjemflyt.assessment.providers.repository import ProviderRepository
from hjemflyt.shared.contracts.events import PROVIDER_CHOSEN, ProviderChosen
from hjemflyt.shared.platform.auth import Principal
from hjemflyt.shared.platform.context import ServiceContext
from hjemflyt.shared.platform.errors import Conflict, RuleViolation


async def choose_provider(
    ctx: ServiceContext,
    session: AsyncSession,
    principal: Principal,
    decision_id: uuid.UUID,
    body: ProviderChoiceIn,
) -> DecisionOut:
    """Record that the person was informed and, if made, their choice (brukervalg)."""
    decision = await load(session, principal, decision_id, for_update=True)
    status = Status(decision.status)
    if status == Status.ended:
        raise Conflict("An ended decision has no provider choice.", slug="decision-ended")
    service = next((s for s in decision.services if s.service_type == body.service_type), None)
    if service is None or service.outcome == Outcome.refused.value:
        raise RuleViolation(f"The decision grants no {body.service_type}.", slug="service-not-granted")
    await _check_choice(session, decision, service, body)
    repo = DecisionRepository(session)
    choice = await repo.choice(decision.id, body.service_type)
    if choice is None:
        choice = ProviderChoice(
            decision_id=decision.id,
            person_id=decision.person_id,
            service_type=body.service_type,
            informed_date=body.informed_date,
            informed_by=principal.subject,
            recorded_at=ctx.clock.now(),
        )
        await repo.add_choice(choice)
    choice.informed_date = body.informed_date
    choice.provider_org = body.provider_org
    choice.chosen_by = body.chosen_by
    choice.chosen_date = body.chosen_date or (ctx.clock.today() if body.provider_org else None)
    choice.recorded_at = ctx.clock.now()
    catalogue = await Catalogue.load(ctx, session)
    before_out = to_out(decision, catalogue)
    before = snapshot(before_out)
    previous = service.provider_org
    changed = body.provider_org is not None and body.provider_org != previous
    if changed:
        service.provider_org = body.provider_org
        decision.version += 1
        decision.updated_at = ctx.clock.now()
    await session.flush()
    out = (
        await record(ctx, session, principal, decision, catalogue, "provider-chosen", before)
        if changed
        else to_out(decision, catalogue)
    )
    await ctx.outbox.add(
        session,
        PROVIDER_CHOSEN,
        ProviderChosen(
            decision_id=decision.id,
            person_id=decision.person_id,
            district=decision.district,
            service_type=service.service_type,
            service_code=service.service_code,
            provider_org=body.provider_org,
            informed_date=choice.informed_date,
            chosen_date=choice.chosen_date,
        ),
        subject=str(decision.id),
    )
    if changed and status in rules.RUNNING:
        person = await persons.get(ctx, session, principal, decision.person_id, purpose="issuing an order")
        office = await case_office_of(session, out)
        assert body.provider_org is not None
        # The new provider gets its order; a previous one that keeps other services of this
        # decision gets the change, and one left with none gets an ended order.
        await events.publish_orders(
            ctx, session, out, person, kind="new", providers={body.provider_org}, case_office=office
        )
        if previous is not None:
            await events.publish_orders(
                ctx, session, out, person, kind="changed", providers={previous}, case_office=office
            )
        await events.publish_dropped(ctx, session, before_out, out, person, choice.chosen_date, office)
    return out


async def _check_choice(
    session: AsyncSession, decision: Decision, service: DecisionService, body: ProviderChoiceIn
) -> None:
    """The chosen provider is approved for the service and the district; the dates agree."""
    if body.provider_org is not None:
        approved = (await ProviderRepository(session).get_many({body.provider_org})).get(body.provider_org)
        if approved is None:
            raise RuleViolation(f"Provider {body.provider_org} is not approved.", slug="unknown-provider")
        if service.service_code not in approved.service_codes:
            raise RuleViolation(
                f"Provider {body.provider_org} may not deliver {body.service_type}.",
                slug="provider-not-approved-for-service",
            )
        if decision.district not in approved.districts:
            raise RuleViolation(
                f"Provider {body.provider_org} does not serve {decision.district}.",
                slug="provider-not-approved-for-district",
            )
    if body.chosen_date and body.chosen_date < body.informed_date:
        raise RuleViolation(
            "The choice cannot come before the person was informed.", slug="chosen-before-informed"
        )
    if body.provider_org is None and body.chosen_by is not None:
        raise RuleViolation("chosen_by needs a provider_org.", slug="choice-without-provider")
