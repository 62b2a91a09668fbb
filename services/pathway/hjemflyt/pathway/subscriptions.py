"""Several modules of pathway consume the same event: one subscription runs them all.

The consumer takes one handler per event type (a second is an error at start-up); `merge`
chains the modules' handlers for a type, in the order given, inside the message's one unit
of work.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from hjemflyt.shared.contracts.envelope import CloudEvent
from hjemflyt.shared.platform.consumer import Handler, Subscription


def _chain(handlers: Sequence[Handler[Any]]) -> Handler[Any]:
    async def chained(session: AsyncSession, event: CloudEvent, data: Any) -> None:
        for handler in handlers:
            await handler(session, event, data)

    return chained


def merge(*groups: Sequence[Subscription[Any]]) -> list[Subscription[Any]]:
    by_type: dict[str, list[Subscription[Any]]] = {}
    for group in groups:
        for sub in group:
            by_type.setdefault(sub.event_type.name, []).append(sub)
    return [
        subs[0] if len(subs) == 1 else Subscription(subs[0].event_type, _chain([s.handler for s in subs]))
        for subs in by_type.values()
    ]
