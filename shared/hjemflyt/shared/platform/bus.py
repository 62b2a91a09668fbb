"""NATS JetStream connection and stream setup.

One stream per producing service (`<NAMESPACE>_<SERVICE>`, subjects `<ns>.<service>.>`),
file storage, a duplicate window that drops re-published outbox rows. Any service may
declare any stream idempotently, so a consumer can start before its producer.
"""

from __future__ import annotations

import contextlib
import logging
from datetime import timedelta

import nats
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext
from nats.js.api import DiscardPolicy, RetentionPolicy, StorageType, StreamConfig
from nats.js.errors import BadRequestError, NotFoundError

from hjemflyt.shared.contracts.registry import stream_name, stream_subjects
from hjemflyt.shared.platform.settings import Settings

log = logging.getLogger(__name__)

# Events are kept long enough for a consumer that was down over a long weekend to catch
# up; consumers never depend on older history (they keep their own read models).
STREAM_MAX_AGE = timedelta(days=30)
DUPLICATE_WINDOW = timedelta(minutes=10)


class Bus:
    def __init__(self, settings: Settings, *, name: str) -> None:
        self.settings = settings
        self.name = name
        self._nc: NATS | None = None
        self._js: JetStreamContext | None = None
        self._closing = False

    async def connect(self) -> None:
        async def _disconnected() -> None:
            if not self._closing:
                log.warning("bus disconnected; reconnecting")

        async def _reconnected() -> None:
            log.info("bus reconnected")

        async def _error(exc: Exception) -> None:
            log.warning("bus error: %s", exc)

        servers = [s.strip() for s in self.settings.nats_url.split(",") if s.strip()]
        self._nc = await nats.connect(
            servers=servers,
            name=self.name,
            max_reconnect_attempts=-1,
            reconnect_time_wait=0.5,
            allow_reconnect=True,
            # Keep buffering publishes while reconnecting; the outbox retries any that fail.
            pending_size=8 * 1024 * 1024,
            disconnected_cb=_disconnected,
            reconnected_cb=_reconnected,
            error_cb=_error,
        )
        self._js = self._nc.jetstream(timeout=5.0)

    @property
    def nc(self) -> NATS:
        if self._nc is None:
            raise RuntimeError("bus not connected")
        return self._nc

    @property
    def js(self) -> JetStreamContext:
        if self._js is None:
            raise RuntimeError("bus not connected")
        return self._js

    @property
    def is_connected(self) -> bool:
        return self._nc is not None and self._nc.is_connected

    def stream_for(self, service: str) -> str:
        return stream_name(self.settings.bus_namespace, service)

    async def ensure_stream(self, service: str) -> str:
        """Create the producing service's stream if missing (idempotent)."""
        name = self.stream_for(service)
        config = StreamConfig(
            name=name,
            subjects=stream_subjects(self.settings.bus_namespace, service),
            retention=RetentionPolicy.LIMITS,
            storage=StorageType.FILE,
            discard=DiscardPolicy.OLD,
            max_age=STREAM_MAX_AGE.total_seconds(),
            duplicate_window=DUPLICATE_WINDOW.total_seconds(),
            num_replicas=self.settings.nats_stream_replicas,
        )
        try:
            await self.js.stream_info(name)
        except NotFoundError:
            try:
                await self.js.add_stream(config)
                log.info("created stream %s", name)
            except BadRequestError as exc:
                # Another replica created it between our check and our add.
                if getattr(exc, "err_code", None) != 10058:  # stream name already in use
                    raise
        return name

    async def close(self) -> None:
        # Not drain(): it waits on open pull subscriptions. Everything we handled is already
        # acknowledged and the outbox relay awaits each publish ack, so close() loses nothing.
        self._closing = True
        if self._nc is not None and not self._nc.is_closed:
            with contextlib.suppress(Exception):
                await self._nc.flush(timeout=2)
            await self._nc.close()
        self._nc = None
        self._js = None
