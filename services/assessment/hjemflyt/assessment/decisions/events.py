"""Published: decision made (pseudonymous, for everyone) and one order per chosen provider
(with the personal details that provider needs, for the notifications service only)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from hjemflyt.assessment.decisions.models import Decision
from hjemflyt.assessment.decisions.schemas import ServiceOut
from hjemflyt.assessment.persons.schemas import PersonOut
from hjemflyt.shared.contracts.events import (
    DECISION_MADE,
    ORDER_ISSUED,
    DecidedService,
    DecisionMade,
    OrderIssued,
    OrderRecipient,
)
from hjemflyt.shared.platform.context import ServiceContext


async def publish_decision_made(
    ctx: ServiceContext,
    session: AsyncSession,
    decision: Decision,
    services: list[ServiceOut],
    person: PersonOut,
    case_office: str | None,
) -> None:
    decided = [DecidedService.model_validate(s.model_dump()) for s in services]
    await ctx.outbox.add(
        session,
        DECISION_MADE,
        DecisionMade(
            decision_id=decision.id,
            version=decision.version,
            person_id=decision.person_id,
            district=decision.district,
            decision_date=decision.decision_date,
            start_date=decision.start_date,
            end_date=decision.end_date,
            evaluation_date=decision.evaluation_date,
            services=decided,
            made_at=decision.made_at,
        ),
        subject=str(decision.id),
    )
    for provider_org in sorted({s.provider_org for s in decided}):
        await ctx.outbox.add(
            session,
            ORDER_ISSUED,
            OrderIssued(
                decision_id=decision.id,
                decision_version=decision.version,
                person_id=decision.person_id,
                district=decision.district,
                provider_org=provider_org,
                recipient=OrderRecipient(
                    identity_number=person.identity_number,
                    name=person.name,
                    address=person.address,
                    phone=person.phone,
                ),
                services=[s for s in decided if s.provider_org == provider_org],
                start_date=decision.start_date,
                end_date=decision.end_date,
                case_office_contact=case_office,
                issued_at=decision.made_at,
            ),
            subject=f"{decision.id}/{provider_org}",
        )
