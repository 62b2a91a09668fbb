"""Published: assessment completed, pseudonymous (person_id, scores, how many goals; never the
person's words or who took part). Consumes nothing."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from hjemflyt.assessment.assessments.models import Assessment
from hjemflyt.shared.contracts.events import ASSESSMENT_COMPLETED, AssessmentCompleted
from hjemflyt.shared.platform.context import ServiceContext


async def publish_completed(
    ctx: ServiceContext, session: AsyncSession, assessment: Assessment, completed_at: datetime
) -> None:
    await ctx.outbox.add(
        session,
        ASSESSMENT_COMPLETED,
        AssessmentCompleted(
            assessment_id=assessment.id,
            person_id=assessment.person_id,
            district=assessment.district,
            application_id=assessment.application_id,
            visit_date=assessment.visit_date,
            iplos_version=assessment.iplos_version,
            scores=dict(assessment.scores),
            goals=len(assessment.goals),
            completed_at=completed_at,
        ),
        subject=str(assessment.id),
    )
