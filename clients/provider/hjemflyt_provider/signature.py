"""The webhook signature: HMAC-SHA256 over `"{timestamp}." + raw body`, hex, as `v1=...`.

hjemflyt sends `Hjemflyt-Timestamp: <unix seconds>` and
`Hjemflyt-Signature: v1=<hex>[, v1=<hex>]` (two values while a secret is being rotated:
one per valid secret). A message is genuine if any `v1` value matches any of your secrets,
and fresh if its timestamp is within the tolerance of your clock (a replay window).
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Iterable

DEFAULT_TOLERANCE_SECONDS = 300


class InvalidSignature(Exception):
    """The webhook is not from hjemflyt, was altered, or is too old (a replay)."""


def _mac(secret: str, timestamp: str, body: bytes) -> str:
    return hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def sign(secrets: Iterable[str], body: bytes, timestamp: int | None = None) -> dict[str, str]:
    """The headers hjemflyt would send for `body` (for tests of your receiver)."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    values = ", ".join(f"v1={_mac(s, ts, body)}" for s in secrets)
    return {"Hjemflyt-Timestamp": ts, "Hjemflyt-Signature": values}


def verify(
    secrets: Iterable[str],
    body: bytes,
    timestamp: str | None,
    signature: str | None,
    *,
    now: float | None = None,
    tolerance: int = DEFAULT_TOLERANCE_SECONDS,
) -> None:
    """Raise InvalidSignature unless `signature` matches `body` under one of `secrets` and
    `timestamp` is within `tolerance` seconds of `now`."""
    if not timestamp or not signature:
        raise InvalidSignature("missing Hjemflyt-Timestamp or Hjemflyt-Signature")
    try:
        ts = int(timestamp)
    except ValueError as exc:
        raise InvalidSignature("malformed timestamp") from exc
    current = time.time() if now is None else now
    if abs(current - ts) > tolerance:
        raise InvalidSignature("timestamp outside the replay window")
    offered = [part.strip()[3:] for part in signature.split(",") if part.strip().startswith("v1=")]
    if not offered:
        raise InvalidSignature("no v1 signature")
    for secret in secrets:
        expected = _mac(secret, timestamp, body)
        # compare_digest: the time taken must not tell an attacker how much of a guess was right.
        if any(hmac.compare_digest(expected, value) for value in offered):
            return
    raise InvalidSignature("signature does not match")
