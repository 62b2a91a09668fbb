"""The notifications service: structured, acknowledged messaging with providers.

Run with `uvicorn --factory hjemflyt.notifications.main:create_app`.
"""

from __future__ import annotations

from fastapi import FastAPI

from hjemflyt.notifications.adjustments.endpoints import router as adjustments
from hjemflyt.notifications.change_of_need.endpoints import router as change_of_need
from hjemflyt.notifications.clarifications.endpoints import router as clarifications
from hjemflyt.notifications.credentials.endpoints import router as credentials
from hjemflyt.notifications.db import SCHEMA, platform_tables
from hjemflyt.notifications.messages import acks, delivery, sweep
from hjemflyt.notifications.messages.endpoints import router as messages
from hjemflyt.notifications.orders import events as order_events
from hjemflyt.notifications.orders import service as orders_service
from hjemflyt.notifications.orders.endpoints import router as orders
from hjemflyt.notifications.pathways import events as pathway_events
from hjemflyt.notifications.providers.endpoints import router as providers
from hjemflyt.notifications.reports import deadlines as report_deadlines
from hjemflyt.notifications.reports.endpoints import router as reports
from hjemflyt.notifications.routines import service as routines_service
from hjemflyt.notifications.routines import worker as routine_worker
from hjemflyt.notifications.routines.endpoints import router as routines
from hjemflyt.notifications.tasks.endpoints import router as tasks
from hjemflyt.notifications.urgent import service as urgent_service
from hjemflyt.notifications.urgent.endpoints import router as urgent_requests
from hjemflyt.notifications.visits.endpoints import BODY_LIMITS as VISIT_BODY_LIMITS
from hjemflyt.notifications.visits.endpoints import router as visits
from hjemflyt.notifications.webhooks.endpoints import router as webhooks
from hjemflyt.shared.platform.app import ServiceSpec, create_service_app
from hjemflyt.shared.platform.clock import Clock
from hjemflyt.shared.platform.consumer import Consumer
from hjemflyt.shared.platform.context import ServiceContext
from hjemflyt.shared.platform.periodic import Job, jobs, periodic
from hjemflyt.shared.platform.settings import Settings

# What follows a provider's accept, reject or silence, by the message's kind.
acks.install(
    {
        "order.": orders_service.ACK_HANDLERS,
        "routine.": routines_service.ACK_HANDLERS,
        "urgent_request.": urgent_service.ACK_HANDLERS,
    }
)


def consumers(ctx: ServiceContext) -> list[Consumer]:
    return [
        ctx.consumer("assessment", order_events.subscriptions(ctx)),
        # The person's pathway, which orders name (a read model of pathway's events).
        ctx.consumer("pathway", pathway_events.subscriptions(ctx)),
    ]


def background(ctx: ServiceContext) -> dict[str, Job]:
    settings = ctx.settings
    return jobs(
        periodic(
            "routine-reminders",
            lambda: routine_worker.sweep_reminders(ctx),
            every=lambda: settings.routine_sweep_seconds,
        ),
        ("webhook-delivery", delivery.worker(ctx).run) if settings.webhook_delivery_enabled else None,
        periodic(
            "acknowledgement-sweep",
            lambda: sweep.sweep_once(ctx),
            every=lambda: settings.ack_sweep_seconds,
            report="escalated %s unacknowledged messages",
        ),
        periodic(
            "report-deadlines", lambda: report_deadlines.sweep_once(ctx), every=report_deadlines.SWEEP_SECONDS
        ),
    )


SPEC = ServiceSpec(
    name=SCHEMA,
    title="hjemflyt notifications",
    description="Provider registry, orders to providers, acknowledgements and reports back.",
    tables=platform_tables,
    routers=[
        *[providers, credentials, routines, orders, tasks, messages, webhooks],
        *[reports, visits, change_of_need, clarifications, urgent_requests, adjustments],
    ],
    consumers=consumers,
    workers=background,
    body_limits=VISIT_BODY_LIMITS,
)


def create_app(settings: Settings | None = None, clock: Clock | None = None) -> FastAPI:
    return create_service_app(SPEC, settings, clock)
