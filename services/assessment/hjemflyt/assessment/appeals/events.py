"""Published by appeals (pseudonymous: ids, district, dates and outcomes, never the grounds):
`appeal.received` when an appeal is registered, `appeal.decided` when the municipality decides
it (stage municipality; forwarded when upheld) and when the appeal body's outcome is recorded
(stage county_governor). Appeals consume nothing."""

from __future__ import annotations

from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from hjemflyt.assessment.appeals.models import Appeal
from hjemflyt.shared.contracts.events import APPEAL_DECIDED, APPEAL_RECEIVED, AppealDecided, AppealReceived
from hjemflyt.shared.platform.context import ServiceContext

STAGE_MUNICIPALITY = "municipality"
STAGE_COUNTY_GOVERNOR = "county_governor"


async def publish_received(ctx: ServiceContext, session: AsyncSession, appeal: Appeal) -> None:
    await ctx.outbox.add(
        session,
        APPEAL_RECEIVED,
        AppealReceived(
            appeal_id=appeal.id,
            decision_id=appeal.decision_id,
            person_id=appeal.person_id,
            district=appeal.district,
            received_date=appeal.received_date,
            late=appeal.late,
        ),
        subject=str(appeal.id),
    )


async def publish_decided(
    ctx: ServiceContext,
    session: AsyncSession,
    appeal: Appeal,
    *,
    stage: str,
    outcome: str,
    decided_date: date,
    forwarded: bool,
) -> None:
    await ctx.outbox.add(
        session,
        APPEAL_DECIDED,
        AppealDecided(
            appeal_id=appeal.id,
            decision_id=appeal.decision_id,
            person_id=appeal.person_id,
            district=appeal.district,
            stage=stage,
            outcome=outcome,
            decided_date=decided_date,
            forwarded=forwarded,
            new_decision_id=appeal.new_decision_id if stage == STAGE_MUNICIPALITY else None,
        ),
        subject=str(appeal.id),
    )
