"""The pathway service: pathways, deadlines, worklists, each person's timeline, indicators.

Run with `uvicorn --factory hjemflyt.pathway.main:create_app`.
"""

from __future__ import annotations

from fastapi import FastAPI

from hjemflyt.pathway.assignments import events as assignment_events
from hjemflyt.pathway.db import SCHEMA, platform_tables
from hjemflyt.pathway.decisions import events as decision_events
from hjemflyt.pathway.decisions.endpoints import router as decisions
from hjemflyt.pathway.indicators import events as indicator_events
from hjemflyt.pathway.indicators.endpoints import router as indicators
from hjemflyt.pathway.pathways import events as pathway_events
from hjemflyt.pathway.pathways import worker as pathway_worker
from hjemflyt.pathway.pathways.endpoints import router as pathways
from hjemflyt.pathway.responsibility import events as responsibility_events
from hjemflyt.pathway.responsibility.endpoints import router as responsibility
from hjemflyt.pathway.subscriptions import merge
from hjemflyt.pathway.timeline import events as timeline_events
from hjemflyt.pathway.timeline.endpoints import router as timeline
from hjemflyt.pathway.worklists import events as worklist_events
from hjemflyt.pathway.worklists.endpoints import router as worklists
from hjemflyt.shared.platform.app import ServiceSpec, create_service_app
from hjemflyt.shared.platform.clock import Clock
from hjemflyt.shared.platform.consumer import Consumer
from hjemflyt.shared.platform.context import ServiceContext
from hjemflyt.shared.platform.periodic import jobs, periodic
from hjemflyt.shared.platform.settings import Settings


def consumers(ctx: ServiceContext) -> list[Consumer]:
    return [
        # Decisions first: the read model is current when the timeline entry is written.
        ctx.consumer(
            "assessment",
            merge(
                decision_events.ASSESSMENT,
                assignment_events.ASSESSMENT,
                pathway_events.assessment(ctx),
                timeline_events.ASSESSMENT,
                indicator_events.ASSESSMENT,
            ),
        ),
        ctx.consumer(
            "notifications",
            merge(
                timeline_events.NOTIFICATIONS,
                indicator_events.NOTIFICATIONS,
                pathway_events.notifications(ctx),
                worklist_events.NOTIFICATIONS,
                responsibility_events.NOTIFICATIONS,
            ),
        ),
        # budget's deliveries far from the decision: the case office's worklists and the timeline.
        ctx.consumer("budget", merge(worklist_events.BUDGET, timeline_events.BUDGET)),
        # pathway's own events, from its own stream: its timeline entries come as any other's.
        ctx.consumer("pathway", timeline_events.PATHWAY),
    ]


SPEC = ServiceSpec(
    name=SCHEMA,
    title="hjemflyt pathway",
    description="Time-limited pathways, deadlines, worklists, each person's timeline and the indicators.",
    tables=platform_tables,
    routers=[timeline, decisions, indicators, pathways, worklists, responsibility],
    consumers=consumers,
    workers=lambda ctx: jobs(
        periodic(
            "pathway-deadlines",
            lambda: pathway_worker.sweep_once(ctx),
            every=pathway_worker.SWEEP_SECONDS,
            report="opened %s pathway deadline tasks",
        )
    ),
)


def create_app(settings: Settings | None = None, clock: Clock | None = None) -> FastAPI:
    return create_service_app(SPEC, settings, clock)
