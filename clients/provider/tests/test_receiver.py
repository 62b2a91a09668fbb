"""The reference receiver: genuine, fresh, first-time messages reach the handler once;
anything else is refused or dropped, as a provider's system should."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from hjemflyt_provider import InvalidSignature, WebhookReceiver, sign, verify

SECRET = "whsec_" + "a" * 43
OLD = "whsec_" + "b" * 43
# Hjemflyt-Timestamp is wall time by design (the receiver's five-minute replay window); the
# tests of the window give `sign` and `verify` one fixed instant instead of reading a clock.
NOW = 1_800_000_000


def message(n: int = 1, key: str = "p1") -> bytes:
    return json.dumps({"id": f"m{n}-{key}", "kind": "order.new", "ordering_key": key, "sequence": n}).encode()


def test_verify_accepts_either_secret_during_rotation_and_nothing_else() -> None:
    body = message()
    headers = sign([SECRET, OLD], body)
    verify([SECRET], body, headers["Hjemflyt-Timestamp"], headers["Hjemflyt-Signature"])
    verify([OLD], body, headers["Hjemflyt-Timestamp"], headers["Hjemflyt-Signature"])
    with pytest.raises(InvalidSignature):
        verify(["whsec_other"], body, headers["Hjemflyt-Timestamp"], headers["Hjemflyt-Signature"])
    with pytest.raises(InvalidSignature):
        verify([SECRET], body + b" ", headers["Hjemflyt-Timestamp"], headers["Hjemflyt-Signature"])
    # The timestamp is signed too: moving it breaks the signature.
    moved = str(int(headers["Hjemflyt-Timestamp"]) + 1)
    with pytest.raises(InvalidSignature):
        verify([SECRET], body, moved, headers["Hjemflyt-Signature"])


@pytest.mark.parametrize(
    ("timestamp", "signature"),
    [(None, "v1=00"), ("123", None), ("soon", "v1=00"), (str(NOW), "v0=abc"), ("1", "v1=")],
)
def test_verify_refuses_malformed_headers(timestamp: str | None, signature: str | None) -> None:
    with pytest.raises(InvalidSignature):
        verify([SECRET], b"{}", timestamp, signature, now=NOW)


def test_old_messages_are_replays() -> None:
    body = message()
    on_the_edge = sign([SECRET], body, timestamp=NOW - 300)
    verify([SECRET], body, on_the_edge["Hjemflyt-Timestamp"], on_the_edge["Hjemflyt-Signature"], now=NOW)
    headers = sign([SECRET], body, timestamp=NOW - 301)
    with pytest.raises(InvalidSignature, match="replay"):
        verify([SECRET], body, headers["Hjemflyt-Timestamp"], headers["Hjemflyt-Signature"], now=NOW)


async def test_receiver_handles_each_message_once_and_refuses_forgeries() -> None:
    handled: list[dict[str, Any]] = []

    async def handler(msg: dict[str, Any]) -> None:
        handled.append(msg)

    receiver = WebhookReceiver([SECRET], handler)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=receiver), base_url="http://provider"
    ) as http:
        body = message(1)
        assert (await http.post("/hook", content=body, headers=sign([SECRET], body))).status_code == 204
        # A redelivery (same id) is acknowledged but not handled again.
        assert (await http.post("/hook", content=body, headers=sign([SECRET], body))).status_code == 204
        forged = message(2)
        assert (
            await http.post("/hook", content=forged, headers=sign(["whsec_x"], forged))
        ).status_code == 401
        assert (
            await http.post("/hook", content=b"not json", headers=sign([SECRET], b"not json"))
        ).status_code == 400
        assert (await http.get("/hook")).status_code == 405
        skipped = message(3)
        assert (await http.post("/hook", content=skipped, headers=sign([SECRET], skipped))).status_code == 204
    assert [m["id"] for m in handled] == ["m1-p1", "m3-p1"]
    assert receiver.rejected == 1
    assert [d.duplicate for d in receiver.deliveries] == [False, True, False]
    assert receiver.gaps == [("p1", 1, 3)]


async def test_a_failing_handler_makes_hjemflyt_retry() -> None:
    calls = 0

    async def handler(msg: dict[str, Any]) -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("database down")

    receiver = WebhookReceiver([SECRET], handler)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=receiver), base_url="http://provider"
    ) as http:
        body = message(1)
        assert (await http.post("/hook", content=body, headers=sign([SECRET], body))).status_code == 500
        assert (await http.post("/hook", content=body, headers=sign([SECRET], body))).status_code == 204
    assert calls == 2
    assert [d.duplicate for d in receiver.deliveries] == [False]
