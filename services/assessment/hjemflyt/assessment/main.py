"""The assessment service: referral → assessment → decision → appeal.

Run with `uvicorn --factory hjemflyt.assessment.main:create_app`.
"""

from __future__ import annotations

from fastapi import FastAPI

import hjemflyt.assessment.models  # noqa: F401  (every table on the metadata, for foreign keys)
from hjemflyt.assessment.access.endpoints import router as access
from hjemflyt.assessment.admissions.endpoints import router as admissions
from hjemflyt.assessment.appeals.endpoints import router as appeals
from hjemflyt.assessment.assessments.endpoints import router as assessments
from hjemflyt.assessment.assignments.endpoints import router as assignments
from hjemflyt.assessment.config.endpoints import router as config
from hjemflyt.assessment.db import SCHEMA, platform_tables
from hjemflyt.assessment.decisions import sweep as decision_sweep
from hjemflyt.assessment.decisions.endpoints import router as decisions
from hjemflyt.assessment.decisions.letter_endpoints import router as letters
from hjemflyt.assessment.districts.endpoints import router as districts
from hjemflyt.assessment.documents.endpoints import router as documents
from hjemflyt.assessment.imports.endpoints import BODY_LIMITS as IMPORT_BODY_LIMITS
from hjemflyt.assessment.imports.endpoints import router as imports
from hjemflyt.assessment.iplos.endpoints import router as iplos
from hjemflyt.assessment.messaging import worker as plo_worker
from hjemflyt.assessment.messaging.endpoints import router as plo_messages
from hjemflyt.assessment.persons.endpoints import router as persons
from hjemflyt.assessment.providers import events as provider_events
from hjemflyt.assessment.providers.endpoints import router as providers
from hjemflyt.assessment.referrals.endpoints import router as referrals
from hjemflyt.shared.platform.app import ServiceSpec, create_service_app
from hjemflyt.shared.platform.clock import Clock
from hjemflyt.shared.platform.consumer import Consumer
from hjemflyt.shared.platform.context import ServiceContext
from hjemflyt.shared.platform.periodic import Job, jobs, periodic
from hjemflyt.shared.platform.settings import Settings


def consumers(ctx: ServiceContext) -> list[Consumer]:
    return [ctx.consumer("notifications", provider_events.SUBSCRIPTIONS)]


def background(ctx: ServiceContext) -> dict[str, Job]:
    settings = ctx.settings
    plo = None
    if settings.plo_worker_enabled:
        channel = plo_worker.transport(ctx)
        plo = periodic(
            "plo-messages", lambda: plo_worker.run_once(ctx, channel), every=lambda: settings.plo_poll_seconds
        )
    return jobs(
        periodic(
            "decision-sweep",
            lambda: decision_sweep.sweep_once(ctx),
            every=lambda: settings.decision_sweep_seconds,
            report="decision sweep: %s",
        ),
        plo,
    )


SPEC = ServiceSpec(
    name=SCHEMA,
    title="hjemflyt assessment",
    description="Persons, referrals, assessments, decisions (vedtak) and appeals. Owns personal data.",
    tables=platform_tables,
    routers=[
        config,
        districts,
        persons,
        access,
        admissions,
        referrals,
        assessments,
        decisions,
        assignments,
        letters,
        appeals,
        providers,
        imports,
        iplos,
        plo_messages,
        documents,
    ],
    consumers=consumers,
    workers=background,
    body_limits=IMPORT_BODY_LIMITS,
)


def create_app(settings: Settings | None = None, clock: Clock | None = None) -> FastAPI:
    return create_service_app(SPEC, settings, clock)
