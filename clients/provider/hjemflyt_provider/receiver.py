"""A webhook receiver as a plain ASGI app (mount it in any ASGI server or framework).

For each POST it checks the signature and the replay window, parses the message, drops
duplicates by message id (hjemflyt delivers at least once: after a timeout or a crash a
message can come again), and calls your handler. It answers 204 when the handler returns,
401 for a bad signature, 400 for a malformed body, and 500 if your handler raises, so
hjemflyt retries later. Messages about one person arrive in `sequence` order; the receiver
records the last sequence per ordering key so you can notice a gap.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from hjemflyt_provider.signature import DEFAULT_TOLERANCE_SECONDS, InvalidSignature, verify

MAX_BODY = 5 * 1024 * 1024

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


@dataclass
class Delivery:
    """One accepted webhook: the message and whether it was new."""

    message: dict[str, Any]
    duplicate: bool


class SeenStore:
    """Message ids already handled. In memory here; a real provider keeps them in its
    database, in the same transaction as the handler's work."""

    def __init__(self) -> None:
        self._seen: set[str] = set()

    def seen(self, message_id: str) -> bool:
        return message_id in self._seen

    def add(self, message_id: str) -> None:
        self._seen.add(message_id)


@dataclass
class WebhookReceiver:
    secrets: Iterable[str]
    handler: Callable[[dict[str, Any]], Awaitable[None]]
    tolerance: int = DEFAULT_TOLERANCE_SECONDS
    store: SeenStore = field(default_factory=SeenStore)
    deliveries: list[Delivery] = field(default_factory=list)
    rejected: int = 0
    last_sequence: dict[str, int] = field(default_factory=dict)
    gaps: list[tuple[str, int, int]] = field(default_factory=list)

    def set_secrets(self, secrets: Iterable[str]) -> None:
        """After a rotation: accept the new secret (and the old one until it expires)."""
        self.secrets = list(secrets)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
        if scope["type"] != "http":
            return
        if scope["method"] != "POST":
            await _answer(send, 405)
            return
        body = await _read_body(receive)
        if body is None:
            await _answer(send, 413)
            return
        await _answer(send, await self._receive(body, scope))

    async def _receive(self, body: bytes, scope: Scope) -> int:
        """The status to answer for one POST body: verify, parse, drop duplicates, handle."""
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        try:
            verify(
                list(self.secrets),
                body,
                headers.get("hjemflyt-timestamp"),
                headers.get("hjemflyt-signature"),
                tolerance=self.tolerance,
            )
        except InvalidSignature:
            self.rejected += 1
            return 401
        try:
            message = json.loads(body)
            message_id = str(message["id"])
        except (ValueError, KeyError, TypeError):
            return 400
        if self.store.seen(message_id):
            self.deliveries.append(Delivery(message, duplicate=True))
            return 204
        try:
            await self.handler(message)
        except Exception:
            return 500
        self.store.add(message_id)
        self._track_sequence(message)
        self.deliveries.append(Delivery(message, duplicate=False))
        return 204

    def _track_sequence(self, message: dict[str, Any]) -> None:
        key, sequence = message.get("ordering_key"), message.get("sequence")
        if not isinstance(key, str) or not isinstance(sequence, int):
            return
        last = self.last_sequence.get(key, 0)
        if sequence != last + 1:
            self.gaps.append((key, last, sequence))
        self.last_sequence[key] = max(last, sequence)


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        event = await receive()
        if event["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif event["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


async def _read_body(receive: Receive) -> bytes | None:
    """The whole request body, or None once it grows past MAX_BODY."""
    body = b""
    while True:
        event = await receive()
        chunk: bytes = event.get("body", b"")
        body += chunk
        if len(body) > MAX_BODY:
            return None
        if not event.get("more_body"):
            return body


async def _answer(send: Send, status: int) -> None:
    await send({"type": "http.response.start", "status": status, "headers": [(b"content-length", b"0")]})
    await send({"type": "http.response.body", "body": b""})
