"""The national messages through the whole system (issue 13's "done when").

The four services and the gateway run as processes; the PLO messages travel through the
running assessment's directory transport (`<data dir>/plo/outbox` and `inbox`), as the GP's
and the hospital's systems would leave and take them. A decision sent produces an
*Orientering om tjenestetilbud* for the person's GP that validates against the official
schemas, and the GP's AppRec is matched to it; the hospital's *admitted* and *discharged*
messages pause and resume the provider's order and open pathway 1; a cancelled admission
message undoes its admission (the orders resume, the stay is marked cancelled), a cancelled
discharge message reopens the stay (the order pauses again); a malformed message and one
failing its schema get negative AppRecs (T01, T02), and bytes that name no sender a task.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from defusedxml import ElementTree as safe_et
from hjemflyt_provider import ProviderClient

from hjemflyt.assessment.messaging import builders
from hjemflyt.shared.devstack import DevStack
from hjemflyt.shared.identity import synthetic_identity_numbers
from hjemflyt.shared.platform.auth import Role
from hjemflyt.shared.platform.clock import OSLO
from hjemflyt.shared.testing import eventually
from tests.conftest import fresh_stack
from tests.system import (
    PROVIDER_A,
    Actor,
    configure_municipality,
    credentials,
    legal_today,
    next_message,
    webhook_receiver,
)

pytestmark = [pytest.mark.system]

EXAMPLES = Path(__file__).resolve().parents[1] / "services" / "assessment" / "tests" / "data"
INNLAGT = EXAMPLES / "Pasientlogistikk_Innlagt_pasient_v1-6_Ny.xml"
UTSKREVET = EXAMPLES / "Pasientlogistikk_Melding_om_utskrevet_pasient_v1-6_Ny.xml"
EXAMPLE_NUMBER = b"15076500565"
NS = {"mh": builders.MSGHEAD, "ar": builders.APPREC}
GP = {
    "name": "August September",
    "her_id": "91100",
    "office_name": "Kattskinnet legesenter",
    "office_her_id": "91096",
}


@pytest.fixture(scope="module")
def stack() -> Iterator[DevStack]:
    # The message worker reads its inbox every half second here (5 s by default).
    stack = fresh_stack("test_plo_loop")
    stack.extra_env["HJEMFLYT_PLO_POLL_SECONDS"] = "0.5"
    with stack as running:
        yield running


def plo_folder(stack: DevStack) -> Path:
    """The running assessment's directory transport (settings: plo_directory, default
    data_dir/plo)."""
    return stack.data_dir / "plo"


def drop(stack: DevStack, body: bytes) -> None:
    inbox = plo_folder(stack) / "inbox"
    inbox.mkdir(parents=True, exist_ok=True)
    name = f"{uuid.uuid4()}.xml"
    (inbox / f".{name}.tmp").write_bytes(body)
    (inbox / f".{name}.tmp").rename(inbox / name)  # whole, as a transport would


async def receipt(stack: DevStack, original_msg_id: str) -> tuple[str, list[str]]:
    """The AppRec assessment sent for a message: (status, error codes)."""

    async def answered() -> tuple[str, list[str]]:
        found = []
        for file in (plo_folder(stack) / "outbox").glob("*.xml"):
            xml = file.read_bytes()
            root = safe_et.fromstring(xml)
            if root.tag == f"{{{builders.APPREC}}}AppRec" and (
                root.findtext("ar:OriginalMsgId/ar:Id", namespaces=NS) == original_msg_id
            ):
                assert builders.validation_errors(xml) == []
                found.append(
                    (root.find("ar:Status", NS).get("V"), [e.get("V") for e in root.findall("ar:Error", NS)])
                )
        assert len(found) == 1, f"no receipt for {original_msg_id} yet"
        return found[0]

    return await eventually(answered, seconds=30, every=0.3)


def _local(moment: datetime) -> bytes:
    return moment.astimezone(OSLO).strftime("%Y-%m-%dT%H:%M:%S").encode()


def hospital_message(
    example: Path, number: str, at: datetime, *, shipment: str = "N", refers_to: str | None = None
) -> tuple[str, bytes]:
    """The standard's example for this person, its event at `at`, with a fresh MsgId."""
    msg_id = str(uuid.uuid4())
    body = example.read_bytes().replace(EXAMPLE_NUMBER, number.encode())
    body = body.replace(b'V="2018-01-29T10:00:00"', b'V="' + _local(at) + b'"')
    body = body.replace(b'V="2018-02-01"', b'V="' + _local(at) + b'"')
    start, end = body.index(b"<MsgId>") + len(b"<MsgId>"), body.index(b"</MsgId>")
    body = body[:start] + msg_id.encode() + body[end:]
    if shipment != "N":
        body = body.replace(
            b'<Forsendelsesstatus V="N" DN="Ny"/>',
            b'<Forsendelsesstatus V="%s" DN="%s"/>'
            % (shipment.encode(), builders.SHIPMENT[shipment].encode()),
        )
    if refers_to is not None:
        ref = refers_to.encode()
        body = body.replace(
            b"</MsgId>",
            b"</MsgId><ConversationRef><RefToParent>%s</RefToParent>"
            b"<RefToConversation>%s</RefToConversation></ConversationRef>" % (ref, ref),
            1,
        )
    return msg_id, body


