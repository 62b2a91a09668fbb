"""One interface for every way messages travel: a directory (files in and out; tests and
`make run`, directory.py) and a message service's REST API (http.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Incoming:
    name: str  # the transport's handle for it (a file name), given back to `done`
    body: bytes


class Transport(Protocol):
    def send(self, msg_id: str, body: bytes) -> None:
        """Hand one message over. Idempotent per msg_id: sending the same message again
        (after a crash before its state was saved) does not make a second message."""
        ...

    def receive(self, limit: int) -> list[Incoming]:
        """Up to `limit` messages waiting, oldest first."""
        ...

    def done(self, message: Incoming) -> None:
        """The message was stored: do not deliver it again."""
        ...
