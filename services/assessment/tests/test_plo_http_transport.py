"""The HTTP transport against a message service in the shape of NHN's Meldingstjener API v2
(served for real by uvicorn on a free port: the national service itself is outside the
system): a decision's Orientering leaves as a base64 business document, the GP's AppRec is
fetched for the case office's HER-id, matched and marked read; a service that fails leaves
the message pending for the next round, and nothing is sent twice.
"""

from __future__ import annotations

import asyncio
import base64
import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import pytest
import uvicorn
from defusedxml import ElementTree as safe_et
from pydantic import SecretStr
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from hjemflyt.assessment.main import create_app
from hjemflyt.assessment.messaging import builders, worker
from hjemflyt.assessment.messaging.transport.http import HttpTransport, TransportError
from hjemflyt.shared.demo import decision_body
from hjemflyt.shared.identity import synthetic_identity_numbers
from hjemflyt.shared.platform.auth import Role
from hjemflyt.shared.platform.embedded import free_port
from hjemflyt.shared.testing import auth, running_service, suite_today

MH = {"mh": builders.MSGHEAD, "ar": builders.APPREC}
GP = {
    "name": "August September",
    "her_id": "91100",
    "office_name": "Kattskinnet legesenter",
    "office_her_id": "91096",
}
TOKEN = "token-from-the-helseid-sidecar"


class MessageService:
    """What the national message service does for one municipality: takes messages, holds
    messages for receivers until they are marked read."""

    def __init__(self) -> None:
        self.posted: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.queued: dict[str, tuple[str, bytes]] = {}  # id -> (receiver HER-id, document)
        self.read: list[tuple[str, str]] = []
        self.fail_next = 0
        self.app = Starlette(
            routes=[
                Route("/Messages", self.messages, methods=["GET", "POST"]),
                Route("/Messages/{id}/business-document", self.document),
                Route("/Messages/{id}/read/{her_id}", self.mark_read, methods=["PUT"]),
            ]
        )

    def deliver(self, receiver_her_id: str, xml: bytes) -> str:
        message_id = str(uuid.uuid4())
        self.queued[message_id] = (receiver_her_id, xml)
        return message_id

    async def messages(self, request: Request) -> Response:
        self.headers.append(dict(request.headers))
        if self.fail_next:
            self.fail_next -= 1
            return Response("unavailable", status_code=503)
        if request.method == "POST":
            self.posted.append(await request.json())
            return JSONResponse(str(uuid.uuid4()), status_code=201)
        wanted = set(request.query_params.getlist("receiverHerIds"))
        return JSONResponse(
            [{"id": k, "receiverHerId": int(r)} for k, (r, _) in self.queued.items() if r in wanted]
        )

    async def document(self, request: Request) -> Response:
        _, xml = self.queued[request.path_params["id"]]
        return JSONResponse(
            {
                "contentType": "application/xml",
                "contentTransferEncoding": "base64",
                "businessDocument": base64.b64encode(xml).decode(),
            }
        )

    async def mark_read(self, request: Request) -> Response:
        message_id, her_id = request.path_params["id"], request.path_params["her_id"]
        if self.queued.get(message_id, ("", b""))[0] != her_id:
            return Response(status_code=404)
        del self.queued[message_id]
        self.read.append((message_id, her_id))
        return Response(status_code=204)


@pytest.fixture
async def service() -> AsyncIterator[tuple[MessageService, str]]:
    stand_in = MessageService()
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(stand_in.app, host="127.0.0.1", port=port, log_level="warning"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.05)
    try:
        yield stand_in, f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


@pytest.fixture
async def client(settings, service, issuer):
    _, url = service
    http_settings = settings.model_copy(
        update={
            "plo_transport": "http",
            "plo_http_url": url,
            "plo_http_token": SecretStr(TOKEN),
            "plo_worker_enabled": False,  # the test takes the worker's rounds by hand
        }
    )
    async with running_service(create_app, http_settings) as client:
        integration = auth(issuer, Role.integration)
        assert (await client.post("/v1/config/presets/oslo", headers=integration)).status_code == 200
        yield client


async def round_(client) -> dict[str, int]:
    ctx = client.app.state.ctx
    channel = worker.transport(ctx)
    assert isinstance(channel, HttpTransport)
    return await worker.run_once(ctx, channel)