async def now(client: httpx.AsyncClient) -> datetime:
    return datetime.fromisoformat((await client.get("/assessment/_dev/clock")).json()["now"])


async def plo_messages(client: httpx.AsyncClient, **params: str) -> list[dict[str, Any]]:
    r = await client.get("/assessment/v1/plo/messages", params=params)
    assert r.status_code == 200, r.text
    items: list[dict[str, Any]] = r.json()
    return items


async def test_messages_with_the_gp_and_the_hospital_close_the_loop(stack: DevStack) -> None:
    async with (
        Actor(stack, Role.integration) as integration,
        Actor(stack, Role.case_officer, districts=["frogner"]) as officer,
        webhook_receiver() as (receiver, hook_url),
    ):
        await configure_municipality(integration)
        r = await integration.put(f"/notifications/v1/providers/{PROVIDER_A}/webhook", json={"url": hook_url})
        assert r.status_code in (200, 201), r.text
        receiver.set_secrets([r.json()["secret"]])
        client_id, secret = await credentials(integration, PROVIDER_A)
        today = await legal_today(officer)
        number = next(iter(synthetic_identity_numbers(1, seed=1313)))
        r = await officer.post(
            "/assessment/v1/persons",
            json={
                "identity_number": number,
                "name": "Roland Gundersen",
                "address": "Flåklypa 31",
                "district": "frogner",
                "gp": GP,
            },
        )
        assert r.status_code == 201, r.text
        person_id = r.json()["id"]

        # 1. A decision made and sent: the provider's order, and an Orientering to the GP.
        r = await officer.post(
            "/assessment/v1/decisions",
            json={
                "person_id": person_id,
                "make": True,
                "justification": "Du trenger hjelp for å bo trygt hjemme.",
                "purpose": "Tjenesten skal gjøre deg mest mulig selvhjulpen i hverdagen.",
                "user_goal": "Du vil klare deg selv hjemme.",
                "start_date": today.isoformat(),
                "end_date": (today + timedelta(days=60)).isoformat(),
                "evaluation_date": (today + timedelta(days=21)).isoformat(),
                "services": [
                    {
                        "service_type": "home-nursing",
                        "scope_kind": "frame",
                        "frame_min_hours": "10",
                        "frame_max_hours": "20",
                        "measures": [{"code": "wound-care", "times": 3, "per": "week", "minutes": 20}],
                        "provider_org": PROVIDER_A,
                    }
                ],
            },
        )
        assert r.status_code == 201, r.text
        decision = r.json()
        r = await officer.post(
            f"/assessment/v1/decisions/{decision['id']}/send",
            headers={"If-Match": f'"{decision["version"]}"'},
        )
        assert r.status_code == 200, r.text
        async with ProviderClient(
            stack.base_url + "/notifications", client_id=client_id, client_secret=secret
        ) as provider:
            order = await next_message(receiver, person_id, "order.new")
            await provider.acknowledge(order["id"], accepted=True)

        async def orientering_sent() -> dict[str, Any]:
            found = await plo_messages(integration, direction="out", decision_id=decision["id"])
            sent = [m for m in found if m["msg_type"] == builders.ORIENTERING_TJENESTETILBUD]
            assert len(sent) == 1, found
            assert sent[0]["status"] == "sent", sent
            return sent[0]

        message = await eventually(orientering_sent, seconds=30, every=0.3)
        xml = (plo_folder(stack) / "outbox" / f"{message['msg_id']}.xml").read_bytes()
        assert builders.validation_errors(xml) == []  # the official schemas: MsgHead 1.2, PLO 1.6
        root = safe_et.fromstring(xml)
        receiver_org = root.find("mh:MsgInfo/mh:Receiver/mh:Organisation", NS)
        assert receiver_org.findtext("mh:Ident/mh:Id", namespaces=NS) == GP["office_her_id"]
        assert (
            receiver_org.findtext("mh:HealthcareProfessional/mh:Ident/mh:Id", namespaces=NS) == GP["her_id"]
        )
        assert message["counterpart_her_id"] == GP["her_id"]

        # The GP's system answers with a positive AppRec: the message is ok.
        gp = builders.Party(
            GP["office_name"],
            GP["office_her_id"],
            professional_name=GP["name"],
            professional_her_id=GP["her_id"],
        )
        us = builders.Party("Hjemflyt kommune", "99387", "Tildelingskontoret", "5078")
        drop(
            stack,
            builders.apprec(
                builders.AppRec(
                    id=str(uuid.uuid4()),
                    generated_at=await now(integration),
                    sender=gp,
                    receiver=us,
                    status=builders.APPREC_OK,
                    original_type=builders.ORIENTERING_TJENESTETILBUD,
                    original_type_name="Orientering om tjenestetilbud",
                    original_issued_at=await now(integration),
                    original_msg_id=message["msg_id"],
                )
            ),
        )

        async def receipt_matched() -> None:
            found = await plo_messages(integration, direction="out", decision_id=decision["id"])
            assert [m["status"] for m in found if m["msg_id"] == message["msg_id"]] == ["ok"]

        await eventually(receipt_matched, seconds=30, every=0.3)

        # 2. The hospital admits the person: the order pauses; discharges: it resumes and
        # pathway 1 opens.
        admitted_at = await now(integration) - timedelta(hours=2)
        innlagt, body = hospital_message(INNLAGT, number, admitted_at)
        drop(stack, body)
        assert await receipt(stack, innlagt) == ("1", [])
        paused = await next_message(receiver, person_id, "order.paused")
        assert paused["order_id"] == order["order_id"]
        utskrevet, body = hospital_message(UTSKREVET, number, await now(integration))
        drop(stack, body)
        assert await receipt(stack, utskrevet) == ("1", [])
        resumed = await next_message(receiver, person_id, "order.resumed")
        assert resumed["order_id"] == order["order_id"]

        async def pathway_1() -> None:
            r = await officer.get("/pathway/v1/pathways", params={"person_id": person_id})
            assert r.status_code == 200, r.text
            opened = [p for p in r.json()["items"] if p["kind"] == 1 and p["status"] == "open"]
            assert len(opened) == 1, r.json()

        await eventually(pathway_1, seconds=30, every=0.3)

        # 3. Admitted again, and the hospital cancels that message: the order resumes, the
        # stay is kept, marked cancelled.
        again, body = hospital_message(INNLAGT, number, await now(integration) - timedelta(minutes=30))
        drop(stack, body)
        assert await receipt(stack, again) == ("1", [])
        await next_message(receiver, person_id, "order.paused", count=2)
        cancel, body = hospital_message(
            INNLAGT, number, await now(integration) - timedelta(minutes=30), shipment="K", refers_to=again
        )
        drop(stack, body)
        assert await receipt(stack, cancel) == ("1", [])
        resumed = await next_message(receiver, person_id, "order.resumed", count=2)
        assert resumed["order_id"] == order["order_id"]
        r = await officer.get(f"/assessment/v1/persons/{person_id}/admissions")
        assert r.status_code == 200, r.text
        stays = r.json()
        assert len(stays) == 2
        assert stays[0]["cancelled_at"] is not None
        assert stays[1]["cancelled_at"] is None
        assert stays[1]["discharged_at"] is not None

        # The hospital cancels its discharge message: the first stay is open again, the
        # order pauses again.
        _, body = hospital_message(
            UTSKREVET, number, await now(integration), shipment="K", refers_to=utskrevet
        )
        drop(stack, body)
        await next_message(receiver, person_id, "order.paused", count=3)
        r = await officer.get(f"/assessment/v1/persons/{person_id}/admissions")
        assert r.json()[1]["discharged_at"] is None

        async def on_the_timeline() -> None:
            r = await officer.get(f"/pathway/v1/persons/{person_id}/timeline")
            assert r.status_code == 200, r.text
            kinds = {e["kind"] for e in r.json()["entries"]}
            assert {"admission-cancelled", "admission-reopened"} <= kinds

        await eventually(on_the_timeline, seconds=30, every=0.3)

        # 4. A message not well-formed after its head, and one failing its schema.
        broken, body = hospital_message(INNLAGT, number, await now(integration))
        drop(stack, body.replace(b"</Anslag>", b"</Ansl>", 1))
        invalid, body = hospital_message(INNLAGT, number, await now(integration))
        drop(stack, body.replace(b"<Anslag>false</Anslag>", b"<Anslag>kanskje</Anslag>"))
        assert await receipt(stack, broken) == ("2", ["T01"])
        assert await receipt(stack, invalid) == ("2", ["T02"])
        r = await officer.get(f"/assessment/v1/persons/{person_id}/admissions")
        assert len(r.json()) == 2  # neither admitted anyone
        # Bytes that are not XML at all name no one to answer: a task, not a receipt.
        drop(stack, b"\x00\x01 not a message")

        async def unanswerable() -> None:
            r = await integration.get("/assessment/v1/plo/tasks")
            assert r.status_code == 200, r.text
            kinds = [t["kind"] for t in r.json()]
            assert kinds.count("message-unanswerable") == 1, kinds

        await eventually(unanswerable, seconds=30, every=0.3)
