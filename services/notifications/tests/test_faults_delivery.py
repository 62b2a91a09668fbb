"""Delivery faults at service level: a provider's receiver down for hours, a message given
up on and redelivered, and a worker that died between claiming a message and recording the
outcome. Time moves with the service's clock; the receiver is a real HTTP server."""

from __future__ import annotations

import json
import socket
import threading
import uuid
from collections import defaultdict
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from identity_corpus import VALID_NUMBERS, make_org_number
from sqlalchemy import select

from hjemflyt.notifications.main import create_app
from hjemflyt.notifications.messages.delivery import DeliveryWorker
from hjemflyt.notifications.messages.models import Message
from hjemflyt.shared.contracts.events import ORDER_ISSUED, DecidedService, OrderIssued, OrderRecipient
from hjemflyt.shared.platform.auth import Role
from hjemflyt.shared.testing import auth, eventually, publish_event, running_service, suite_now, suite_today

pytestmark = pytest.mark.fault

PROVIDER = make_org_number("81234567")
NUMBER = next(n for n, cls in VALID_NUMBERS if cls == "tenor_birth_number")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Receiver:
    """A provider's receiver: records each POST; stopped, it refuses connections."""

    def __init__(self) -> None:
        self.port = free_port()
        self.received: list[dict[str, Any]] = []
        self._server: ThreadingHTTPServer | None = None
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def start(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver._lock:
                    receiver.received.append(json.loads(body))
                self.send_response(204)
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


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.stop()


# A lease longer than any single move of the clock below, so no POST in flight can lose
# its lease to a clock jump (which would deliver it twice: at least once, not exactly once).
LEASE = timedelta(hours=1)
CAP = timedelta(minutes=30)


def fault_settings(settings, **changes: Any):
    return settings.model_copy(
        update={
            "webhook_poll_seconds": 0.1,
            "ack_sweep_seconds": 3600.0,
            "webhook_lease_seconds": LEASE.total_seconds(),
            "webhook_backoff_base_seconds": 60.0,
            "webhook_backoff_cap_seconds": CAP.total_seconds(),
            "webhook_concurrency": 4,
            **changes,
        }
    )


async def setup_provider(client, issuer, url: str) -> None:
    r = await client.put(
        f"/v1/providers/{PROVIDER}",
        json={"name": "Omsorg AS", "kind": "private", "service_codes": ["15"], "districts": ["frogner"]},
        headers=auth(issuer, Role.integration),
    )
    assert r.status_code == 201, r.text
    r = await client.put(
        f"/v1/providers/{PROVIDER}/webhook",
        json={"url": url},
        headers=auth(issuer, Role.provider, provider_org=PROVIDER),
    )
    assert r.status_code == 201, r.text


async def issue(settings, decision_id: uuid.UUID, person_id: uuid.UUID, version: int, kind: str) -> None:
    data = OrderIssued(
        kind=kind,
        decision_id=decision_id,
        decision_version=version,
        person_id=person_id,
        district="frogner",
        provider_org=PROVIDER,
        recipient=OrderRecipient(identity_number=NUMBER, name="Kari Nordmann", address="Eksempelveien 1"),
        services=[
            DecidedService(
                service_code="15",
                service_name="Helsetjenester i hjemmet",
                hours_per_month=str(10 + version),
                provider_org=PROVIDER,
            )
        ],
        start_date=suite_today() + timedelta(days=7),
        issued_at=suite_now(),
    )
    await publish_event(settings, ORDER_ISSUED, data, subject=f"{decision_id}/{PROVIDER}")


async def issue_for_persons(settings, persons: int) -> list[uuid.UUID]:
    """Per person: new, changed, ended: three messages that must arrive in this order."""
    ids = [uuid.uuid4() for _ in range(persons)]
    decisions = {p: uuid.uuid4() for p in ids}
    for version, kind in ((1, "new"), (2, "changed"), (3, "ended")):
        for p in ids:
            await issue(settings, decisions[p], p, version, kind)
    return ids


async def all_messages(client) -> list[Message]:
    async with client.app.state.ctx.sessionmaker() as s:
        return list((await s.scalars(select(Message).order_by(Message.position))).all())


def heads(found: list[Message]) -> list[Message]:
    """Each person's first message not yet delivered: the only ones the worker may try."""
    first: dict[str, Message] = {}
    for m in sorted(found, key=lambda m: m.sequence):
        if m.delivery_state in ("pending", "dead") and m.ordering_key not in first:
            first[m.ordering_key] = m
    return list(first.values())


def assert_in_order_once(receiver: Receiver, expected: int) -> None:
    ids = [m["id"] for m in receiver.received]
    assert len(ids) == len(set(ids)) == expected, "a message arrived twice"
    per_person: dict[str, list[int]] = defaultdict(list)
    for m in receiver.received:
        per_person[m["person_id"]].append(m["sequence"])
    for sequences in per_person.values():
        assert sequences == sorted(sequences), sequences


async def test_a_receiver_down_for_hours_gets_everything_afterwards_in_order_once(settings, issuer, receiver):
    async with running_service(create_app, fault_settings(settings)) as client:
        clock = client.app.state.ctx.clock
        await setup_provider(client, issuer, receiver.url)  # the receiver is not listening
        persons = await issue_for_persons(settings, 4)
        expected = 3 * len(persons)

        async def all_heads_tried_and_waiting(min_attempts: int) -> None:
            found = await all_messages(client)
            assert len(found) == expected
            now = clock.now()
            for m in heads(found):
                assert m.attempts >= min_attempts
                assert m.next_attempt_at is not None
                assert m.next_attempt_at > now
                assert m.last_error

        await eventually(lambda: all_heads_tried_and_waiting(1))
        # Down for four hours: the clock moves in steps shorter than the lease, each time
        # until every person's first message has been tried again and is waiting.
        for _step in range(12):
            clock.advance(CAP - timedelta(minutes=10))
            await eventually(lambda: all_heads_tried_and_waiting(1))
        found = await all_messages(client)
        assert all(m.delivery_state == "pending" for m in found)
        assert max(m.attempts for m in found) >= 4, [m.attempts for m in found]  # many back-offs
        # Only the first message per person was ever tried: order holds.
        assert all(m.attempts == 0 for m in found if m.sequence > 1)
        assert receiver.received == []

        receiver.start()
        clock.advance(CAP + timedelta(seconds=1))  # past the longest back-off, within the lease

        async def delivered() -> None:
            found = await all_messages(client)
            assert [m.delivery_state for m in found] == ["delivered"] * expected

        await eventually(delivered, seconds=30)
        assert_in_order_once(receiver, expected)
        tried = await all_messages(client)
        assert all(m.last_error is None for m in tried)


async def test_a_message_given_up_on_waits_with_its_successors_until_redelivered(settings, issuer, receiver):
    async with running_service(create_app, fault_settings(settings)) as client:
        ctx = client.app.state.ctx
        await setup_provider(client, issuer, receiver.url)
        [person] = await issue_for_persons(settings, 1)

        async def first_tried() -> Message:
            found = await all_messages(client)
            assert len(found) == 3
            assert found[0].attempts >= 1
            first = found[0]
            if first.delivery_state != "dead":
                assert first.next_attempt_at is not None
                assert first.next_attempt_at > ctx.clock.now()
            return first

        await eventually(first_tried)
        # A day and a bit later, in steps within the lease: the retry window is over.
        for _ in range(50):
            ctx.clock.advance(CAP)
            if (await eventually(first_tried)).delivery_state == "dead":
                break
        first, second, third = await all_messages(client)
        assert first.delivery_state == "dead"
        assert first.dead_at is not None
        assert first.dead_at - first.retry_from >= timedelta(hours=24)
        assert (second.delivery_state, second.attempts, third.attempts) == ("pending", 0, 0)

        officer = auth(issuer, Role.case_officer, districts=["frogner"])
        r = await client.get("/v1/tasks", params={"kind": "delivery_failed"}, headers=officer)
        [task] = r.json()["items"]
        assert task["reference_id"] == str(first.id)
        assert task["person_id"] == str(person)
        r = await client.get(f"/v1/orders/{first.order_id}/messages", headers=officer)
        assert [m["delivery"]["state"] for m in r.json()] == ["dead", "pending", "pending"]
        assert r.json()[0]["delivery"]["last_error"]

        receiver.start()
        r = await client.post(f"/v1/messages/{first.id}/redeliver", headers=officer)
        assert r.status_code == 200, r.text
        assert r.json()["delivery"]["state"] == "pending"

        async def delivered() -> None:
            assert [m.delivery_state for m in await all_messages(client)] == ["delivered"] * 3

        await eventually(delivered)
        assert_in_order_once(receiver, 3)
        r = await client.get(
            "/v1/tasks", params={"kind": "delivery_failed", "status": "open"}, headers=officer
        )
        assert r.json()["items"] == []


async def test_a_worker_that_died_mid_delivery_leaves_the_message_to_be_delivered_after_the_lease(
    settings, issuer, receiver
):
    # No delivery worker in the service: this test plays the workers.
    changes = {"webhook_delivery_enabled": False, "webhook_lease_seconds": 60.0}
    async with running_service(create_app, fault_settings(settings, **changes)) as client:
        ctx = client.app.state.ctx
        receiver.start()
        await setup_provider(client, issuer, receiver.url)
        await issue_for_persons(settings, 2)

        async def there() -> None:
            assert len(await all_messages(client)) == 6

        await eventually(there)
        crashed = DeliveryWorker(ctx)
        claimed = await crashed.claim(10)
        # Only each person's first message could be claimed.
        assert sorted(c.message.sequence for c in claimed) == [1, 1]
        # ... and the worker dies before it POSTs or records anything.

        survivor = DeliveryWorker(ctx)
        assert await survivor.run_once() == 0  # leased: nobody else takes them
        ctx.clock.advance(timedelta(seconds=61))
        delivered = 0
        for _ in range(10):
            delivered += await survivor.run_once()
        assert delivered == 6
        found = await all_messages(client)
        assert [m.delivery_state for m in found] == ["delivered"] * 6
        assert sorted(m.attempts for m in found) == [1, 1, 1, 1, 2, 2]
        assert_in_order_once(receiver, 6)

        # A worker whose lease ran out and whose message another worker delivered cannot
        # overwrite the outcome when it finally records its own.
        await crashed.record(claimed[0], "HTTP 500")
        assert {m.delivery_state for m in await all_messages(client)} == {"delivered"}
