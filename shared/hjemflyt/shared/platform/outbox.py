"""Transactional outbox: events are rows written in the same transaction as the change, and
a relay publishes them to JetStream in order.

- `Outbox.add` inserts the envelope and a NOTIFY (delivered only on commit) that wakes the
  relay at once; a poll interval covers missed notifications.
- `OutboxRelay` takes a transaction-scoped advisory lock so only one replica publishes at
  a time (this keeps publish order equal to commit order per service), publishes a batch
  of rows in seq order with `Nats-Msg-Id` = event id (pipelined: all sent, then the acks
  taken in order), and marks the acked ones published in the same transaction. If NATS
  is down the rows stay and the relay retries with back-off; if the relay dies after
  publishing but before marking, the duplicate window and the consumers' inbox absorb the
  second copy.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar
from uuid import uuid4

from prometheus_client import Counter
from pydantic import BaseModel
from sqlalchemy import func, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hjemflyt.shared.contracts.envelope import CloudEvent
from hjemflyt.shared.contracts.registry import EventType
from hjemflyt.shared.contracts.sealed import Sealer
from hjemflyt.shared.contracts.sealed import context as sealed_context
from hjemflyt.shared.platform.bus import Bus
from hjemflyt.shared.platform.clock import Clock
from hjemflyt.shared.platform.db import transaction_driver
from hjemflyt.shared.platform.periodic import listen
from hjemflyt.shared.platform.tables import PlatformTables

log = logging.getLogger(__name__)
M = TypeVar("M", bound=BaseModel)

PUBLISHED = Counter("hjemflyt_outbox_published_total", "Events published from the outbox", ["service"])
PUBLISH_FAILURES = Counter("hjemflyt_outbox_publish_failures_total", "Failed publish attempts", ["service"])


def notify_channel(schema: str) -> str:
    return f"hjemflyt_outbox_{schema}"


@dataclass
class Outbox:
    service: str
    schema: str
    tables: PlatformTables
    namespace: str
    default_tenant: str
    clock: Clock
    sealer: Sealer | None  # seals personal data in events before it is stored (contracts/sealed.py)

    def _check(self, event_type: EventType[Any]) -> None:
        if event_type.service != self.service:
            raise ValueError(f"{self.service} cannot publish {event_type.name}")
        if event_type.personal_data and self.sealer is None:
            raise RuntimeError(f"{event_type.name} carries personal data and HJEMFLYT_BUS_PII_KEY is not set")

    async def add(
        self,
        session: AsyncSession,
        event_type: EventType[M],
        data: M,
        *,
        subject: str,
        tenant: str | None = None,
        traceparent: str | None = None,
    ) -> CloudEvent:
        self._check(event_type)
        tenant = tenant or self.default_tenant
        event = CloudEvent(
            id=uuid4(),
            source=f"/hjemflyt/{self.service}",
            type=event_type.name,
            subject=subject,
            time=self.clock.now(),
            dataschema=event_type.dataschema,
            tenant=tenant,
            traceparent=traceparent,
            data=data.model_dump(mode="json", context=sealed_context(self.sealer)),
        )
        await session.execute(
            insert(self.tables.outbox).values(
                event_id=event.id,
                subject=event_type.subject(self.namespace, tenant),
                type=event_type.name,
                envelope=event.model_dump_json().encode(),
                created_at=event.time,
            )
        )
        # One NOTIFY per transaction is enough to wake the relay (each one costs a round trip).
        if not session.info.get("outbox_notified"):
            channel = notify_channel(self.schema)
            await session.execute(text("SELECT pg_notify(:channel, '')"), {"channel": channel})
            session.info["outbox_notified"] = True
        return event

    def rows(
        self,
        events: Sequence[tuple[EventType[Any], BaseModel, str]],
        *,
        tenant: str | None = None,
        traceparent: str | None = None,
    ) -> tuple[list[CloudEvent], list[tuple[Any, ...]]]:
        """The envelopes of events (type, data, subject) and their outbox rows
        (event_id, subject, type, envelope, created_at), in the order given, for a use case
        that writes them in a statement of its own (`add_many` is the usual way); it must
        also NOTIFY `notify_channel(schema)` in the same transaction."""
        tenant = tenant or self.default_tenant
        now = self.clock.now()
        out: list[CloudEvent] = []
        rows: list[tuple[Any, ...]] = []
        for event_type, data, subject in events:
            self._check(event_type)
            event = CloudEvent(
                id=uuid4(),
                source=f"/hjemflyt/{self.service}",
                type=event_type.name,
                subject=subject,
                time=now,
                dataschema=event_type.dataschema,
                tenant=tenant,
                traceparent=traceparent,
                data=data.model_dump(mode="json", context=sealed_context(self.sealer)),
            )
            out.append(event)
            subject_ = event_type.subject(self.namespace, tenant)
            rows.append((event.id, subject_, event_type.name, event.model_dump_json().encode(), now))
        return out, rows

    async def add_many(
        self,
        session: AsyncSession,
        events: Sequence[tuple[EventType[Any], BaseModel, str]],
        *,
        tenant: str | None = None,
        traceparent: str | None = None,
    ) -> list[CloudEvent]:
        """Many events (type, data, subject) in one COPY and one NOTIFY, for bulk use cases
        (an import writes thousands). They are published in the order given, as if added one
        by one. COPY runs on the session's own connection, so in its transaction."""
        out, rows = self.rows(events, tenant=tenant, traceparent=traceparent)
        if not rows:
            return out
        # The NOTIFY first: it also opens the transaction on the connection that COPY then uses.
        if not session.info.get("outbox_notified"):
            channel = notify_channel(self.schema)
            await session.execute(text("SELECT pg_notify(:channel, '')"), {"channel": channel})
            session.info["outbox_notified"] = True
        driver = await transaction_driver(session, "the outbox writes")
        await driver.copy_records_to_table(
            self.tables.outbox.name,
            schema_name=self.tables.outbox.schema,
            columns=["event_id", "subject", "type", "envelope", "created_at"],
            records=rows,
        )
        return out


