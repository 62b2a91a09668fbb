"""Whole-system fixtures: the four services and the gateway as real processes (DevStack)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from hjemflyt.shared.devstack import DevStack
from hjemflyt.shared.platform.settings import Settings
from hjemflyt.shared.testing import SUITE_SHIFT


def fresh_stack(name: str, *, nats_nodes: int = 1, **settings: object) -> DevStack:
    data_dir = Path(".hjemflyt/system") / name
    shutil.rmtree(data_dir, ignore_errors=True)
    # The processes live on the suite's pinned day, as the in-process services do.
    settings.setdefault("clock_shift_seconds", SUITE_SHIFT.total_seconds())
    return DevStack(
        data_dir,
        Settings(gateway_port=0, database_url="", nats_url="", **settings),  # type: ignore[arg-type]
        nats_nodes=nats_nodes,
    )


@pytest.fixture(scope="module")
def stack(request: pytest.FixtureRequest) -> Iterator[DevStack]:
    with fresh_stack(request.module.__name__.rsplit(".", 1)[-1]) as running:
        yield running