async def sent_decision(client, issuer) -> dict[str, Any]:
    integration = auth(issuer, Role.integration)
    number = next(iter(synthetic_identity_numbers(1, seed=5)))
    person = {
        "identity_number": number,
        "name": "Ola Nordmann",
        "address": "Gata 2",
        "district": "gamle-oslo",
    }
    r = await client.post("/v1/persons", json=person | {"gp": GP}, headers=integration)
    assert r.status_code == 201, r.text
    body = decision_body(
        r.json()["id"], [("home-nursing", "20", None)], start=suite_today() + timedelta(days=7)
    )
    r = await client.post("/v1/decisions", json=body, headers=integration)
    assert r.status_code == 201, r.text
    decision = r.json()
    r = await client.post(
        f"/v1/decisions/{decision['id']}/send",
        headers={**integration, "If-Match": f'"{decision["version"]}"'},
    )
    assert r.status_code == 200, r.text
    return decision


async def out_messages(client, issuer, decision_id: str) -> list[dict[str, Any]]:
    r = await client.get(
        "/v1/plo/messages",
        params={"direction": "out", "decision_id": decision_id},
        headers=auth(issuer, Role.integration),
    )
    assert r.status_code == 200, r.text
    return r.json()


def apprec_for(original: bytes) -> bytes:
    root = safe_et.fromstring(original)
    return builders.apprec(
        builders.AppRec(
            id=str(uuid.uuid4()),
            generated_at=datetime(2026, 1, 2, 12, 0),
            sender=builders.Party(GP["office_name"], GP["office_her_id"]),
            receiver=builders.Party("Hjemflyt kommune", "99387", "Tildelingskontoret", "5078"),
            status=builders.APPREC_OK,
            original_type=builders.ORIENTERING_TJENESTETILBUD,
            original_type_name="Orientering om tjenestetilbud",
            original_issued_at=datetime(2026, 1, 2, 12, 0),
            original_msg_id=root.findtext("mh:MsgInfo/mh:MsgId", namespaces=MH),
        )
    )


async def test_a_decision_reaches_the_message_service_and_the_gps_receipt_comes_back(client, service, issuer):
    stand_in, _ = service
    decision = await sent_decision(client, issuer)
    stand_in.fail_next = 1  # the service is briefly down: the message waits
    with pytest.raises(TransportError):
        await round_(client)
    [message] = await out_messages(client, issuer, decision["id"])
    assert message["status"] == "pending"
    assert stand_in.posted == []

    assert (await round_(client))["sent"] == 1
    [posted] = stand_in.posted
    assert posted["contentType"] == "application/xml"
    assert posted["contentTransferEncoding"] == "base64"
    xml = base64.b64decode(posted["businessDocument"])
    assert builders.validation_errors(xml) == []
    root = safe_et.fromstring(xml)
    assert root.findtext("mh:MsgInfo/mh:MsgId", namespaces=MH) == message["msg_id"]
    headers = stand_in.headers[-1]
    assert headers["api-version"] == "2"
    assert headers["nhn-source-system"] == "hjemflyt"
    assert headers["authorization"] == f"Bearer {TOKEN}"
    [message] = await out_messages(client, issuer, decision["id"])
    assert message["status"] == "sent"

    # The GP's receipt waits at the service for the case office; fetched, matched, marked read.
    receipt_id = stand_in.deliver("5078", apprec_for(xml))
    assert (await round_(client))["received"] == 1
    assert stand_in.read == [(receipt_id, "5078")]
    [message] = await out_messages(client, issuer, decision["id"])
    assert message["status"] == "ok"
    # Nothing was sent twice over all the rounds.
    assert len(stand_in.posted) == 1


async def test_an_unreadable_business_document_is_stored_and_marked_read_not_retried_forever(
    client, service, issuer
):
    stand_in, _ = service
    stand_in.deliver("5079", b"not xml at all")
    assert (await round_(client))["received"] == 1
    assert len(stand_in.read) == 1  # read: it was stored (and, naming no sender, a task says so)
    r = await client.get("/v1/plo/tasks", headers=auth(issuer, Role.integration))
    assert r.status_code == 200, r.text
    assert [t["kind"] for t in r.json()] == ["message-unanswerable"]


def test_http_transport_needs_a_url(settings):
    with pytest.raises(ValueError, match="PLO_HTTP_URL"):
        type(settings)(plo_transport="http", plo_http_url=None)
