"""Published: a referral received and an application registered (the case-handling clock
started). Pseudonymous: the person's id, never their name, number or the referral's text.
Consumed: nothing."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from hjemflyt.assessment.referrals.models import Application, Referral
from hjemflyt.shared.contracts.events import (
    APPLICATION_REGISTERED,
    REFERRAL_RECEIVED,
    ApplicationRegistered,
    ReferralReceived,
)
from hjemflyt.shared.platform.context import ServiceContext


async def publish_referral_received(ctx: ServiceContext, session: AsyncSession, referral: Referral) -> None:
    await ctx.outbox.add(
        session,
        REFERRAL_RECEIVED,
        ReferralReceived(
            referral_id=referral.id,
            person_id=referral.person_id,
            district=referral.district,
            source=referral.source,
            requested_services=list(referral.requested_services),
            received_at=referral.received_at,
        ),
        subject=str(referral.id),
    )


async def publish_application_registered(
    ctx: ServiceContext, session: AsyncSession, application: Application
) -> None:
    await ctx.outbox.add(
        session,
        APPLICATION_REGISTERED,
        ApplicationRegistered(
            application_id=application.id,
            person_id=application.person_id,
            district=application.district,
            referral_id=application.referral_id,
            services=list(application.services),
            received_date=application.received_date,
            deadline_date=application.deadline_date,
        ),
        subject=str(application.id),
    )
