"""The platform's outbox relay and app lifespan on a real PostgreSQL and a real NATS.

The app here is a bare `ServiceSpec` on the notifications schema (every schema carries the
platform tables), with no routers of its own: what is tested is the platform only.
"""

from __future__ import annotations

import asyncio
import uuid

import pytest
from sqlalchemy import select

from hjemflyt.shared.contracts.events import (
    DECISION_MADE,
    PROVIDER_REGISTERED,
    ProviderKind,
    ProviderRegistered,
)
from hjemflyt.shared.platform.app import ServiceSpec, create_service_app
from hjemflyt.shared.platform.db import make_metadata, unit_of_work
from hjemflyt.shared.platform.tables import define_platform_tables
from hjemflyt.shared.testing import eventually

TABLES = define_platform_tables(make_metadata("notifications"))
SPEC = ServiceSpec(
    name="notifications",
    title="platform under test",
    description="",
    tables=TABLES,
    routers=[],
)


def registered(version: int = 1) -> ProviderRegistered:
    return ProviderRegistered(
        provider_org="812345672",
        name="Omsorgspartner Demo AS",
        kind=ProviderKind.private,
        service_codes=["15"],
        districts=["frogner"],
        version=version,
    )


async def test_the_outbox_publishes_committed_events_once_and_forgets_rolled_back_ones(settings):
    app = create_service_app(SPEC, settings)
    async with app.router.lifespan_context(app):
        ctx = app.state.ctx

        class Abort(Exception):
            pass

        async def change_that_fails() -> None:
            async with unit_of_work(ctx.sessionmaker) as session:
                await ctx.outbox.add(session, PROVIDER_REGISTERED, registered(1), subject="812345672")
                raise Abort

        with pytest.raises(Abort):
            await change_that_fails()
        async with unit_of_work(ctx.sessionmaker) as session:
            event = await ctx.outbox.add(session, PROVIDER_REGISTERED, registered(2), subject="812345672")

        async def published():
            async with ctx.sessionmaker() as s:
                rows = (await s.execute(select(TABLES.outbox.c.event_id, TABLES.outbox.c.published_at))).all()
            assert len(rows) == 1
            assert rows[0][0] == event.id
            assert rows[0][1] is not None

        await eventually(published)
        stream = ctx.bus.stream_for("notifications")
        assert (await ctx.bus.js.stream_info(stream)).state.messages == 1
        msg = await ctx.bus.js.get_msg(stream, 1)
        assert msg.subject == PROVIDER_REGISTERED.subject(settings.bus_namespace, settings.tenant)
        assert msg.headers["Nats-Msg-Id"] == str(event.id)
        assert b'"version":2' in msg.data
        # Publishing the same row again (a relay that died before marking it) is dropped by
        # the stream's duplicate window.
        ack = await ctx.bus.js.publish(msg.subject, msg.data, headers={"Nats-Msg-Id": str(event.id)})
        assert ack.duplicate
        assert (await ctx.bus.js.stream_info(stream)).state.messages == 1
        with pytest.raises(ValueError, match="cannot publish"):
            async with unit_of_work(ctx.sessionmaker) as session:
                await ctx.outbox.add(session, DECISION_MADE, registered(), subject=str(uuid.uuid4()))


async def shutdown_finishes(settings, *, wake: bool) -> bool:
    """Start the app, let the relay go idle, (optionally) wake it as shutdown begins; True if
    the lifespan ends within a few seconds. A hung relay is cancelled again to clean up."""
    # A long poll interval: the idle relay is certainly waiting for its wake-up, not polling.
    app = create_service_app(SPEC, settings.model_copy(update={"outbox_poll_seconds": 60.0}))
    lifespan = app.router.lifespan_context(app)
    await lifespan.__aenter__()
    await asyncio.sleep(0.5)  # the relay is now waiting for a NOTIFY or its poll interval
    if wake:
        # What the LISTEN callback does when a commit's NOTIFY arrives, here at the very
        # moment the lifespan cancels the relay.
        app.state.relay._wake.set()
    exit_ = asyncio.create_task(lifespan.__aexit__(None, None, None))
    done, _ = await asyncio.wait({exit_}, timeout=2)
    if not done:
        for task in app.state.tasks:
            task.cancel()
        await asyncio.wait_for(exit_, 10)
    return bool(done)


async def test_shutdown_of_an_idle_service_is_prompt(settings):
    assert await shutdown_finishes(settings, wake=False)


async def test_shutdown_is_prompt_when_a_notify_arrives_at_the_same_moment(settings):
    assert await shutdown_finishes(settings, wake=True)
