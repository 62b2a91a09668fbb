"""What follows when a provider accepts or rejects a message, or lets its deadline pass.

The message module keeps the acknowledgement itself (status, time, reason). Each module
whose messages need one registers what should follow, by message kind prefix (e.g.
"order." or "routine."), so messages stays ignorant of orders and routines.
"""

from __future__ import annotations

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


def register(kind_prefix: str, handlers: AckHandlers) -> None:
    HANDLERS[kind_prefix] = handlers


def handlers_for(kind: str) -> AckHandlers:
    for prefix, handlers in HANDLERS.items():
        if kind.startswith(prefix):
            return handlers
    return AckHandlers()
