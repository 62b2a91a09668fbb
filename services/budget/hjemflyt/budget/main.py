"""The budget service: financing models, allocation, simulation, provider settlement.

Run with `uvicorn --factory hjemflyt.budget.main:create_app`.
"""

from __future__ import annotations

from fastapi import FastAPI

from hjemflyt.budget.allocations.endpoints import router as allocations
from hjemflyt.budget.db import SCHEMA, platform_tables
from hjemflyt.budget.delivered import worker as delivered_worker
from hjemflyt.budget.delivered.endpoints import router as delivered
from hjemflyt.budget.deliveries import events as deliveries_events
from hjemflyt.budget.financing.endpoints import router as rule_sets
from hjemflyt.budget.hours import events as hours_events
from hjemflyt.budget.hours.endpoints import router as hours
from hjemflyt.budget.kostra.endpoints import router as kostra
from hjemflyt.budget.pictures.endpoints import router as pictures
from hjemflyt.budget.settlements.endpoints import router as settlements
from hjemflyt.budget.simulations.endpoints import router as simulations
from hjemflyt.shared.platform.app import ServiceSpec, create_service_app
from hjemflyt.shared.platform.clock import Clock
from hjemflyt.shared.platform.consumer import Consumer
from hjemflyt.shared.platform.context import ServiceContext
from hjemflyt.shared.platform.periodic import jobs, periodic
from hjemflyt.shared.platform.settings import Settings


def consumers(ctx: ServiceContext) -> list[Consumer]:
    return [
        ctx.consumer("assessment", hours_events.ASSESSMENT + deliveries_events.ASSESSMENT),
        ctx.consumer("notifications", hours_events.NOTIFICATIONS + deliveries_events.NOTIFICATIONS),
    ]


SPEC = ServiceSpec(
    name=SCHEMA,
    title="hjemflyt budget",
    description="Financing models, allocation among units, simulation and provider settlement.",
    tables=platform_tables,
    routers=[hours, rule_sets, allocations, settlements, simulations, kostra, pictures, delivered],
    consumers=consumers,
    workers=lambda ctx: jobs(
        periodic(
            "delivery-flags",
            lambda: delivered_worker.sweep_once(ctx),
            every=delivered_worker.SWEEP_SECONDS,
            report="flagged %s deliveries far from their decisions",
        )
    ),
)


def create_app(settings: Settings | None = None, clock: Clock | None = None) -> FastAPI:
    return create_service_app(SPEC, settings, clock)
