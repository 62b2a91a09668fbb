"""Pure rules of provider messages: the wire form, signatures, back-off, acknowledgements."""

from __future__ import annotations

import hashlib
import hmac
import json
import random
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from hjemflyt.notifications.messages.models import Message


class DeliveryState(StrEnum):
    pending = "pending"  # to be pushed by webhook (perhaps waiting for an earlier one)
    delivered = "delivered"  # the provider's receiver answered 2xx
    dead = "dead"  # retried for the whole retry window; a task went to the case office
    inbox = "inbox"  # the provider has no webhook: it fetches from the inbox


class AckStatus(StrEnum):
    awaiting = "awaiting"
    accepted = "accepted"
    rejected = "rejected"
    # A newer version of the same order was sent before this one was answered: only the
    # newest version can be acknowledged, and the older one is never escalated.
    superseded = "superseded"


ANSWERED = frozenset({AckStatus.accepted, AckStatus.rejected})


def wire(message: Message) -> dict[str, Any]:
    """The message as the provider receives it: the webhook body and an inbox item."""
    return {
        "id": str(message.id),
        "kind": message.kind,
        "provider_org": message.provider_org,
        "position": message.position,
        "ordering_key": message.ordering_key,
        "sequence": message.sequence,
        "person_id": str(message.person_id) if message.person_id else None,
        "order_id": str(message.order_id) if message.order_id else None,
        "reference_id": str(message.reference_id) if message.reference_id else None,
        "created_at": message.created_at.isoformat(),
        "ack": {
            "required": message.ack_status is not None,
            "deadline": message.ack_deadline.isoformat() if message.ack_deadline else None,
            "status": message.ack_status,
        },
        "data": message.body,
    }


def encode(body: dict[str, Any]) -> bytes:
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()


def signature(secret: str, timestamp: int, raw_body: bytes) -> str:
    """`v1=<hex HMAC-SHA256(secret, "<timestamp>." + body)>`."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + raw_body, hashlib.sha256)
    return "v1=" + mac.hexdigest()


def signature_header(secrets: Iterable[str], timestamp: int, raw_body: bytes) -> str:
    """One `v1=` per valid secret, the current one first (two during a rotation)."""
    return ", ".join(signature(s, timestamp, raw_body) for s in secrets)


@dataclass(frozen=True)
class Backoff:
    base_seconds: float
    cap_seconds: float

    def delay(self, attempts: int, rng: random.Random | None = None) -> timedelta:
        """Exponential back-off with full jitter: uniform in [0, min(cap, base * 2^(n-1))]."""
        ceiling = min(self.cap_seconds, self.base_seconds * 2 ** min(max(attempts - 1, 0), 30))
        return timedelta(seconds=(rng or random).uniform(0, ceiling))


def gives_up(retry_from: datetime, now: datetime, retry_window: timedelta) -> bool:
    """Dead once the message has been retried for the whole window (from its first try)."""
    return now - retry_from >= retry_window


def same_answer(message: Message, accepted: bool) -> bool:
    return message.ack_status == (AckStatus.accepted if accepted else AckStatus.rejected)
