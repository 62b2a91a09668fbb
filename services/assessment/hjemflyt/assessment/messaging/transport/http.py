"""The HTTP transport: a message service's REST API in the shape of NHN's Meldingstjener
API v2 (the national message service; the endpoints the published clients use):

- send: `POST /Messages` with the MsgHead (or AppRec) base64-encoded as `businessDocument`;
- receive: `GET /Messages?receiverHerIds=…` for each of the municipality's own HER-ids, then
  `GET /Messages/{id}/business-document` for each message's content;
- done: `PUT /Messages/{id}/read/{receiverHerId}`, after the message was stored.

Headers `api-version: 2` and `nhn-source-system`; a bearer token from configuration (the
national service wants a HelseID DPoP token: a token-fetching sidecar or gateway provides it,
hjemflyt does not speak HelseID itself). httpx's synchronous client, called from the worker in
a thread like the directory transport.

Once and only once: a message is marked sent in the transaction after the service accepted
it; a crash between the two sends it again with the same MsgId, which the receiver drops
as a duplicate (receivers deduplicate on MsgId, as hjemflyt's inbound does). Any HTTP error
raises: the message stays pending and the next round tries again; an incoming message that
cannot be fetched is left unread for the next round.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable

import httpx

from hjemflyt.assessment.messaging.transport.base import Incoming

API_VERSION = "2"
MAX_BYTES = 10 * 1024 * 1024


class TransportError(RuntimeError):
    """The message service refused or could not be reached (the round is retried)."""


class HttpTransport:
    def __init__(
        self,
        base_url: str,
        receiver_her_ids: Iterable[str],
        *,
        token: str | None = None,
        source_system: str = "hjemflyt",
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        headers = {"api-version": API_VERSION, "nhn-source-system": source_system}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self.receivers = sorted(set(receiver_her_ids))
        self.client = httpx.Client(
            base_url=base_url.rstrip("/"), headers=headers, timeout=timeout, transport=transport
        )

    def _check(self, response: httpx.Response, what: str) -> httpx.Response:
        if response.is_error:
            # The body may quote the message (personal data): only the status is kept.
            raise TransportError(f"the message service answered {response.status_code} to {what}")
        return response

    def send(self, msg_id: str, body: bytes) -> None:
        self._check(
            self.client.post(
                "/Messages",
                json={
                    "contentType": "application/xml",
                    "contentTransferEncoding": "base64",
                    "businessDocument": base64.b64encode(body).decode("ascii"),
                },
            ),
            "a message sent",
        )

    def receive(self, limit: int) -> list[Incoming]:
        out: list[Incoming] = []
        for her_id in self.receivers:
            listed = self._check(
                self.client.get("/Messages", params={"receiverHerIds": her_id, "includeMetadata": "false"}),
                "the list of messages",
            ).json()
            for entry in listed if isinstance(listed, list) else []:
                if len(out) >= limit:
                    return out
                message_id = str(entry.get("id", "")) if isinstance(entry, dict) else ""
                if not message_id or "/" in message_id:
                    continue
                document = self._check(
                    self.client.get(f"/Messages/{message_id}/business-document"), "a business document"
                ).json()
                out.append(Incoming(name=f"{message_id}/{her_id}", body=_decoded(document)))
        return out

    def done(self, message: Incoming) -> None:
        message_id, her_id = message.name.rsplit("/", 1)
        self._check(self.client.put(f"/Messages/{message_id}/read/{her_id}"), "marking a message read")

    def close(self) -> None:
        self.client.close()


def _decoded(document: object) -> bytes:
    """The business document's bytes; an undecodable one is read as not XML (answered with a
    negative receipt by the inbound handling, like a broken file)."""
    if not isinstance(document, dict) or not isinstance(document.get("businessDocument"), str):
        return b""
    raw: str = document["businessDocument"]
    if len(raw) > MAX_BYTES * 4 // 3 + 4:
        return b""
    if str(document.get("contentTransferEncoding", "base64")).lower() != "base64":
        return raw.encode("utf-8")
    try:
        return base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        return b""
