"""What every benchmark does around its measurements: the facts about the run (machine,
commit, how busy the machine was) and the results file `bench/results/<kind>-<UTC>.json`."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.procwatch import machine_busy_percent
from bench.skeleton import RESULTS_DIR, ROOT, machine, say, source_version


def run_facts() -> dict[str, Any]:
    """Taken before the run starts, so `busy_before_percent` is the machine's own load."""
    return {"machine": machine(), "source": source_version(), "busy_before_percent": machine_busy_percent()}


def write_results(kind: str, payload: dict[str, Any]) -> Path:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{kind}-{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}.json"
    path.write_text(json.dumps(payload, indent=2, default=str))
    say(f"figures written to {path.relative_to(ROOT)}")
    return path
