"""`make run` keeps the system up: a service killed with SIGKILL is restarted by the dev
stack's supervisor (with back-off) while the others keep serving, and the work of the time
it was down is done once when it is back (outbox and inbox), nothing lost or doubled."""

from __future__ import annotations

import asyncio
import signal
import threading

import pytest

from hjemflyt.shared.demo import decision_body
from hjemflyt.shared.devstack import restart_delay
from hjemflyt.shared.identity import synthetic_identity_numbers
from hjemflyt.shared.platform.auth import Role
from hjemflyt.shared.testing import eventually, suite_today
from tests.system import PROVIDER_A, Actor, configure_municipality

NUMBERS = list(synthetic_identity_numbers(3, seed=77))


def test_restart_delay_backs_off_to_half_a_minute():
    assert [restart_delay(n) for n in (1, 2, 3, 4, 5, 6, 7, 20)] == [1, 2, 4, 8, 16, 30, 30, 30]


@pytest.mark.system
async def test_a_killed_service_comes_back_and_catches_up_exactly_once(stack):
    stop = threading.Event()
    restarts: list[str] = []
    supervisor = threading.Thread(target=stack.supervise, args=(stop, restarts.append), daemon=True)
    supervisor.start()
    try:
        async with (
            Actor(stack, Role.integration) as integration,
            Actor(stack, Role.case_officer, districts=["frogner"]) as officer,
        ):
            await configure_municipality(integration)
            old_pid = stack.procs["pathway"].pid
            stack.procs["pathway"].send_signal(signal.SIGKILL)
            people = []
            # While pathway is down, the case office goes on working.
            for number in NUMBERS:
                r = await officer.post(
                    "/assessment/v1/persons",
                    json={
                        "identity_number": number,
                        "name": "Kari Nordmann",
                        "address": "Vei 1",
                        "district": "frogner",
                    },
                )
                assert r.status_code == 201, r.text
                body = decision_body(
                    r.json()["id"], [("home-nursing", "10", PROVIDER_A)], start=suite_today()
                )
                assert (await officer.post("/assessment/v1/decisions", json=body)).status_code == 201
                people.append(r.json()["id"])

            async def back() -> None:
                assert stack.procs.get("pathway") is not None
                assert stack.procs["pathway"].pid != old_pid
                assert (await integration.get("/pathway/readyz")).status_code == 200

            await eventually(back, seconds=60)
            assert len(restarts) == 1
            assert restarts[0].startswith("pathway exited with -9")

            async def caught_up() -> None:
                for person_id in people:
                    r = await officer.get(f"/pathway/v1/persons/{person_id}/timeline")
                    assert r.status_code == 200, r.text
                    kinds = [e["kind"] for e in r.json()["entries"]]
                    assert kinds.count("decision-made") == 1

            await eventually(caught_up, seconds=60)
            await asyncio.sleep(2)  # and nothing arrives twice afterwards
            await caught_up()
    finally:
        stop.set()
        supervisor.join(10)
