"""Personal data sealed on the bus.

An event that must carry personal data (the provider order's recipient: identity number,
name, address, phone) carries it sealed: AES-256-GCM under the bus key
(`HJEMFLYT_BUS_PII_KEY`), which only the producer and the one consumer that needs it hold.
The stream keeps events for 30 days and every service may read every stream; sealed, what it
keeps is unreadable to all others, and rotating the bus key after the stream's retention
shreds what is left.

The platform passes its sealer when it serializes an event for the outbox and when a
consumer validates one (`SEALER` in the Pydantic context); in memory the field is the plain
model. No other serialization seals: what goes to a provider over the API is plain.
"""

from __future__ import annotations

from typing import Any, Protocol

SEALER = "hjemflyt.sealer"


class Sealer(Protocol):
    def seal(self, plain: str) -> str: ...

    def open(self, token: str) -> str: ...


def sealer_of(context: Any) -> Sealer | None:
    found = context.get(SEALER) if isinstance(context, dict) else None
    return found if found is not None and hasattr(found, "seal") and hasattr(found, "open") else None


def context(sealer: Sealer | None) -> dict[str, Any] | None:
    return {SEALER: sealer} if sealer is not None else None
