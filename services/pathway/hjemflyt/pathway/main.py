"""The pathway service: pathways, deadlines, worklists, each person's timeline, indicators.

Run with `uvicorn --factory hjemflyt.pathway.main:create_app`.
"""

from __future__ import annotations

from fastapi import FastAPI

from hjemflyt.pathway.db import SCHEMA, platform_tables
from hjemflyt.pathway.decisions import events as decision_events
from hjemflyt.pathway.decisions.endpoints import router as decisions
from hjemflyt.pathway.subscriptions import merge
from hjemflyt.pathway.timeline import events as timeline_events
from hjemflyt.pathway.timeline.endpoints import router as timeline
from hjemflyt.shared.platform.app import ServiceSpec, create_service_app
from hjemflyt.shared.platform.clock import Clock
from hjemflyt.shared.platform.consumer import Consumer
from hjemflyt.shared.platform.context import ServiceContext
from hjemflyt.shared.platform.settings import Settings


def consumers(ctx: ServiceContext) -> list[Consumer]:
    return [
        # Decisions first: the read model is current when the timeline entry is written.
        ctx.consumer("assessment", merge(decision_events.ASSESSMENT, timeline_events.ASSESSMENT)),
        ctx.consumer("notifications", timeline_events.NOTIFICATIONS),
    ]


SPEC = ServiceSpec(
    name=SCHEMA,
    title="hjemflyt pathway",
    description="Time-limited pathways, deadlines, worklists, each person's timeline and the indicators.",
    tables=platform_tables,
    routers=[timeline, decisions],
    consumers=consumers,
)


def create_app(settings: Settings | None = None, clock: Clock | None = None) -> FastAPI:
    return create_service_app(SPEC, settings, clock)
