"""The platform's outbox relay and app lifespan on a real PostgreSQL and a real NATS.

The app here is a bare `ServiceSpec` on the notifications schema (every schema carries the
platform tables), with no routers of its own: what is tested is the platform only.
"""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from hjemflyt.shared.contracts.envelope import CloudEvent
from hjemflyt.shared.contracts.events import (
    DECISION_MADE,
    PROVIDER_REGISTERED,
    ProviderKind,
    ProviderRegistered,
)
from hjemflyt.shared.platform.app import ServiceContext, ServiceSpec, create_service_app
from hjemflyt.shared.platform.bus import Bus
from hjemflyt.shared.platform.consumer import Consumer, Subscription
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


async def test_a_fetched_batch_commits_once_and_a_failing_event_costs_its_neighbours_nothing(settings):
    """Events published while the consumer is down arrive as one fetched batch. One of them
    fails every time: the batch rolls back, the others are then handled alone (each effect
    once), and the failing one ends as a dead letter after its last delivery."""
    subject = PROVIDER_REGISTERED.subject(settings.bus_namespace, settings.tenant)
    bus = Bus(settings, name="test-producer")
    await bus.connect()
    published: dict[int, uuid.UUID] = {}
    try:
        await bus.ensure_stream("notifications")
        for version in (1, 2, 13, 4, 5):
            event = CloudEvent(
                id=uuid.uuid4(),
                source="/hjemflyt/notifications",
                type=PROVIDER_REGISTERED.name,
                subject="812345672",
                time=datetime(2026, 11, 22, 10, 0, tzinfo=UTC),
                dataschema=PROVIDER_REGISTERED.dataschema,
                tenant=settings.tenant,
                data=registered(version).model_dump(mode="json"),
            )
            await bus.js.publish(
                subject, event.model_dump_json().encode(), headers={"Nats-Msg-Id": str(event.id)}
            )
            published[version] = event.id
    finally:
        await bus.close()

    calls: list[int] = []

    async def handler(session: AsyncSession, event: CloudEvent, data: ProviderRegistered) -> None:
        calls.append(data.version)
        if data.version == 13:
            raise RuntimeError("this event always fails")
        await session.execute(text("insert into scratch.effect (version) values (:v)"), {"v": data.version})

    def consumers(ctx: ServiceContext) -> list[Consumer]:
        return [
            Consumer(
                consumer="batch-test",
                producer="notifications",
                subscriptions=[Subscription(PROVIDER_REGISTERED, handler)],
                sessionmaker=ctx.sessionmaker,
                tables=ctx.tables,
                bus=ctx.bus,
                settings=ctx.settings,
                clock=ctx.clock,
            )
        ]

    engine = create_async_engine(settings.database_url)
    async with engine.begin() as conn:
        await conn.execute(text("create schema scratch"))
        await conn.execute(text("create table scratch.effect (version int)"))
    await engine.dispose()

    app = create_service_app(dataclasses.replace(SPEC, consumers=consumers), settings)
    async with app.router.lifespan_context(app):
        ctx = app.state.ctx

        async def dead_lettered() -> uuid.UUID:
            async with ctx.sessionmaker() as s:
                dead = (await s.scalars(select(TABLES.dead_letter.c.event_id))).all()
            assert len(dead) == 1
            return dead[0]

        dead = await eventually(dead_lettered)
        async with ctx.sessionmaker() as s:
            inbox = set((await s.scalars(select(TABLES.inbox.c.event_id))).all())
            effects = sorted((await s.scalars(text("select version from scratch.effect"))).all())
    assert dead == published[13]
    assert inbox == {event_id for version, event_id in published.items() if version != 13}
    assert effects == [1, 2, 4, 5]  # each once, though attempts were rolled back
    assert calls[:3] == [1, 2, 13]  # one batch, in stream order, until the failure
    # Its first delivery ran in the batch and then alone; each later one alone.
    assert calls.count(13) == settings.consumer_max_deliver + 1
