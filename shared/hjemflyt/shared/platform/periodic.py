"""Background jobs of a service: one way to run a round every few seconds (`periodic`), one
way to be woken by PostgreSQL's NOTIFY (`listen`), and one registry per service (`jobs`),
built in the service's `main.py` so every loop it runs is named in one place.

A round that fails is logged and tried again at the next one: what a round moves stays
in the database until it has moved (each round is its own unit of work), so a failure
delays, never loses. The platform starts the jobs with the service and stops them with it;
`/readyz` reports one that stopped.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

import asyncpg

log = logging.getLogger(__name__)

Job = Callable[[], Coroutine[Any, Any, None]]


def periodic(
    name: str,
    round_: Callable[[], Awaitable[object]],
    *,
    every: float | Callable[[], float],
    report: str | None = None,
) -> tuple[str, Job]:
    """A job that runs `round_` every `every` seconds (a function: read each time, so a
    setting changed in a test applies). `report`: a log line (`%s`: the round's result)
    when the round did something (a non-zero count, or a dict with one)."""

    async def run() -> None:
        while True:
            try:
                done = await round_()
                if report and _did_something(done):
                    log.info(report, done)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("%s failed; retrying", name)
            await asyncio.sleep(every() if callable(every) else every)

    return name, run


def _did_something(done: object) -> bool:
    if isinstance(done, dict):
        return any(done.values())
    return bool(done)


def jobs(*entries: tuple[str, Job] | None) -> dict[str, Job]:
    """The service's jobs by name; None entries are jobs switched off by settings. A name
    given twice is an error at start-up (a dict would keep the last one silently)."""
    found: dict[str, Job] = {}
    for entry in entries:
        if entry is None:
            continue
        name, job = entry
        if name in found:
            raise ValueError(f"two background jobs named {name!r}")
        found[name] = job
    return found


async def listen(dsn: str, channel: str, wake: asyncio.Event, *, name: str) -> None:
    """Set `wake` on every NOTIFY on `channel`, for as long as the task runs; reconnects
    when the listening connection drops. `wake` is set after each (re)connect too, so what
    was notified while not listening is not waited for until the next NOTIFY."""
    while True:
        conn: asyncpg.Connection[Any] | None = None
        try:
            conn = await asyncpg.connect(dsn)
            closed = asyncio.Event()
            conn.add_termination_listener(lambda *_, closed=closed: closed.set())
            await conn.add_listener(channel, lambda *_: wake.set())
            wake.set()
            await closed.wait()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.debug("%s listener reconnecting: %s", name, exc)
            await asyncio.sleep(1)
        finally:
            if conn is not None and not conn.is_closed():
                await conn.close()
