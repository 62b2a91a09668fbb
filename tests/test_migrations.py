"""Every service's migrations produce exactly the tables its models describe.

Models and hand-written migrations drift apart silently (a missing index, a nullable
column, a constraint name): this compares the migrated template database with each
service's metadata the way `alembic revision --autogenerate` would, and fails on any
difference. It also checks that each history has one head, so `upgrade heads` never
leaves a branch behind unnoticed.
"""

from __future__ import annotations

import importlib
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import MetaData
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from hjemflyt.shared.platform.migrations import PLATFORM_TABLE_NAMES, alembic_config
from hjemflyt.shared.platform.settings import SERVICES


def service_metadata(service: str) -> MetaData:
    importlib.import_module(f"hjemflyt.{service}.models")
    metadata: MetaData = importlib.import_module(f"hjemflyt.{service}.db").metadata
    return metadata


@pytest.mark.parametrize("service", SERVICES)
async def test_migrations_match_the_models(service: str, settings) -> None:
    metadata = service_metadata(service)

    def include_name(name: str | None, type_: str, parent_names: Any) -> bool:
        return type_ != "schema" or name == service

    def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
        table = obj if type_ == "table" else getattr(obj, "table", None)
        return getattr(table, "name", None) not in PLATFORM_TABLE_NAMES

    def diff(connection: Any) -> list[Any]:
        context = MigrationContext.configure(
            connection,
            opts={
                "include_schemas": True,
                "include_name": include_name,
                "include_object": include_object,
                "compare_type": True,
                "version_table_schema": service,
            },
        )
        return list(compare_metadata(context, metadata))

    engine = create_async_engine(settings.database_url, poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            differences = await conn.run_sync(diff)
    finally:
        await engine.dispose()
    assert differences == [], f"{service}: migrations and models differ: {differences}"


@pytest.mark.parametrize("service", SERVICES)
def test_one_head_per_service(service: str) -> None:
    script = ScriptDirectory.from_config(alembic_config(service, "postgresql+asyncpg://unused/x"))
    assert len(script.get_heads()) == 1, (
        f"{service} has several heads: {script.get_heads()} (add a merge revision)"
    )
