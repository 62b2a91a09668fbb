"""Orders as messages: new, changed (with what changed), paused, resumed, ended; webhook
delivery with signatures (and rotation); the pull inbox with long-polling; acknowledgements
and their escalation; what the case office sees; isolation between providers.

Events arrive on the real bus from a test publisher, webhooks go to a real HTTP receiver on
a free port, and time moves with the service's clock.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import re
import socket
import threading
import uuid
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from identity_corpus import VALID_NUMBERS, make_org_number
from sqlalchemy import select, text

from hjemflyt.notifications.db import platform_tables
from hjemflyt.notifications.main import create_app
from hjemflyt.notifications.messages import sweep
from hjemflyt.notifications.messages.models import Message
from hjemflyt.shared.contracts.events import (
    ADMISSION_CANCELLED,
    ADMISSION_REOPENED,
    ORDER_ISSUED,
    PERSON_ADMITTED,
    PERSON_DISCHARGED,
    AdmissionCancelled,
    AdmissionReopened,
    DecidedService,
    OrderIssued,
    OrderRecipient,
    PersonAdmitted,
    PersonDischarged,
)
from hjemflyt.shared.contracts.orders import ORDER_ACKNOWLEDGED, ORDER_CHANGED, ORDER_ENDED, ORDER_PAUSED
from hjemflyt.shared.platform.auth import Role
from hjemflyt.shared.testing import auth, eventually, publish_event, running_service, suite_now, suite_today

PROVIDER = make_org_number("81234567")
OTHER = make_org_number("90000000")
NUMBER = next(n for n, cls in VALID_NUMBERS if cls == "tenor_birth_number")
T = platform_tables
SECRET = re.compile(r"^whsec_[A-Za-z0-9_-]{43}$")
TODAY = suite_today()  # the suite's pinned day, Norway's legal date (the service's too)
# Orders start a week after they are issued, as assessment issues them ahead of the start.
START = TODAY + timedelta(days=7)


# --- a webhook receiver ------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Receiver:
    """A provider's webhook receiver: records what arrives; `start`/`stop` take it up and
    down (a stopped receiver refuses connections); `status` is what it answers."""

    def __init__(self) -> None:
        self.port = free_port()
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.status = 200
        self._server: ThreadingHTTPServer | None = None
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/hjemflyt"

    def start(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                status = receiver.status
                if 200 <= status < 300:
                    with receiver._lock:
                        receiver.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def messages(self) -> list[dict[str, Any]]:
        with self._lock:
            return [json.loads(body) for _, body in self.received]


@pytest.fixture
def receiver():
    r = Receiver()
    r.start()
    yield r
    r.stop()


def verify(secret: str, headers: dict[str, str], body: bytes) -> list[bool]:
    """Which of the `v1=` signatures match `secret` (recomputed here, not by the service)."""
    ts = headers["hjemflyt-timestamp"]
    expected = hmac.new(secret.encode(), f"{ts}.".encode() + body, hashlib.sha256).hexdigest()
    return [part.strip() == f"v1={expected}" for part in headers["hjemflyt-signature"].split(",")]


# --- the service -------------------------------------------------------------------------


def fast(settings, **changes: Any):
    return settings.model_copy(update={"webhook_poll_seconds": 0.1, "ack_sweep_seconds": 3600.0, **changes})


@pytest.fixture
async def client(settings):
    async with running_service(create_app, fast(settings)) as client:
        yield client


def provider(issuer, org: str = PROVIDER, **claims: Any) -> dict[str, str]:
    return auth(issuer, Role.provider, provider_org=org, **claims)


def officer(issuer, district: str = "frogner") -> dict[str, str]:
    return auth(issuer, Role.case_officer, districts=[district])


async def register(client, issuer, org: str = PROVIDER) -> None:
    r = await client.put(
        f"/v1/providers/{org}",
        json={"name": "Omsorg AS", "kind": "private", "service_codes": ["1", "15"], "districts": ["frogner"]},
        headers=auth(issuer, Role.integration),
    )
    assert r.status_code in (200, 201), r.text


async def set_webhook(client, issuer, url: str, org: str = PROVIDER) -> str:
    r = await client.put(f"/v1/providers/{org}/webhook", json={"url": url}, headers=provider(issuer, org))
    assert r.status_code == 201, r.text
    assert SECRET.match(r.json()["secret"])
    return str(r.json()["secret"])


async def issue(
    settings,
    *,
    decision_id: uuid.UUID,
    person_id: uuid.UUID,
    version: int = 1,
    kind: str = "new",
    hours: str = "12.5",
    org: str = PROVIDER,
    end_date: date | None = None,
    event_id: uuid.UUID | None = None,
) -> None:
    data = OrderIssued(
        kind=kind,
        decision_id=decision_id,
        decision_version=version,
        person_id=person_id,
        district="frogner",
        provider_org=org,
        recipient=OrderRecipient(identity_number=NUMBER, name="Kari Nordmann", address="Eksempelveien 1"),
        services=[
            DecidedService(
                service_code="15",
                service_name="Helsetjenester i hjemmet",
                hours_per_month=hours,
                provider_org=org,
            )
        ],
        start_date=START,
        end_date=end_date,
        case_office_contact="Forvaltning Frogner, 23 00 00 00",
        issued_at=suite_now(),
    )
    await publish_event(settings, ORDER_ISSUED, data, subject=f"{decision_id}/{org}", event_id=event_id)


async def messages(client, **where: Any) -> list[Message]:
    async with client.app.state.ctx.sessionmaker() as s:
        stmt = select(Message).order_by(Message.position)
        for key, value in where.items():
            stmt = stmt.where(getattr(Message, key) == value)
        return list((await s.scalars(stmt)).all())


async def wait_messages(client, n: int, **where: Any) -> list[Message]:
    async def there():
        found = await messages(client, **where)
        assert len(found) == n, [m.kind for m in found]
        return found

    return await eventually(there)


async def outbox(client, event_type) -> list[dict[str, Any]]:
    async with client.app.state.ctx.sessionmaker() as s:
        rows = await s.scalars(
            select(T.outbox.c.envelope).where(T.outbox.c.type == event_type.name).order_by(T.outbox.c.seq)
        )
        return [json.loads(e)["data"] for e in rows]


def assert_problem(r, status: int, slug: str) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json"), r.headers
    assert r.json()["type"].endswith("/" + slug), r.json()
    return r.json()


# --- webhook delivery --------------------------------------------------------------------


async def test_orders_are_pushed_signed_in_person_order_with_what_changed(client, issuer, settings, receiver):
    await register(client, issuer)
    secret = await set_webhook(client, issuer, receiver.url)
    anna, bo = uuid.uuid4(), uuid.uuid4()
    d_anna, d_bo = uuid.uuid4(), uuid.uuid4()
    await issue(settings, decision_id=d_anna, person_id=anna)
    await issue(settings, decision_id=d_bo, person_id=bo)
    await issue(settings, decision_id=d_anna, person_id=anna, version=2, kind="changed", hours="20")
    end = START + timedelta(days=60)
    await issue(settings, decision_id=d_anna, person_id=anna, version=3, kind="ended", end_date=end)

    async def all_pushed():
        assert len(receiver.received) == 4
        return receiver.received

    received = await eventually(all_pushed)
    by_person: dict[str, list[dict[str, Any]]] = {}
    for headers, body in received:
        assert headers["content-type"] == "application/json"
        assert verify(secret, headers, body) == [True]
        message = json.loads(body)
        assert headers["hjemflyt-message-id"] == message["id"]
        # Wall time by design (the receiver's replay window checks it against its own clock),
        # so this compares with the system clock, not the suite's.
        assert abs(int(headers["hjemflyt-timestamp"]) - datetime.now(UTC).timestamp()) < 300  # noqa: TID251 - signature timestamps are wall time
        by_person.setdefault(message["person_id"], []).append(message)
    assert [m["kind"] for m in by_person[str(anna)]] == ["order.new", "order.changed", "order.ended"]
    assert [m["sequence"] for m in by_person[str(anna)]] == [1, 2, 3]
    assert [m["kind"] for m in by_person[str(bo)]] == ["order.new"]

    new, changed, ended = by_person[str(anna)]
    assert set(new) == {
        "id", "kind", "provider_org", "position", "ordering_key", "sequence", "person_id", "order_id",
        "reference_id", "created_at", "ack", "data",
    }  # fmt: skip
    assert new["ordering_key"] == str(anna)
    assert new["data"]["recipient"]["identity_number"] == NUMBER
    assert new["data"]["case_office_contact"] == "Forvaltning Frogner, 23 00 00 00"
    assert "routines" in new["data"]
    assert new["ack"]["required"] is True
    deadline = datetime.fromisoformat(new["ack"]["deadline"]) - datetime.fromisoformat(new["created_at"])
    assert deadline == timedelta(hours=48)
    assert changed["order_id"] == new["order_id"] == ended["order_id"]
    assert changed["data"]["changes"] == {
        "services": {
            "added": [],
            "removed": [],
            "changed": [
                {"service_code": "15", "service_type": None, "hours_per_month": {"from": "12.5", "to": "20"}}
            ],
        }
    }
    assert ended["ack"]["required"] is False
    assert ended["data"]["end_date"] == end.isoformat()

    # The case office sees each message's delivery; the order's status and newest ack. The
    # receiver has the last POST a moment before the worker commits its outcome: wait for it.
    async def delivered() -> None:
        r = await client.get(f"/v1/orders/{new['order_id']}/messages", headers=officer(issuer))
        assert r.status_code == 200, r.text
        states = [
            (m["kind"], m["delivery"]["state"], m["delivery"]["attempts"], m["ack"]["status"])
            for m in r.json()
        ]
        assert states == [
            ("order.new", "delivered", 1, "superseded"),
            ("order.changed", "delivered", 1, "superseded"),
            ("order.ended", "delivered", 1, None),
        ]

    await eventually(delivered)
    r = await client.get("/v1/orders", headers=officer(issuer), params={"person_id": str(anna)})
    [order] = r.json()["items"]
    assert (order["status"], order["kind"], order["decision_version"]) == ("ended", "ended", 3)
    assert order["delivery"]["state"] == "delivered"
    assert [e["changed"] for e in await outbox(client, ORDER_CHANGED)] == [["hours_per_month"]]
    assert len(await outbox(client, ORDER_ENDED)) == 1
    assert NUMBER not in json.dumps(await outbox(client, ORDER_CHANGED))


async def test_during_a_rotation_messages_carry_both_signatures(client, issuer, settings, receiver):
    await register(client, issuer)
    first = await set_webhook(client, issuer, receiver.url)
    r = await client.post(f"/v1/providers/{PROVIDER}/webhook/rotate", headers=provider(issuer))
    assert r.status_code == 200, r.text
    second = r.json()["secret"]
    assert SECRET.match(second)
    assert second != first
    assert r.json()["rotating_until"] is not None
    async with client.app.state.ctx.sessionmaker() as s:
        stored = (
            await s.execute(text("select secret, previous_secret from notifications.webhook_endpoint"))
        ).one()
    assert first.encode() not in stored[0] + stored[1]
    assert second.encode() not in stored[0] + stored[1]

    await issue(settings, decision_id=uuid.uuid4(), person_id=uuid.uuid4())
    await eventually(lambda: _count(receiver, 1))
    headers, body = receiver.received[0]
    assert verify(second, headers, body) == [True, False]  # the new secret first
    assert verify(first, headers, body) == [False, True]

    # 24 hours later only the new secret signs.
    client.app.state.ctx.clock.advance(timedelta(hours=24, seconds=1))
    await issue(settings, decision_id=uuid.uuid4(), person_id=uuid.uuid4())
    await eventually(lambda: _count(receiver, 2))
    headers, body = receiver.received[1]
    assert verify(second, headers, body) == [True]
    r = await client.get(f"/v1/providers/{PROVIDER}/webhook", headers=provider(issuer))
    assert r.json()["rotating_until"] is None
    assert "secret" not in r.json()


async def _count(receiver: Receiver, n: int) -> None:
    assert len(receiver.received) == n


async def test_without_a_webhook_messages_wait_in_the_inbox(client, issuer, settings, receiver):
    await register(client, issuer)
    receiver.status = 503
    await set_webhook(client, issuer, receiver.url)
    await issue(settings, decision_id=uuid.uuid4(), person_id=uuid.uuid4())

    async def tried():
        found = await messages(client)
        assert len(found) == 1
        m = found[0]
        assert m.attempts >= 1
        assert m.last_error == "HTTP 503"
        return m

    message = await eventually(tried)
    r = await client.delete(f"/v1/providers/{PROVIDER}/webhook", headers=provider(issuer))
    assert r.status_code == 204
    [m] = await messages(client)
    assert m.delivery_state == "inbox"
    assert m.next_attempt_at is None
    r = await client.get("/v1/inbox", headers=provider(issuer))
    assert [i["id"] for i in r.json()["items"]] == [str(message.id)]
    assert_problem(
        await client.delete(f"/v1/providers/{PROVIDER}/webhook", headers=provider(issuer)), 404, "not-found"
    )

    # A webhook set again pushes what was not fetched (nothing here: it was fetched).
    receiver.status = 200
    await set_webhook(client, issuer, receiver.url)
    [m] = await messages(client)
    assert m.delivery_state == "inbox"


# --- the inbox -----------------------------------------------------------------------------


async def test_the_inbox_long_polls_and_pages_by_position(client, issuer, settings):
    await register(client, issuer)
    headers = provider(issuer)
    r = await client.get("/v1/inbox", params={"after": 0, "wait": 0.3}, headers=headers)
    assert r.json() == {"items": [], "next_cursor": 0}

    waiting = asyncio.create_task(client.get("/v1/inbox", params={"after": 0, "wait": 20}, headers=headers))
    await asyncio.sleep(0.3)
    assert not waiting.done()
    await issue(settings, decision_id=uuid.uuid4(), person_id=uuid.uuid4())
    r = await waiting
    assert r.status_code == 200, r.text
    [item] = r.json()["items"]
    assert item["kind"] == "order.new"
    assert item["position"] == 1
    assert r.json()["next_cursor"] == 1
    [m] = await messages(client)
    assert m.fetched_at is not None
    first_fetch = m.fetched_at

    for _ in range(3):
        await issue(settings, decision_id=uuid.uuid4(), person_id=uuid.uuid4())
    await wait_messages(client, 4)
    r = await client.get("/v1/inbox", params={"after": 1, "limit": 2}, headers=headers)
    assert [i["position"] for i in r.json()["items"]] == [2, 3]
    r = await client.get("/v1/inbox", params={"after": r.json()["next_cursor"]}, headers=headers)
    assert [i["position"] for i in r.json()["items"]] == [4]
    # Fetching again does not move the first fetch.
    await client.get("/v1/inbox", headers=headers)
    assert (await messages(client))[0].fetched_at == first_fetch


# --- acknowledgements ------------------------------------------------------------------------


async def ack(client, issuer, message_id, body: Any, org: str = PROVIDER):
    return await client.post(
        f"/v1/messages/{message_id}/acknowledgement", json=body, headers=provider(issuer, org)
    )


async def open_tasks(client, issuer, kind: str) -> list[dict[str, Any]]:
    r = await client.get("/v1/tasks", params={"kind": kind}, headers=officer(issuer))
    assert r.status_code == 200, r.text
    return list(r.json()["items"])


async def test_acknowledgements_accept_reject_and_conflicts(client, issuer, settings):
    await register(client, issuer)
    person, decision = uuid.uuid4(), uuid.uuid4()
    await issue(settings, decision_id=decision, person_id=person)
    [new] = await wait_messages(client, 1)

    r = await ack(client, issuer, new.id, {"accepted": True})
    assert r.status_code == 201, r.text
    assert r.json()["ack"]["status"] == "accepted"
    assert r.json()["ack"]["late"] is False
    r = await ack(client, issuer, new.id, {"accepted": True})
    assert r.status_code == 200  # the same answer again: nothing changes
    assert_problem(
        await ack(client, issuer, new.id, {"accepted": False, "reason": "Full"}), 409, "already-acknowledged"
    )
    r = await client.get(f"/v1/orders/{new.order_id}", headers=officer(issuer))
    assert (r.json()["status"], r.json()["ack"]["status"]) == ("accepted", "accepted")
    [event] = await outbox(client, ORDER_ACKNOWLEDGED)
    assert event["accepted"] is True
    assert event["message_id"] == str(new.id)

    # A changed version asks again; the provider rejects it, which needs a reason.
    await issue(settings, decision_id=decision, person_id=person, version=2, kind="changed", hours="40")
    _, changed = await wait_messages(client, 2)
    assert_problem(await ack(client, issuer, changed.id, {"accepted": False}), 422, "validation-error")
    assert_problem(
        await ack(client, issuer, changed.id, {"accepted": False, "reason": " "}), 422, "validation-error"
    )
    r = await client.post(
        f"/v1/messages/{changed.id}/acknowledgement",
        content=b'{"accepted": tru',
        headers={**provider(issuer), "content-type": "application/json"},
    )
    assert_problem(r, 422, "validation-error")
    assert_problem(await ack(client, issuer, changed.id, {"accepted": "maybe"}), 422, "validation-error")
    assert_problem(await ack(client, issuer, changed.id, {"accepted": True, "x": 1}), 422, "validation-error")
    r = await ack(client, issuer, changed.id, {"accepted": False, "reason": "No capacity for 40 hours"})
    assert r.status_code == 201, r.text
    r = await client.get(f"/v1/orders/{new.order_id}", headers=officer(issuer))
    assert r.json()["status"] == "rejected"
    [task] = await open_tasks(client, issuer, "order_rejected")
    assert task["order_id"] == str(new.order_id)
    assert task["details"]["reason"] == "No capacity for 40 hours"
    assert [e["accepted"] for e in await outbox(client, ORDER_ACKNOWLEDGED)] == [True, False]

    # The case office cannot answer for the provider; a message that asks nothing cannot be answered.
    r = await client.post(
        f"/v1/messages/{changed.id}/acknowledgement", json={"accepted": True}, headers=officer(issuer)
    )
    assert_problem(r, 403, "forbidden")
    # Ending a rejected order tells the provider nothing (it holds no order); it is ended here.
    await issue(settings, decision_id=decision, person_id=person, version=3, kind="ended")

    async def ended_quietly():
        r = await client.get(f"/v1/orders/{new.order_id}", headers=officer(issuer))
        assert (r.json()["status"], r.json()["decision_version"]) == ("ended", 3)

    await eventually(ended_quietly)
    assert len(await messages(client)) == 2
    other_decision = uuid.uuid4()
    await issue(settings, decision_id=other_decision, person_id=person)
    await issue(settings, decision_id=other_decision, person_id=person, version=2, kind="ended")
    *_, ended = await wait_messages(client, 4)
    assert ended.kind == "order.ended"
    assert_problem(
        await ack(client, issuer, ended.id, {"accepted": True}), 422, "acknowledgement-not-required"
    )
    assert_problem(await ack(client, issuer, uuid.uuid4(), {"accepted": True}), 404, "not-found")
    r = await client.post(
        "/v1/messages/not-a-uuid/acknowledgement", json={"accepted": True}, headers=provider(issuer)
    )
    assert_problem(r, 422, "validation-error")


async def test_an_unanswered_order_is_escalated_once_and_a_late_answer_counts(client, issuer, settings):
    await register(client, issuer)
    person, decision = uuid.uuid4(), uuid.uuid4()
    await issue(settings, decision_id=decision, person_id=person)
    [first] = await wait_messages(client, 1)
    ctx = client.app.state.ctx
    assert await sweep.sweep_once(ctx) == 0
    ctx.clock.advance(timedelta(hours=48, seconds=1))
    assert await sweep.sweep_once(ctx) == 1
    assert await sweep.sweep_once(ctx) == 0
    [task] = await open_tasks(client, issuer, "order_unacknowledged")
    assert task["reference_id"] == str(first.id)
    assert task["person_id"] == str(person)

    # A newer version supersedes the unanswered one: its escalation is closed, it cannot be answered.
    await issue(settings, decision_id=decision, person_id=person, version=2, kind="changed", hours="30")
    _, second = await wait_messages(client, 2)
    assert await open_tasks(client, issuer, "order_unacknowledged") == []
    assert_problem(await ack(client, issuer, first.id, {"accepted": True}), 409, "acknowledgement-superseded")

    ctx.clock.advance(timedelta(hours=49))
    assert await sweep.sweep_once(ctx) == 1
    r = await ack(client, issuer, second.id, {"accepted": True})
    assert r.status_code == 201
    assert r.json()["ack"]["late"] is True
    assert await open_tasks(client, issuer, "order_unacknowledged") == []
    [event] = await outbox(client, ORDER_ACKNOWLEDGED)
    assert event["late"] is True


# --- pause and resume ------------------------------------------------------------------------


async def test_an_admission_pauses_the_persons_running_orders_and_a_discharge_resumes_them(
    client, issuer, settings
):
    await register(client, issuer)
    await register(client, issuer, OTHER)
    person, admission = uuid.uuid4(), uuid.uuid4()
    running, other_provider, ended = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    await issue(settings, decision_id=running, person_id=person)
    await issue(settings, decision_id=other_provider, person_id=person, org=OTHER)
    await issue(settings, decision_id=ended, person_id=person)
    await issue(settings, decision_id=ended, person_id=person, version=2, kind="ended")
    await issue(settings, decision_id=uuid.uuid4(), person_id=uuid.uuid4())  # someone else
    await wait_messages(client, 5)
    [accepted] = await messages(client, provider_org=OTHER)
    assert (await ack(client, issuer, accepted.id, {"accepted": True}, org=OTHER)).status_code == 201

    # Admitted two days ago, expected home in five days; discharged now (the service's today).
    expected_back = TODAY + timedelta(days=5)
    admitted = PersonAdmitted(
        admission_id=admission,
        person_id=person,
        district="frogner",
        admitted_at=suite_now() - timedelta(days=2),
        institution_kind="hospital",
        expected_discharge_date=expected_back,
    )
    await publish_event(settings, PERSON_ADMITTED, admitted, subject=str(person))
    await publish_event(settings, PERSON_ADMITTED, admitted, subject=str(person))  # re-issued, new id
    paused = await wait_messages(client, 2, kind="order.paused")
    assert {m.provider_org for m in paused} == {PROVIDER, OTHER}
    assert {m.order_id for m in paused} == {
        m.order_id for m in await messages(client, kind="order.new", person_id=person)
    } - {m.order_id for m in await messages(client, kind="order.ended")}
    assert all(m.ack_status is None for m in paused)
    assert paused[0].body["pause"]["expected_discharge_date"] == expected_back.isoformat()
    assert "institution_kind" not in paused[0].body["pause"]
    r = await client.get(
        "/v1/orders", params={"person_id": str(person), "status": "paused"}, headers=officer(issuer)
    )
    assert len(r.json()["items"]) == 2

    discharged = PersonDischarged(
        admission_id=admission,
        person_id=person,
        district="frogner",
        admitted_at=admitted.admitted_at,
        discharged_at=suite_now(),
    )
    await publish_event(settings, PERSON_DISCHARGED, discharged, subject=str(person))
    await publish_event(settings, PERSON_DISCHARGED, discharged, subject=str(person))
    resumed = await wait_messages(client, 2, kind="order.resumed")
    await asyncio.sleep(0.5)  # the second discharge, too, has been handled by now (or will add nothing)
    assert len(await messages(client, kind="order.resumed")) == 2
    for m in resumed:
        r = await client.get(f"/v1/orders/{m.order_id}", headers=officer(issuer))
        assert r.json()["status"] == ("accepted" if m.provider_org == OTHER else "sent")
    assert len(await outbox(client, ORDER_PAUSED)) == 2
    # Per person and provider, in order: new, paused, resumed.
    assert [m.kind for m in await messages(client, provider_org=OTHER)] == [
        "order.new",
        "order.paused",
        "order.resumed",
    ]
    assert [m.sequence for m in await messages(client, provider_org=OTHER)] == [1, 2, 3]


async def test_a_cancelled_admission_resumes_the_orders_it_paused(client, issuer, settings):
    await register(client, issuer)
    person, admission = uuid.uuid4(), uuid.uuid4()
    await issue(settings, decision_id=uuid.uuid4(), person_id=person)
    await wait_messages(client, 1)
    admitted = PersonAdmitted(
        admission_id=admission,
        person_id=person,
        district="frogner",
        admitted_at=suite_now() - timedelta(hours=3),
        institution_kind="hospital",
    )
    await publish_event(settings, PERSON_ADMITTED, admitted, subject=str(person))
    [paused] = await wait_messages(client, 1, kind="order.paused")
    cancelled = AdmissionCancelled(
        admission_id=admission,
        person_id=person,
        district="frogner",
        admitted_at=admitted.admitted_at,
        cancelled_at=suite_now(),
    )
    await publish_event(settings, ADMISSION_CANCELLED, cancelled, subject=str(person))
    await publish_event(settings, ADMISSION_CANCELLED, cancelled, subject=str(person))  # again: nothing
    [resumed] = await wait_messages(client, 1, kind="order.resumed")
    await asyncio.sleep(0.5)
    assert len(await messages(client, kind="order.resumed")) == 1
    assert resumed.order_id == paused.order_id
    assert resumed.body["resume"]["admission_cancelled_at"] == cancelled.cancelled_at.isoformat()
    r = await client.get(f"/v1/orders/{resumed.order_id}", headers=officer(issuer))
    assert r.json()["status"] == "sent"
    # A cancelled discharge reopens a stay: the orders pause again.
    reopened = AdmissionReopened(
        admission_id=admission,
        person_id=person,
        district="frogner",
        admitted_at=admitted.admitted_at,
        institution_kind="hospital",
        reopened_at=suite_now(),
    )
    await publish_event(settings, ADMISSION_REOPENED, reopened, subject=str(person))
    await wait_messages(client, 2, kind="order.paused")


# --- isolation -------------------------------------------------------------------------------


async def test_another_providers_ids_answer_404_everywhere(client, issuer, settings, receiver):
    await register(client, issuer)
    await register(client, issuer, OTHER)
    await set_webhook(client, issuer, receiver.url)
    await issue(settings, decision_id=uuid.uuid4(), person_id=uuid.uuid4())
    [m] = await wait_messages(client, 1)
    other = provider(issuer, OTHER)
    elsewhere = officer(issuer, "grorud")
    for headers in (other, elsewhere):
        for path in (f"/v1/orders/{m.order_id}", f"/v1/orders/{m.order_id}/messages", f"/v1/messages/{m.id}"):
            assert_problem(await client.get(path, headers=headers), 404, "not-found")
        r = await client.post(f"/v1/messages/{m.id}/redeliver", headers=headers)
        assert_problem(r, 404, "not-found")
        assert (await client.get("/v1/orders", headers=headers)).json()["items"] == []
    assert_problem(await ack(client, issuer, m.id, {"accepted": True}, org=OTHER), 404, "not-found")
    assert (await client.get("/v1/inbox", headers=other)).json()["items"] == []
    for method, path in (
        ("GET", f"/v1/providers/{PROVIDER}/webhook"),
        ("PUT", f"/v1/providers/{PROVIDER}/webhook"),
        ("POST", f"/v1/providers/{PROVIDER}/webhook/rotate"),
        ("DELETE", f"/v1/providers/{PROVIDER}/webhook"),
    ):
        body = {"url": "http://127.0.0.1:1/x"} if method == "PUT" else None
        assert_problem(await client.request(method, path, json=body, headers=other), 404, "not-found")
    # Unknown ids, too.
    for path in (
        f"/v1/orders/{uuid.uuid4()}",
        f"/v1/orders/{uuid.uuid4()}/messages",
        f"/v1/messages/{uuid.uuid4()}",
    ):
        assert_problem(await client.get(path, headers=provider(issuer)), 404, "not-found")
    # The owner and the district's case officer do see it; redelivering a delivered one is a conflict.
    await eventually(lambda: _count(receiver, 1))
    assert (await client.get(f"/v1/messages/{m.id}", headers=provider(issuer))).status_code == 200
    r = await client.post(f"/v1/messages/{m.id}/redeliver", headers=officer(issuer))
    assert_problem(r, 409, "not-dead")
