"""What a running service holds: settings, clock, database, bus, outbox, verifier."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from hjemflyt.shared.platform.audit import AccessLog
from hjemflyt.shared.platform.auth import TokenVerifier
from hjemflyt.shared.platform.bus import Bus
from hjemflyt.shared.platform.clock import Clock
from hjemflyt.shared.platform.consumer import Consumer, Subscription
from hjemflyt.shared.platform.crypto import FieldCipher
from hjemflyt.shared.platform.outbox import Outbox
from hjemflyt.shared.platform.settings import Settings
from hjemflyt.shared.platform.tables import PlatformTables


@dataclass
class ServiceContext:
    name: str
    settings: Settings
    clock: Clock
    tables: PlatformTables
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    bus: Bus
    outbox: Outbox
    access_log: AccessLog
    verifier: TokenVerifier
    raw_dsn: str
    cipher: FieldCipher
    # Per-process caches of the service (e.g. its configuration, checked against a version
    # token on each use); one dict per app, so apps in one process never share entries.
    cache: dict[str, Any] = field(default_factory=dict)

    def consumer(self, producer: str, subscriptions: Sequence[Subscription[Any]]) -> Consumer:
        """This service's durable consumer on `producer`'s stream."""
        return Consumer(
            consumer=self.name,
            producer=producer,
            subscriptions=subscriptions,
            sessionmaker=self.sessionmaker,
            tables=self.tables,
            bus=self.bus,
            settings=self.settings,
            clock=self.clock,
        )
