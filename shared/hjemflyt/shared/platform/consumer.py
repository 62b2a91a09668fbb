"""Durable pull consumers with an inbox and a dead-letter table.

One durable consumer per consuming service on each producer's stream (replicas of the
service share it). Each fetched batch is handled in one unit of work; each event's handler
runs after its id is recorded in the inbox, so a redelivered copy finds its id there and
has no second effect. Messages are acknowledged only after the commit. When any handler
in a batch fails, the batch is rolled back and its messages are handled one by one.

Failures: a handler error naks with a growing delay (`consumer_backoff_seconds`); on the
last allowed delivery (`consumer_max_deliver`) the message goes to the dead-letter table
with an ERROR log and a metric, and is terminated. A payload that cannot be parsed is
dead-lettered at once: retrying cannot help. If the process itself dies on a message until
JetStream gives up, the server's max-deliveries advisory is turned into a dead letter too.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from nats.aio.msg import Msg
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import NotFoundError
from prometheus_client import Counter
from pydantic import BaseModel, ValidationError
from sqlalchemy import insert
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hjemflyt.shared.contracts.envelope import CloudEvent
from hjemflyt.shared.contracts.registry import EventType
from hjemflyt.shared.contracts.sealed import context as sealed_context
from hjemflyt.shared.platform.bus import Bus
from hjemflyt.shared.platform.clock import Clock
from hjemflyt.shared.platform.crypto import BusSealer
from hjemflyt.shared.platform.db import unit_of_work
from hjemflyt.shared.platform.settings import Settings
from hjemflyt.shared.platform.tables import PlatformTables

log = logging.getLogger(__name__)
M = TypeVar("M", bound=BaseModel)

HANDLED = Counter("hjemflyt_events_handled_total", "Events handled", ["consumer", "type"])
DUPLICATES = Counter("hjemflyt_events_duplicate_total", "Redelivered events ignored", ["consumer", "type"])
FAILURES = Counter("hjemflyt_events_failed_total", "Handler failures (will retry)", ["consumer", "type"])
DEAD_LETTERS = Counter("hjemflyt_dead_letters_total", "Events moved to the dead-letter table", ["consumer"])

Handler = Callable[[AsyncSession, CloudEvent, M], Awaitable[None]]


@dataclass(frozen=True)
class Subscription(Generic[M]):
    event_type: EventType[M]
    handler: Handler[M]


@dataclass(frozen=True)
class _Ready:
    """A parsed message whose handler is known."""

    msg: Msg
    event: CloudEvent
    sub: Subscription[Any]
    data: BaseModel


class Consumer:
    """Consumes the events of one producing service for one consuming service."""

    def __init__(
        self,
        *,
        consumer: str,
        producer: str,
        subscriptions: Sequence[Subscription[Any]],
        sessionmaker: async_sessionmaker[AsyncSession],
        tables: PlatformTables,
        bus: Bus,
        settings: Settings,
        clock: Clock,
    ) -> None:
        if not subscriptions:
            raise ValueError("a consumer needs at least one subscription")
        # One handler per type: a second one for the same type would silently replace the first.
        names = [sub.event_type.name for sub in subscriptions]
        if twice := sorted({name for name in names if names.count(name) > 1}):
            raise ValueError(f"{consumer} has two handlers for {', '.join(twice)}: chain them in one")
        for sub in subscriptions:
            if sub.event_type.service != producer:
                raise ValueError(f"{sub.event_type.name} is not produced by {producer}")
            if sub.event_type.personal_data and consumer != "notifications":
                raise ValueError(f"{consumer} may not consume {sub.event_type.name} (personal data)")
        self.consumer = consumer
        self.producer = producer
        self.handlers = {sub.event_type.name: sub for sub in subscriptions}
        self.sessionmaker = sessionmaker
        self.tables = tables
        self.bus = bus
        self.settings = settings
        self.clock = clock
        key = settings.bus_key()
        self._sealed = sealed_context(BusSealer(key) if key else None)
        self.durable = f"{consumer}"
        self.stream = ""

    @property
    def config(self) -> ConsumerConfig:
        ns = self.settings.bus_namespace
        return ConsumerConfig(
            durable_name=self.durable,
            deliver_policy=DeliverPolicy.ALL,
            ack_policy=AckPolicy.EXPLICIT,
            ack_wait=self.settings.consumer_ack_wait_seconds,
            max_deliver=self.settings.consumer_max_deliver,
            max_ack_pending=1000,
            filter_subjects=sorted(sub.event_type.filter_subject(ns) for sub in self.handlers.values()),
        )

    async def setup(self) -> None:
        self.stream = await self.bus.ensure_stream(self.producer)
        # add_consumer with the same durable name updates the filter set when it grows.
        await self.bus.js.add_consumer(self.stream, config=self.config)

    def backoff(self, deliveries: int) -> float:
        steps = self.settings.consumer_backoff_seconds
        return steps[min(deliveries - 1, len(steps) - 1)]

    async def _parse(self, msg: Msg) -> _Ready | None:
        """The message ready for its handler, or None when it was settled here."""
        try:
            event = CloudEvent.model_validate_json(msg.data)
        except ValidationError as exc:
            await self._dead_letter(msg, None, f"unreadable envelope: {exc}"[:2000])
            await msg.term()
            return None
        sub = self.handlers.get(event.type)
        if sub is None:
            # Filter subjects make this rare (e.g. a type we stopped handling): skip it.
            await msg.ack()
            return None
        try:
            data = sub.event_type.model.model_validate(event.data, context=self._sealed)
        except ValidationError as exc:
            # Retrying cannot make a payload fit its model.
            await self._dead_letter(msg, event, f"payload does not fit {event.type}: {exc}"[:2000])
            await msg.term()
            return None
        return _Ready(msg, event, sub, data)

    async def _apply(self, session: AsyncSession, ready: _Ready) -> bool:
        """Record the event in the inbox and run its handler; False for a duplicate."""
        event = ready.event
        first = await session.execute(
            pg_insert(self.tables.inbox)
            .values(event_id=event.id, type=event.type, consumer=self.consumer, processed_at=self.clock.now())
            .on_conflict_do_nothing()
            .returning(self.tables.inbox.c.event_id)
        )
        if first.first() is None:
            return False
        await ready.sub.handler(session, event, ready.data)
        return True

    async def _settled(self, ready: _Ready, first: bool) -> None:
        """After the commit: count it and acknowledge it."""
        (HANDLED if first else DUPLICATES).labels(self.consumer, ready.event.type).inc()
        await ready.msg.ack()

    async def handle(self, msg: Msg) -> None:
        """Handle one message in a unit of work of its own."""
        ready = await self._parse(msg)
        if ready is not None:
            await self._handle_alone(ready)

    async def _handle_alone(self, ready: _Ready) -> None:
        try:
            async with unit_of_work(self.sessionmaker) as session:
                first = await self._apply(session, ready)
        except Exception as exc:
            await self._failed(ready, exc)
            return
        await self._settled(ready, first)

    async def handle_batch(self, msgs: Sequence[Msg]) -> None:
        """Handle a fetched batch in one unit of work: one commit instead of one per event.

        Under load the commit (a WAL flush) and its round trips dominate a small handler. If
        any handler in the batch fails, the whole unit of work rolls back and each message is
        handled alone, so one bad event costs its neighbours a retry, never an effect.
        """
        batch = [ready for msg in msgs if (ready := await self._parse(msg)) is not None]
        if len(batch) == 1:
            await self._handle_alone(batch[0])
            return
        if not batch:
            return
        try:
            async with unit_of_work(self.sessionmaker) as session:
                firsts = []
                for ready in batch:
                    firsts.append(await self._apply(session, ready))
                    # Each handler starts from the database as if it had a transaction of
                    # its own, not from ORM objects another handler left in the session.
                    await session.flush()
                    session.expunge_all()
        except Exception as exc:
            log.info(
                "a batch of %d failed (%s); handling its messages one by one", len(batch), type(exc).__name__
            )
            for ready in batch:
                await self._handle_alone(ready)
            return
        for ready, first in zip(batch, firsts, strict=True):
            await self._settled(ready, first)

    async def _failed(self, ready: _Ready, exc: Exception) -> None:
        msg, event = ready.msg, ready.event
        deliveries = msg.metadata.num_delivered
        FAILURES.labels(self.consumer, event.type).inc()
        if deliveries >= self.settings.consumer_max_deliver:
            await self._dead_letter(msg, event, f"{type(exc).__name__}: {exc}"[:2000])
            await msg.term()
        else:
            delay = self.backoff(deliveries)
            log.warning(
                "handler for %s failed (delivery %d), retrying in %.0fs: %s",
                event.type,
                deliveries,
                delay,
                type(exc).__name__,
            )
            await msg.nak(delay=delay)

    async def _dead_letter(self, msg: Msg, event: CloudEvent | None, error: str) -> None:
        await self.record_dead_letter(
            subject=msg.subject,
            payload=msg.data,
            event=event,
            deliveries=msg.metadata.num_delivered,
            stream_seq=msg.metadata.sequence.stream,
            error=error,
        )

    async def record_dead_letter(
        self,
        *,
        subject: str,
        payload: bytes,
        event: CloudEvent | None,
        deliveries: int,
        stream_seq: int | None,
        error: str,
    ) -> None:
        async with unit_of_work(self.sessionmaker) as session:
            await session.execute(
                insert(self.tables.dead_letter).values(
                    event_id=event.id if event else None,
                    type=event.type if event else None,
                    subject=subject,
                    consumer=self.consumer,
                    deliveries=deliveries,
                    error=error,
                    payload=payload,
                    stream_seq=stream_seq,
                    created_at=self.clock.now(),
                )
            )
        DEAD_LETTERS.labels(self.consumer).inc()
        # The alert: operators watch ERROR logs and hjemflyt_dead_letters_total.
        log.error(
            "ALERT dead letter: consumer=%s type=%s event=%s after %d deliveries",
            self.consumer,
            event.type if event else "?",
            event.id if event else "?",
            deliveries,
        )

    async def _watch_max_deliveries(self) -> None:
        """Dead-letter messages JetStream gave up on without our handler deciding."""
        subject = f"$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.{self.stream}.{self.durable}"
        sub = await self.bus.nc.subscribe(subject)
        try:
            async for advisory in sub.messages:
                try:
                    info = json.loads(advisory.data)
                    seq = int(info["stream_seq"])
                    raw = await self.bus.js.get_msg(self.stream, seq)
                    payload = raw.data or b""
                    event: CloudEvent | None
                    try:
                        event = CloudEvent.model_validate_json(payload)
                    except ValidationError:
                        event = None
                    await self.record_dead_letter(
                        subject=raw.subject or "",
                        payload=payload,
                        event=event,
                        deliveries=int(info.get("deliveries", 0)),
                        stream_seq=seq,
                        error="JetStream max deliveries reached without an answer from the handler",
                    )
                except Exception:
                    log.exception("could not record a max-deliveries advisory")
        finally:
            await sub.unsubscribe()

    async def run(self) -> None:
        while True:
            try:
                await self.setup()
                break
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("consumer %s/%s setup failed, retrying: %s", self.consumer, self.producer, exc)
                await asyncio.sleep(1)
        watcher = asyncio.create_task(self._watch_max_deliveries())
        try:
            psub = await self.bus.js.pull_subscribe_bind(self.durable, stream=self.stream)
            while True:
                try:
                    msgs = await psub.fetch(self.settings.consumer_batch_size, timeout=2)
                except (NatsTimeoutError, TimeoutError):  # nats-py raises either when nothing came
                    continue
                except asyncio.CancelledError:
                    raise
                except NotFoundError:
                    # The consumer vanished (e.g. stream recreated after a wipe): declare it again.
                    await self.setup()
                    psub = await self.bus.js.pull_subscribe_bind(self.durable, stream=self.stream)
                    continue
                except Exception as exc:
                    log.warning("fetch failed (%s); retrying", type(exc).__name__)
                    await asyncio.sleep(0.5)
                    continue
                try:
                    await self.handle_batch(msgs)
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    # Unacknowledged: JetStream redelivers after ack_wait; the inbox absorbs it.
                    log.warning("could not settle a batch (%s); it will be redelivered", exc)
        finally:
            watcher.cancel()
            await asyncio.gather(watcher, return_exceptions=True)
