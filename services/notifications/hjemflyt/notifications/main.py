"""The notifications service: structured, acknowledged messaging with providers.

Run with `uvicorn --factory hjemflyt.notifications.main:create_app`.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import FastAPI

from hjemflyt.notifications.credentials.endpoints import router as credentials
from hjemflyt.notifications.db import SCHEMA, platform_tables
from hjemflyt.notifications.messages import delivery, sweep
from hjemflyt.notifications.messages.endpoints import router as messages
from hjemflyt.notifications.orders import events as order_events
from hjemflyt.notifications.orders.endpoints import router as orders
from hjemflyt.notifications.providers.endpoints import router as providers
from hjemflyt.notifications.routines import worker as routine_worker
from hjemflyt.notifications.routines.endpoints import router as routines
from hjemflyt.notifications.tasks.endpoints import router as tasks
from hjemflyt.notifications.webhooks.endpoints import router as webhooks
from hjemflyt.shared.platform.app import ServiceSpec, create_service_app
from hjemflyt.shared.platform.clock import Clock
from hjemflyt.shared.platform.consumer import Consumer
from hjemflyt.shared.platform.context import ServiceContext
from hjemflyt.shared.platform.settings import Settings


def consumers(ctx: ServiceContext) -> list[Consumer]:
    return [ctx.consumer("assessment", order_events.subscriptions(ctx))]


def workers(ctx: ServiceContext) -> dict[str, Callable[[], Coroutine[Any, Any, None]]]:
    return {
        **routine_worker.workers(ctx),
        **({"webhook-delivery": delivery.worker(ctx).run} if ctx.settings.webhook_delivery_enabled else {}),
        "acknowledgement-sweep": lambda: sweep.run(ctx),
    }


SPEC = ServiceSpec(
    name=SCHEMA,
    title="hjemflyt notifications",
    description="Provider registry, orders to providers, acknowledgements and reports back.",
    tables=platform_tables,
    routers=[providers, credentials, routines, orders, tasks, messages, webhooks],
    consumers=consumers,
    workers=workers,
)


def create_app(settings: Settings | None = None, clock: Clock | None = None) -> FastAPI:
    return create_service_app(SPEC, settings, clock)
