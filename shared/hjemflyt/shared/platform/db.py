"""Async SQLAlchemy: one engine per process, one schema per service, one unit of work per
request or message.

Services and repositories only `flush()`; the unit of work (`unit_of_work`, the request
dependency, the message handler runner) commits once. That is what makes the outbox exact:
an event row exists if and only if the change that caused it was committed.
"""

from __future__ import annotations

import uuid
import zlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, cast

import asyncpg
from sqlalchemy import MetaData, event, func, select
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from hjemflyt.shared.platform.errors import DatabaseUnavailable

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def make_metadata(schema: str) -> MetaData:
    """MetaData for one service: its own schema and the project's naming conventions."""
    return MetaData(schema=schema, naming_convention=NAMING_CONVENTION)


def create_engine(url: str, *, pool_size: int = 10, application_name: str = "hjemflyt") -> AsyncEngine:
    engine = create_async_engine(
        url,
        # At most 2 x pool_size connections, as always, but every one is kept once opened.
        # With max_overflow the connections above pool_size are closed whenever they come
        # back to a pool with pool_size idle ones, so a load just above pool_size opened and
        # closed connections all the time (a PostgreSQL backend and SQLAlchemy's codec setup
        # each): at 16 clients that doubled PostgreSQL's CPU per decision (bench/README.md).
        pool_size=2 * pool_size,
        max_overflow=0,
        # No pre-ping: it costs three round trips per request. A connection that died is
        # dropped by the pool on the error, and the request answers 500 or is retried.
        pool_recycle=1800,
        # Parameters are personal data (names, addresses): keep them out of errors and logs.
        hide_parameters=True,
        connect_args={"server_settings": {"application_name": application_name}},
    )
    event.listen(engine.sync_engine, "do_connect", _connect)
    return engine


def _connect(dialect: Dialect, _record: Any, cargs: Any, cparams: Any) -> Any:
    """Connect as the dialect does, but a database out of reach (connection refused or reset,
    a timeout: the driver raises bare OSErrors for these) becomes `DatabaseUnavailable`, which
    the API answers with 503 and Retry-After, not an unexpected 500."""
    try:
        return dialect.connect(*cargs, **cparams)
    except (OSError, TimeoutError) as exc:
        raise DatabaseUnavailable(f"cannot connect to the database: {type(exc).__name__}: {exc}") from exc


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    # expire_on_commit=False: response models are built after the commit.
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


@asynccontextmanager
async def unit_of_work(sessionmaker: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """Open a session, commit once if the block succeeds, roll back if it raises."""
    async with sessionmaker() as session:
        try:
            yield session
        except BaseException:
            await session.rollback()
            raise
        else:
            await session.commit()


def lock_key(value: str | bytes) -> int:
    """A stable signed 32-bit key for PostgreSQL's two-key advisory locks."""
    return zlib.crc32(value.encode() if isinstance(value, str) else value) - 2**31


async def advisory_xact_lock(session: AsyncSession, space: str, key: int | str | uuid.UUID) -> None:
    """Serialise transactions on one thing (`space`, e.g. "hjemflyt.budget.decision", and the
    thing's key) until this transaction ends: across replicas, without a row to lock. The
    space's name is the first key, so two modules cannot collide by choosing numbers."""
    if isinstance(key, uuid.UUID):
        second = int.from_bytes(key.bytes[:4], "big", signed=True)
    elif isinstance(key, str):
        second = lock_key(key)
    else:
        second = key
    await session.execute(select(func.pg_advisory_xact_lock(lock_key(space), second)))


async def transaction_driver(session: AsyncSession, what: str) -> asyncpg.Connection:
    """The raw asyncpg connection of the unit of work, for COPY and hand-written statements:
    refused outside the unit of work's transaction, where its writes would commit on their
    own (or not at all) and the outbox would no longer be exact. `what` names the caller."""
    connection = await session.connection()
    driver = (await connection.get_raw_connection()).driver_connection
    if driver is None or not driver.is_in_transaction():
        raise RuntimeError(f"{what} only inside the unit of work's transaction")
    return cast(asyncpg.Connection, driver)
