"""What follows when a provider accepts or rejects a message, or lets its deadline pass.

The message module keeps the acknowledgement itself (status, time, reason). Each module
whose messages need one says what should follow (its `ACK_HANDLERS`), and the service's
composition root (`main.py`) installs them by message kind prefix (e.g. "order." or
"routine."), so messages stays ignorant of orders and routines.
"""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from hjemflyt.notifications.messages.models import Message
from hjemflyt.shared.platform.context import ServiceContext

Handler = Callable[[ServiceContext, AsyncSession, Message], Awaitable[None]]


@dataclass(frozen=True)
class AckHandlers:
    accepted: Handler | None = None
    rejected: Handler | None = None
    overdue: Handler | None = None


HANDLERS: dict[str, AckHandlers] = {}


def install(by_prefix: dict[str, AckHandlers]) -> None:
    """The handlers by message kind prefix; no prefix may start another's (a kind would
    otherwise go to whichever came first)."""
    prefixes = sorted(by_prefix)
    for a, b in itertools.pairwise(prefixes):
        if b.startswith(a):
            raise ValueError(f"acknowledgement prefixes overlap: {a!r} and {b!r}")
    HANDLERS.clear()
    HANDLERS.update(by_prefix)


def handlers_for(kind: str) -> AckHandlers:
    for prefix, handlers in HANDLERS.items():
        if kind.startswith(prefix):
            return handlers
    return AckHandlers()