class OutboxRelay:
    def __init__(
        self,
        *,
        service: str,
        schema: str,
        tables: PlatformTables,
        sessionmaker: async_sessionmaker[AsyncSession],
        bus: Bus,
        clock: Clock,
        raw_dsn: str,
        batch_size: int = 200,
        poll_seconds: float = 1.0,
        ack_timeout: float = 5.0,
    ) -> None:
        self.service = service
        self.schema = schema
        self.tables = tables
        self.sessionmaker = sessionmaker
        self.bus = bus
        self.clock = clock
        self.raw_dsn = raw_dsn
        self.batch_size = batch_size
        self.poll_seconds = poll_seconds
        self.ack_timeout = ack_timeout
        self._wake = asyncio.Event()
        self._lock_key = zlib.crc32(f"hjemflyt-outbox-{schema}".encode())

    async def publish_pending(self) -> int:
        """Publish one batch in order; returns how many were published."""
        table = self.tables.outbox
        async with self.sessionmaker() as session, session.begin():
            locked = await session.scalar(select(func.pg_try_advisory_xact_lock(self._lock_key)))
            if not locked:
                return 0
            rows = (
                await session.execute(
                    select(table.c.seq, table.c.event_id, table.c.subject, table.c.envelope)
                    .where(table.c.published_at.is_(None))
                    .order_by(table.c.seq)
                    .limit(self.batch_size)
                )
            ).all()
            published, failure = await self._publish(rows)
            now = self.clock.now()
            if published:
                # `= ANY(array)`: one statement text (prepared once) whatever the batch size.
                await session.execute(
                    update(table).where(table.c.seq == func.any(published)).values(published_at=now)
                )
                PUBLISHED.labels(self.service).inc(len(published))
            if failure is not None:
                await session.execute(
                    update(table)
                    .where(table.c.seq == failure[0])
                    .values(attempts=table.c.attempts + 1, last_error=failure[1])
                )
                PUBLISH_FAILURES.labels(self.service).inc()
                log.warning("outbox publish failed; will retry: %s", failure[1])
        if failure is not None:
            raise OutboxPublishError(failure[1])
        return len(published)

    async def _publish(self, rows: Sequence[Any]) -> tuple[list[int], tuple[int, str] | None]:
        """Publish rows in seq order, pipelined: every message is sent before any ack is
        awaited (one connection keeps them in order), then the acks are taken in order.
        Returns the seqs acked without a gap from the first, and the first failure. A row
        after a failure is not marked even if it was stored: it is published again later
        and the stream drops the copy by its Nats-Msg-Id (the duplicate window)."""
        js = self.bus.js
        sent: list[tuple[int, asyncio.Future[Any]]] = []
        failure: tuple[int, str] | None = None
        for seq, event_id, subject, envelope in rows:
            try:
                future = await js.publish_async(subject, envelope, headers={"Nats-Msg-Id": str(event_id)})
            except Exception as exc:
                failure = (seq, f"{type(exc).__name__}: {exc}"[:500])
                break
            sent.append((seq, future))
        published: list[int] = []
        for i, (seq, future) in enumerate(sent):
            try:
                await asyncio.wait_for(future, timeout=self.ack_timeout)
            except asyncio.CancelledError:
                for _, later in sent[i:]:
                    later.cancel()
                raise
            except Exception as exc:
                # Stop at the first failure: later rows must not be marked before this one.
                failure = (seq, f"{type(exc).__name__}: {exc}"[:500])
                for _, later in sent[i + 1 :]:
                    later.cancel()
                break
            published.append(seq)
        return published, failure

    async def pending_count(self) -> int:
        async with self.sessionmaker() as session:
            table = self.tables.outbox
            count = await session.scalar(
                select(func.count()).select_from(table).where(table.c.published_at.is_(None))
            )
            return int(count or 0)

    async def run(self) -> None:
        listener = asyncio.create_task(
            listen(self.raw_dsn, notify_channel(self.schema), self._wake, name="outbox"),
            name=f"outbox-listen-{self.service}",
        )
        failures = 0
        try:
            while True:
                try:
                    count = await self.publish_pending()
                    failures = 0
                    if count >= self.batch_size:
                        continue  # more waiting
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    failures += 1
                    if not isinstance(exc, OutboxPublishError):
                        log.warning("outbox relay error: %s", exc)
                    delay = min(10.0, 0.2 * 2**failures) * random.uniform(0.5, 1.0)
                    await asyncio.sleep(delay)
                    continue
                self._wake.clear()
                # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a cancellation that
                # arrives together with the wake-up, and shutdown would then hang.
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self.poll_seconds):
                        await self._wake.wait()
        finally:
            listener.cancel()
            await asyncio.gather(listener, return_exceptions=True)


class OutboxPublishError(Exception):
    pass
