"""The webhook delivery worker: pushes pending messages to providers' receivers.

- Claims due messages in a short transaction with `FOR UPDATE SKIP LOCKED` (replicas share
  the work), only the lowest undelivered sequence per (provider, person), so one person's
  messages arrive in order while different persons go in parallel, at most
  `webhook_concurrency` POSTs at a time per replica.
- The claim is a lease (`next_attempt_at` = now + lease), committed before the POST: no
  transaction stays open across the HTTP call, and a worker killed mid-delivery leaves a
  message that is due again when the lease runs out. Delivery is at least once; receivers
  dedupe by `Hjemflyt-Message-Id`.
- Any 2xx is delivered. Anything else (status, timeout, refused connection) is retried
  with exponential back-off and full jitter, capped, for `webhook_retry_hours` from the
  first try (on `ctx.clock`, so moving the clock makes retries due). Then the message is
  dead and the case office gets a `delivery_failed` task. The person's later messages
  wait behind it (order before speed) until it is redelivered.
- Woken by NOTIFY on DELIVERY_CHANNEL when a message is enqueued, and by a poll.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
from prometheus_client import Counter, Histogram

from hjemflyt.notifications.messages.models import Message
from hjemflyt.notifications.messages.repository import DELIVERY_CHANNEL, MessageRepository
from hjemflyt.notifications.messages.rules import Backoff, encode, gives_up, signature_header, wire
from hjemflyt.notifications.tasks.rules import TaskKind
from hjemflyt.notifications.tasks.service import close_for_reference, open_task
from hjemflyt.notifications.webhooks import rules as webhook_rules
from hjemflyt.notifications.webhooks.repository import WebhookRepository
from hjemflyt.shared.platform.context import ServiceContext
from hjemflyt.shared.platform.db import unit_of_work
from hjemflyt.shared.platform.periodic import listen

log = logging.getLogger(__name__)

ATTEMPTS = Counter("hjemflyt_webhook_attempts_total", "Webhook POSTs", ["outcome"])
DEAD = Counter("hjemflyt_webhook_dead_total", "Messages given up on after the retry window")
SECONDS = Histogram(
    "hjemflyt_webhook_seconds",
    "Webhook POST duration",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)


@dataclass(frozen=True)
class Claimed:
    """A claimed message with where to send it and the secrets to sign with."""

    message: Message
    url: str | None
    secrets: tuple[str, ...]


class DeliveryWorker:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx
        s = ctx.settings
        self.concurrency = s.webhook_concurrency
        self.timeout = s.webhook_timeout_seconds
        # The lease outlasts the POST (timeout) by a margin, so a live worker never loses it.
        self.lease = timedelta(seconds=max(s.webhook_lease_seconds, s.webhook_timeout_seconds + 5))
        self.window = timedelta(hours=s.webhook_retry_hours)
        self.backoff = Backoff(s.webhook_backoff_base_seconds, s.webhook_backoff_cap_seconds)
        self.private_allowed = webhook_rules.private_addresses_allowed(s)
        self._wake = asyncio.Event()
        self._client: httpx.AsyncClient | None = None

    # --- one round, usable from tests without the loop -------------------------------

    async def claim(self, limit: int) -> list[Claimed]:
        now = self.ctx.clock.now()
        async with unit_of_work(self.ctx.sessionmaker) as session:
            messages = await MessageRepository(session).claim(now, now + self.lease, limit)
            if not messages:
                return []
            endpoints = await WebhookRepository(session).active_for({m.provider_org for m in messages})
            claimed = []
            for m in messages:
                endpoint = endpoints.get(m.provider_org)
                if endpoint is None:
                    claimed.append(Claimed(m, None, ()))
                    continue
                secrets = [self.ctx.cipher.decrypt(endpoint.secret)]
                if (
                    endpoint.previous_secret is not None
                    and endpoint.previous_valid_until is not None
                    and endpoint.previous_valid_until > now
                ):
                    secrets.append(self.ctx.cipher.decrypt(endpoint.previous_secret))
                claimed.append(Claimed(m, endpoint.url, tuple(secrets)))
            return claimed

    async def post(self, claimed: Claimed) -> str | None:
        """POST the message; None if delivered, else what went wrong."""
        if claimed.url is None:
            return "the provider has no active webhook"
        body = encode(wire(claimed.message))
        # Wall time: the receiver checks it against its own clock (replay window).
        timestamp = int(self.ctx.clock.wall_now().timestamp())
        headers = {
            "Content-Type": "application/json",
            "Hjemflyt-Message-Id": str(claimed.message.id),
            "Hjemflyt-Timestamp": str(timestamp),
            "Hjemflyt-Signature": signature_header(claimed.secrets, timestamp, body),
            "User-Agent": "hjemflyt-webhooks/1",
        }
        if not self.private_allowed:
            refused = await webhook_rules.refuse_private(claimed.url)
            if refused:
                return refused
        client = self._client or httpx.AsyncClient(timeout=self.timeout, follow_redirects=False)
        start = time.perf_counter()
        try:
            response = await client.post(claimed.url, content=body, headers=headers)
        except httpx.TimeoutException:
            return f"timeout after {self.timeout:g} s"
        except httpx.HTTPError as exc:
            return f"{type(exc).__name__}: {exc}"[:500] or type(exc).__name__
        finally:
            SECONDS.observe(time.perf_counter() - start)
            if self._client is None:
                await client.aclose()
        if 200 <= response.status_code < 300:
            return None
        return f"HTTP {response.status_code}"

    async def record(self, claimed: Claimed, error: str | None) -> None:
        m = claimed.message
        now = self.ctx.clock.now()
        async with unit_of_work(self.ctx.sessionmaker) as session:
            repo = MessageRepository(session)
            if error is None:
                ATTEMPTS.labels("delivered").inc()
                done = await repo.record_delivered(m.id, m.attempts, now)
                if done is not None and done.dead_at is not None:
                    # It had been given up on and was redelivered: the task is done.
                    await close_for_reference(
                        self.ctx,
                        session,
                        TaskKind.delivery_failed,
                        m.id,
                        by="delivery",
                        resolution="Delivered after a redelivery.",
                    )
                return
            ATTEMPTS.labels("failed").inc()
            retry_from = m.retry_from or now
            if gives_up(retry_from, now, self.window):
                dead = await repo.record_dead(m.id, m.attempts, error, now)
                if dead is not None:
                    DEAD.inc()
                    log.error(
                        "ALERT webhook message %s to %s dead after %d attempts: %s",
                        m.id,
                        m.provider_org,
                        m.attempts,
                        error,
                    )
                    await open_task(
                        self.ctx,
                        session,
                        TaskKind.delivery_failed,
                        reference_id=m.id,
                        district=m.district,
                        person_id=m.person_id,
                        provider_org=m.provider_org,
                        order_id=m.order_id,
                        details={
                            "message_id": str(m.id),
                            "kind": m.kind,
                            "attempts": m.attempts,
                            "last_error": error[:500],
                            "first_attempt_at": retry_from.isoformat(),
                        },
                    )
                return
            await repo.record_failure(m.id, m.attempts, error, now + self.backoff.delay(m.attempts))

    async def deliver(self, claimed: Claimed) -> None:
        try:
            error = await self.post(claimed)
        except Exception as exc:  # never lose the outcome to a bug in signing or encoding
            log.exception("webhook delivery of %s failed unexpectedly", claimed.message.id)
            error = f"internal error: {type(exc).__name__}"
        await self.record(claimed, error)

    async def run_once(self, limit: int | None = None) -> int:
        """Claim and deliver one batch, waiting for it (tests, benchmarks)."""
        batch = await self.claim(limit or self.concurrency)
        await asyncio.gather(*(self.deliver(c) for c in batch))
        return len(batch)

    # --- the loop ----------------------------------------------------------------------

    async def run(self) -> None:
        listener = asyncio.create_task(
            listen(self.ctx.raw_dsn, DELIVERY_CHANNEL, self._wake, name="webhook delivery"),
            name="webhook-delivery-listen",
        )
        in_flight: set[asyncio.Task[None]] = set()
        limits = httpx.Limits(max_connections=self.concurrency, max_keepalive_connections=self.concurrency)
        failures = 0
        async with httpx.AsyncClient(timeout=self.timeout, follow_redirects=False, limits=limits) as client:
            self._client = client
            try:
                while True:
                    self._wake.clear()
                    free = self.concurrency - len(in_flight)
                    if free > 0:
                        try:
                            batch = await self.claim(free)
                            failures = 0
                        except asyncio.CancelledError:
                            raise
                        except Exception as exc:
                            failures += 1
                            log.warning("webhook claim failed: %s", exc)
                            await asyncio.sleep(min(10.0, 0.2 * 2**failures))
                            continue
                        for claimed in batch:
                            task = asyncio.create_task(
                                self.deliver(claimed), name=f"deliver-{claimed.message.id}"
                            )
                            in_flight.add(task)
                            task.add_done_callback(self._done(in_flight))
                        if batch and len(batch) == free:
                            continue  # perhaps more due; the loop waits once slots are full
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(self.ctx.settings.webhook_poll_seconds):
                            await self._wake.wait()
            finally:
                listener.cancel()
                for task in in_flight:
                    task.cancel()
                await asyncio.gather(listener, *in_flight, return_exceptions=True)
                self._client = None

    def _done(self, in_flight: set[asyncio.Task[None]]) -> Any:
        def done(task: asyncio.Task[None]) -> None:
            in_flight.discard(task)
            self._wake.set()  # a slot is free, and the person's next message may be due

        return done


def worker(ctx: ServiceContext) -> DeliveryWorker:
    return DeliveryWorker(ctx)
