"""The notifications service: structured, acknowledged messaging with providers.

Run with `uvicorn --factory hjemflyt.notifications.main:create_app`.
"""

from __future__ import annotations

from fastapi import FastAPI

from hjemflyt.notifications.db import SCHEMA, platform_tables
from hjemflyt.notifications.orders import events as order_events
from hjemflyt.notifications.orders.endpoints import router as orders
from hjemflyt.notifications.providers.endpoints import router as providers
from hjemflyt.notifications.tasks.endpoints import router as tasks
from hjemflyt.shared.platform.app import ServiceSpec, create_service_app
from hjemflyt.shared.platform.clock import Clock
from hjemflyt.shared.platform.consumer import Consumer
from hjemflyt.shared.platform.context import ServiceContext
from hjemflyt.shared.platform.settings import Settings


def consumers(ctx: ServiceContext) -> list[Consumer]:
    return [ctx.consumer("assessment", order_events.subscriptions(ctx))]


SPEC = ServiceSpec(
    name=SCHEMA,
    title="hjemflyt notifications",
    description="Provider registry, orders to providers, acknowledgements and reports back.",
    tables=platform_tables,
    routers=[providers, orders, tasks],
    consumers=consumers,
)


def create_app(settings: Settings | None = None, clock: Clock | None = None) -> FastAPI:
    return create_service_app(SPEC, settings, clock)
