"""Latency summaries and a bounded closed-loop load runner."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of already sorted values; NaN if empty."""
    if not sorted_values:
        return math.nan
    rank = max(1, math.ceil(q / 100 * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


@dataclass(frozen=True)
class Summary:
    """Count, rate and latency percentiles (milliseconds) of one measured phase."""

    count: int
    errors: int
    elapsed_s: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    mean_ms: float

    @property
    def rate(self) -> float:
        return self.count / self.elapsed_s if self.elapsed_s > 0 else math.nan

    def as_dict(self) -> dict[str, Any]:
        return {
            "count": self.count,
            "errors": self.errors,
            "elapsed_s": round(self.elapsed_s, 3),
            "per_second": round(self.rate, 1),
            "p50_ms": round(self.p50_ms, 2),
            "p95_ms": round(self.p95_ms, 2),
            "p99_ms": round(self.p99_ms, 2),
            "max_ms": round(self.max_ms, 2),
            "mean_ms": round(self.mean_ms, 2),
        }


def summarise(latencies_ms: Sequence[float], elapsed_s: float, errors: int = 0) -> Summary:
    values = sorted(latencies_ms)
    return Summary(
        count=len(values),
        errors=errors,
        elapsed_s=elapsed_s,
        p50_ms=percentile(values, 50),
        p95_ms=percentile(values, 95),
        p99_ms=percentile(values, 99),
        max_ms=values[-1] if values else math.nan,
        mean_ms=sum(values) / len(values) if values else math.nan,
    )


@dataclass
class LoadResult:
    """What a closed-loop run did: per-operation latencies and whatever the operations returned."""

    requested: int
    elapsed_s: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)
    results: dict[int, Any] = field(default_factory=dict)  # index -> value returned by the operation
    returned_at: dict[int, float] = field(default_factory=dict)  # index -> time.time() when it returned
    errors: list[str] = field(default_factory=list)
    stopped_by_time_limit: bool = False

    @property
    def summary(self) -> Summary:
        return summarise(self.latencies_ms, self.elapsed_s, len(self.errors))


async def run_closed_loop(
    count: int,
    concurrency: int,
    operation: Callable[[int], Awaitable[Any]],
    *,
    time_limit_s: float,
) -> LoadResult:
    """`concurrency` workers call `operation(i)` for i in 0..count-1, each waiting for its answer
    before sending the next. No new operation starts after `time_limit_s`. An operation that
    raises counts as an error (its latency is not recorded)."""
    result = LoadResult(requested=count)
    next_index = 0
    start = time.perf_counter()
    deadline = start + time_limit_s

    async def worker() -> None:
        nonlocal next_index
        while next_index < count:
            if time.perf_counter() > deadline:
                result.stopped_by_time_limit = True
                return
            i = next_index
            next_index += 1
            t0 = time.perf_counter()
            try:
                value = await operation(i)
            except Exception as exc:
                if len(result.errors) < 1000:
                    result.errors.append(f"{type(exc).__name__}: {exc}"[:300])
                continue
            result.latencies_ms.append((time.perf_counter() - t0) * 1000)
            result.returned_at[i] = time.time()
            result.results[i] = value

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    result.elapsed_s = time.perf_counter() - start
    return result
