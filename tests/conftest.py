"""Whole-system fixtures: the four services and the gateway as real processes (DevStack)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from hjemflyt.shared.devstack import DevStack
from hjemflyt.shared.platform.settings import Settings


def fresh_stack(name: str, **settings: object) -> DevStack:
    data_dir = Path(".hjemflyt/system") / name
    shutil.rmtree(data_dir, ignore_errors=True)
    return DevStack(data_dir, Settings(gateway_port=0, database_url="", nats_url="", **settings))  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def stack(request: pytest.FixtureRequest) -> Iterator[DevStack]:
    with fresh_stack(request.module.__name__.rsplit(".", 1)[-1]) as running:
        yield running
