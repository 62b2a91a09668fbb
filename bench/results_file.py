"""What every benchmark does around its measurements: the facts about the run (machine,
commit, how busy the machine was), embedded servers for one service's schema, and the
results file `bench/results/<kind>-<UTC>.json`."""

from __future__ import annotations

import asyncio
import json
import shutil
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.procwatch import machine_busy_percent
from bench.skeleton import RESULTS_DIR, ROOT, machine, say, source_version
from hjemflyt.shared.devstack import DevStack
from hjemflyt.shared.platform.migrations import upgrade
from hjemflyt.shared.platform.settings import Settings


def run_facts() -> dict[str, Any]:
    """Taken before the run starts, so `busy_before_percent` is the machine's own load."""
    return {"machine": machine(), "source": source_version(), "busy_before_percent": machine_busy_percent()}


def write_results(kind: str, payload: dict[str, Any]) -> Path:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{kind}-{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}.json"
    path.write_text(json.dumps(payload, indent=2, default=str))
    say(f"figures written to {path.relative_to(ROOT)}")
    return path


def on_fresh_infrastructure(
    service: str, data_dir: Path, measure: Callable[[DevStack], Coroutine[Any, Any, dict[str, Any]]]
) -> dict[str, Any]:
    """Start PostgreSQL and NATS in a fresh `data_dir`, migrate `service`'s schema, run
    `measure(stack)` and stop the servers whatever happens."""
    say(f"starting PostgreSQL and NATS, migrating the {service} schema")
    shutil.rmtree(data_dir, ignore_errors=True)
    stack = DevStack(data_dir, Settings(gateway_port=0, database_url="", nats_url=""))
    try:
        stack.start_infrastructure()
        upgrade(service, stack.database_url)
        stack.issuer.ensure_keys()
        return asyncio.run(measure(stack))
    finally:
        stack.stop()
