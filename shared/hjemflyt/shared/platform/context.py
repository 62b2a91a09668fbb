"""What a running service holds: settings, clock, database, bus, outbox, verifier."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from hjemflyt.shared.platform.audit import AccessLog
from hjemflyt.shared.platform.auth import TokenVerifier
from hjemflyt.shared.platform.bus import Bus
from hjemflyt.shared.platform.clock import Clock
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
