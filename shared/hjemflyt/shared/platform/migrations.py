"""Alembic, one migration history per service, each inside its own schema.

Each service's `migrations/env.py` calls `run_env(metadata, schema)`; `upgrade(service)`
runs a service's migrations to head (the `hjemflyt migrate` command and the dev stack).
An advisory lock serialises replicas that migrate at the same time.
"""

from __future__ import annotations

import asyncio
import zlib

from alembic import command, context
from alembic.config import Config
from sqlalchemy import MetaData, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from hjemflyt.shared.platform.settings import get_settings
from hjemflyt.shared.platform.tables import define_platform_tables

PLATFORM_TABLE_NAMES = frozenset(t.name for t in vars(define_platform_tables(MetaData())).values())


def alembic_config(service: str, url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", f"hjemflyt.{service}:migrations")
    # Alembic's config parser interpolates '%'; escape it for passwords that contain one.
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(service: str, url: str, revision: str = "heads") -> None:
    command.upgrade(alembic_config(service, url), revision)


def run_env(metadata: MetaData, schema: str) -> None:
    url = context.config.get_main_option("sqlalchemy.url") or get_settings().database_url

    def include_name(name: str | None, type_: str, parent_names: object) -> bool:
        # Autogenerate looks only at this service's schema.
        return type_ != "schema" or name == schema

    def include_object(
        obj: object, name: str | None, type_: str, reflected: bool, compare_to: object
    ) -> bool:
        # Platform tables are created by `create_platform_tables`, not by autogenerate.
        table = obj if type_ == "table" else getattr(obj, "table", None)
        return getattr(table, "name", None) not in PLATFORM_TABLE_NAMES

    def migrate(connection: Connection) -> None:
        context.configure(
            connection=connection,
            target_metadata=metadata,
            version_table_schema=schema,
            include_schemas=True,
            include_name=include_name,
            include_object=include_object,
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()

    async def run() -> None:
        engine = create_async_engine(url, poolclass=NullPool)
        try:
            async with engine.connect() as conn:
                lock = zlib.crc32(f"hjemflyt-migrate-{schema}".encode())
                await conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": lock})
                await conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
                await conn.commit()
                await conn.run_sync(migrate)
                await conn.commit()
                await conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": lock})
        finally:
            await engine.dispose()

    asyncio.run(run())


def create_platform_tables(connection: Connection, schema: str) -> None:
    """Used by each service's first migration: the outbox, inbox and other shared tables."""
    metadata = MetaData(schema=schema)
    define_platform_tables(metadata)
    metadata.create_all(connection)


def drop_platform_tables(connection: Connection, schema: str) -> None:
    metadata = MetaData(schema=schema)
    define_platform_tables(metadata)
    metadata.drop_all(connection)


def add_access_log_reader_districts(connection: Connection, schema: str) -> None:
    """The reader's districts on each access-log row, and an index for reviews by time.
    Idempotent: a fresh database already has them, because each service's first migration
    creates the platform tables from their current definition."""
    table = f'"{schema}".access_log'
    connection.execute(text(f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS reader_districts text[]"))
    connection.execute(text(f"CREATE INDEX IF NOT EXISTS ix_access_log_at ON {table} (at)"))


def drop_access_log_reader_districts(connection: Connection, schema: str) -> None:
    connection.execute(text(f'DROP INDEX IF EXISTS "{schema}".ix_access_log_at'))
    connection.execute(text(f'ALTER TABLE "{schema}".access_log DROP COLUMN IF EXISTS reader_districts'))
