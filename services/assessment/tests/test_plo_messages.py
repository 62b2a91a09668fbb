"""PLO messages out and receipts: the builders validate against the official schemas; a
decision sent produces an Orientering om tjenestetilbud addressed to the person's GP through
the directory transport; AppRecs are matched (ok / rejected with reason); a missing receipt,
a message that does not validate and a person without a GP raise tasks; an incoming
Helseopplysninger ved søknad is answered with an AppRec.
"""

from __future__ import annotations

import functools
import uuid
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import xmlschema
from defusedxml import ElementTree as safe_et
from sqlalchemy import select, update

from hjemflyt.assessment.main import create_app
from hjemflyt.assessment.messaging import builders, worker
from hjemflyt.assessment.messaging import service as messaging
from hjemflyt.assessment.messaging.models import PloMessage
from hjemflyt.shared.demo import decision_body
from hjemflyt.shared.identity import synthetic_identity_numbers
from hjemflyt.shared.platform.auth import Role
from hjemflyt.shared.testing import auth, running_service, suite_today

STANDARDS = Path("/work/shared/standards/xsd")
SHIPPED = Path(builders.__file__).parent / "xsd"
MH = {"mh": builders.MSGHEAD, "ar": builders.APPREC, "po": builders.PO}
GP = {
    "name": "August September",
    "her_id": "91100",
    "office_name": "Kattskinnet legesenter",
    "office_her_id": "91096",
}
PROVIDER = "320000009"
PLO_MESSAGE = Path(__file__).parent / "data" / "plo_helseopplysninger_soknad.xml"
PLO_NUMBER = "12857940081"  # Tenor synthetic, in the test message


@functools.cache
def official(kind: str) -> xmlschema.XMLSchema:
    """The official schemas (../shared/standards/xsd; the shipped copy where absent)."""
    folder = STANDARDS if STANDARDS.is_dir() else SHIPPED
    locations = {
        builders.XMLDSIG: str(folder / "xmldsig-core-schema.xsd"),
        builders.KITH: str(folder / "kith.xsd"),
    }
    if kind == "apprec":
        return xmlschema.XMLSchema(str(folder / "AppRec-v1.1.xsd"), locations=locations, allow="sandbox")
    return xmlschema.XMLSchema(
        [str(folder / "MsgHead-v1_2.xsd"), str(folder / "OrienteringOmTjenestetilbud-v1.6.xsd")],
        locations=locations,
        allow="sandbox",
    )


def valid(xml: bytes, kind: str = "msghead") -> None:
    official(kind).validate(xmlschema.XMLResource(safe_et.fromstring(xml), allow="none"))


# --- builders ----------------------------------------------------------------------------

SENDER = builders.Party("Hjemflyt kommune", "99387", "Tildelingskontoret", "5078")
RECEIVER = builders.Party(
    "Kattskinnet legesenter", "91096", professional_name="August September", professional_her_id="91100"
)
PATIENT = builders.Patient("Roland Gundersen", "15076500565", "fnr", "Flåklypa 31")
SERVICE = builders.Service(
    "15", "Helsetjenester i hjemmet", Decimal("20"), date(2026, 1, 5), date(2026, 6, 30)
)


@pytest.mark.parametrize("shipment", ["N", "E", "K"])
def test_orientering_validates_against_the_official_schema(shipment):
    xml = builders.orientering(
        builders.Orientering(
            msg_id="m-1",
            generated_at=datetime(2026, 1, 2, 10, 30),
            sender=SENDER,
            receiver=RECEIVER,
            patient=PATIENT,
            services=[
                SERVICE,
                builders.Service("1", "Praktisk bistand", None, None, None, provider="Hjelp AS"),
            ],
            shipment=shipment,
            refers_to=None if shipment == "N" else "m-0",
        )
    )
    valid(xml)
    assert builders.validation_errors(xml) == []
    root = safe_et.fromstring(xml)
    assert root.find("mh:MsgInfo/mh:Type", MH).get("V") == "ORIENTERING_TJENESTETILBUD"
    receiver = root.find("mh:MsgInfo/mh:Receiver/mh:Organisation", MH)
    assert receiver.findtext("mh:Ident/mh:Id", namespaces=MH) == "91096"
    assert receiver.findtext("mh:HealthcareProfessional/mh:Ident/mh:Id", namespaces=MH) == "91100"
    sender = root.find("mh:MsgInfo/mh:Sender/mh:Organisation", MH)
    assert sender.findtext("mh:Organisation/mh:Ident/mh:Id", namespaces=MH) == "5078"
    status = root.find(".//po:InformasjonOmForsendelsen/po:Forsendelsesstatus", MH)
    assert status.get("V") == shipment
    if shipment != "N":
        assert root.findtext("mh:MsgInfo/mh:ConversationRef/mh:RefToParent", namespaces=MH) == "m-0"


def test_an_orientering_without_services_does_not_validate():
    xml = builders.orientering(
        builders.Orientering(
            msg_id="m-2",
            generated_at=datetime(2026, 1, 2, 10, 30),
            sender=SENDER,
            receiver=RECEIVER,
            patient=PATIENT,
            services=[],
        )
    )
    errors = builders.validation_errors(xml)
    assert errors
    with pytest.raises(xmlschema.XMLSchemaValidationError):
        valid(xml)


@pytest.mark.parametrize("status", [builders.APPREC_OK, builders.APPREC_REJECTED])
def test_apprec_validates_against_the_official_schema(status):
    xml = builders.apprec(
        builders.AppRec(
            id="r-1",
            generated_at=datetime(2026, 1, 2, 11, 0),
            sender=SENDER,
            receiver=RECEIVER,
            status=status,
            original_type="HELSEOPPL_SOKNAD",
            original_type_name="Helseopplysninger ved søknad",
            original_issued_at=datetime(2026, 1, 2, 10, 0),
            original_msg_id="m-1",
            errors=[("E10", "Ugyldig meldingsformat")] if status == builders.APPREC_REJECTED else [],
        )
    )
    valid(xml, "apprec")
    assert builders.validation_errors(xml) == []


# --- the service -------------------------------------------------------------------------


@pytest.fixture
def plo_settings(settings, tmp_path):
    # No background worker (its first round could take a test's files): rounds by hand.
    return settings.model_copy(update={"plo_directory": tmp_path / "plo", "plo_worker_enabled": False})


@pytest.fixture
async def client(plo_settings, issuer):
    integration = auth(issuer, Role.integration)
    async with running_service(create_app, plo_settings) as client:
        assert (await client.post("/v1/config/presets/oslo", headers=integration)).status_code == 200
        yield client


def channel(client):
    return worker.transport(client.app.state.ctx)


async def round_(client) -> dict[str, int]:
    ctx = client.app.state.ctx
    return await worker.run_once(ctx, worker.transport(ctx))


async def sent_decision(client, issuer, *, gp: dict | None = GP, number_seed: int = 0) -> dict:
    integration = auth(issuer, Role.integration)
    number = next(iter(synthetic_identity_numbers(1, seed=number_seed)))
    person = {
        "identity_number": number,
        "name": "Ola Nordmann",
        "address": "Gata 2",
        "district": "gamle-oslo",
    }
    if gp is not None:
        person["gp"] = gp
    r = await client.post("/v1/persons", json=person, headers=integration)
    assert r.status_code == 201, r.text
    assert r.json()["gp"] == gp
    body = decision_body(
        r.json()["id"],
        [("home-nursing", "20", None)],
        start=suite_today() + timedelta(days=7),
        organisation_model="trust_model",
    )
    r = await client.post("/v1/decisions", json=body, headers=integration)
    assert r.status_code == 201, r.text
    decision = r.json()
    r = await client.post(
        f"/v1/decisions/{decision['id']}/send",
        headers={**integration, "If-Match": f'"{decision["version"]}"'},
    )
    assert r.status_code == 200, r.text
    return r.json() | {"number": number}


async def messages(client, issuer, **params) -> list[dict]:
    params.setdefault("direction", "out")
    r = await client.get("/v1/plo/messages", params=params, headers=auth(issuer, Role.integration))
    assert r.status_code == 200, r.text
    return r.json()


async def tasks(client, issuer) -> list[dict]:
    r = await client.get("/v1/plo/tasks", headers=auth(issuer, Role.integration))
    assert r.status_code == 200, r.text
    return r.json()


def apprec_from_gp(original: bytes, status: str, errors=()) -> bytes:
    root = safe_et.fromstring(original)
    return builders.apprec(
        builders.AppRec(
            id=str(uuid.uuid4()),
            generated_at=datetime(2026, 1, 2, 12, 0),
            sender=RECEIVER,
            receiver=SENDER,
            status=status,
            original_type="ORIENTERING_TJENESTETILBUD",
            original_type_name="Orientering om tjenestetilbud",
            original_issued_at=datetime(2026, 1, 2, 12, 0),
            original_msg_id=root.findtext("mh:MsgInfo/mh:MsgId", namespaces=MH),
            errors=list(errors),
        )
    )


async def test_the_person_record_keeps_the_gp_and_a_change_of_gp(client, issuer):
    integration = auth(issuer, Role.integration)
    number = next(iter(synthetic_identity_numbers(1, seed=7)))
    r = await client.post(
        "/v1/persons",
        json={
            "identity_number": number,
            "name": "Kari",
            "address": "Vei 1",
            "district": "gamle-oslo",
            "gp": GP,
        },
        headers=integration,
    )
    assert r.status_code == 201, r.text
    person = r.json()
    assert person["gp"] == GP
    other = GP | {"name": "Mai Juni", "her_id": "91101"}
    r = await client.patch(f"/v1/persons/{person['id']}", json={"gp": other}, headers=integration)
    assert r.status_code == 200, r.text
    assert (await client.get(f"/v1/persons/{person['id']}", headers=integration)).json()["gp"] == other
    r = await client.patch(
        f"/v1/persons/{person['id']}", json={"gp": GP | {"her_id": "x1"}}, headers=integration
    )
    assert r.status_code == 422


async def test_a_sent_decision_reaches_the_gp_as_a_valid_orientering_and_its_apprec_is_matched(
    client, issuer
):
    decision = await sent_decision(client, issuer)
    [message] = await messages(client, issuer, decision_id=decision["id"])
    assert message["status"] == "pending"
    assert message["shipment"] == "N"
    assert message["counterpart_her_id"] == GP["her_id"]

    assert (await round_(client))["sent"] == 1
    files = sorted(channel(client).outbox.glob("*.xml"))
    assert [f.name for f in files] == [f"{message['msg_id']}.xml"]
    xml = files[0].read_bytes()
    valid(xml)
    root = safe_et.fromstring(xml)
    organisation = root.find("mh:MsgInfo/mh:Receiver/mh:Organisation", MH)
    assert organisation.findtext("mh:Ident/mh:Id", namespaces=MH) == GP["office_her_id"]
    assert organisation.findtext("mh:HealthcareProfessional/mh:Ident/mh:Id", namespaces=MH) == GP["her_id"]
    assert root.findtext("mh:MsgInfo/mh:Patient/mh:Ident/mh:Id", namespaces=MH) == decision["number"]
    service = root.find(".//po:EksisterendeTjeneste", MH)
    assert service.find("po:IPLOStjenestetype", MH).get("V") == "15"
    assert service.findtext("po:AntallEnheter", namespaces=MH) == "20"
    [message] = await messages(client, issuer, decision_id=decision["id"])
    assert message["status"] == "sent"

    # Another round sends nothing again.
    assert (await round_(client))["sent"] == 0

    # The GP's AppRec arrives in the inbox: matched, the message is ok.
    (channel(client).inbox / "apprec-1.xml").write_bytes(apprec_from_gp(xml, builders.APPREC_OK))
    assert (await round_(client))["received"] == 1
    [message] = await messages(client, issuer, decision_id=decision["id"])
    assert message["status"] == "ok"
    assert message["receipt_at"] is not None
    assert not (channel(client).inbox / "apprec-1.xml").exists()
    # The same AppRec again has no second effect.
    (channel(client).inbox / "apprec-1b.xml").write_bytes(
        (channel(client).inbox / "done" / "apprec-1.xml").read_bytes()
    )
    await round_(client)
    [message] = await messages(client, issuer, decision_id=decision["id"])
    assert message["status"] == "ok"
    assert await tasks(client, issuer) == []


async def test_a_negative_apprec_is_shown_with_its_reason_and_raises_a_task(client, issuer):
    decision = await sent_decision(client, issuer)
    await round_(client)
    [file] = channel(client).outbox.glob("*.xml")
    receipt = apprec_from_gp(file.read_bytes(), builders.APPREC_REJECTED, [("E35", "Pasienten finnes ikke")])
    (channel(client).inbox / "apprec-2.xml").write_bytes(receipt)
    await round_(client)
    [message] = await messages(client, issuer, decision_id=decision["id"])
    assert message["status"] == "rejected"
    assert message["receipt_reason"] == "E35 Pasienten finnes ikke"
    [task] = await tasks(client, issuer)
    assert task["kind"] == "receipt-rejected"
    assert task["decision_id"] == decision["id"]
    assert "Pasienten finnes ikke" in task["detail"]


async def test_a_message_without_a_receipt_in_time_raises_one_task(client, issuer):
    decision = await sent_decision(client, issuer)
    await round_(client)
    assert await tasks(client, issuer) == []
    ctx = client.app.state.ctx
    async with ctx.sessionmaker() as s, s.begin():
        late = ctx.clock.now() - timedelta(hours=ctx.settings.plo_receipt_hours + 1)
        await s.execute(
            update(PloMessage).where(PloMessage.decision_id == uuid.UUID(decision["id"])).values(sent_at=late)
        )
    assert (await round_(client))["overdue"] == 1
    assert (await round_(client))["overdue"] == 0
    [task] = await tasks(client, issuer)
    assert task["kind"] == "receipt-missing"
    assert task["district"] == "gamle-oslo"


async def test_a_message_that_does_not_validate_is_never_sent_and_raises_a_task(client, issuer, monkeypatch):
    monkeypatch.setattr(messaging, "_services", lambda out: [])  # no service: fails the schema
    decision = await sent_decision(client, issuer)
    [message] = await messages(client, issuer, decision_id=decision["id"])
    assert message["status"] == "invalid"
    assert (await round_(client))["sent"] == 0
    assert list(channel(client).outbox.glob("*.xml")) == []
    [task] = await tasks(client, issuer)
    assert task["kind"] == "message-invalid"
    assert task["message_id"] == message["id"]
    assert "EksisterendeTjeneste" in task["detail"] or "OrienteringOmTjenestetilbud" in task["detail"]
    r = await client.post(f"/v1/plo/tasks/{task['id']}/resolve", headers=auth(issuer, Role.integration))
    assert r.status_code == 200
    assert r.json()["resolved_at"] is not None
    assert await tasks(client, issuer) == []


async def test_a_person_without_a_gp_gets_a_task_not_a_message(client, issuer):
    decision = await sent_decision(client, issuer, gp=None)
    assert await messages(client, issuer, decision_id=decision["id"]) == []
    [task] = await tasks(client, issuer)
    assert task["kind"] == "gp-missing"
    assert task["decision_id"] == decision["id"]
    integration = auth(issuer, Role.integration)
    again = f"/v1/plo/decisions/{decision['id']}/orientering"
    r = await client.post(again, headers=integration)
    assert r.status_code == 409, r.text
    assert r.json()["type"].endswith("/no-message")
    assert len(await tasks(client, issuer)) == 1  # asking again raises no second task
    # The GP is registered; the case officer sends the message.
    r = await client.patch(f"/v1/persons/{decision['person_id']}", json={"gp": GP}, headers=integration)
    assert r.status_code == 200, r.text
    r = await client.post(again, headers=integration)
    assert r.status_code == 200, r.text
    assert r.json()["shipment"] == "N"
    assert r.json()["counterpart_her_id"] == GP["her_id"]
    assert (await client.post(again, headers=integration)).json()["id"] == r.json()["id"]
    assert (await round_(client))["sent"] == 1
    assert await tasks(client, issuer) == []  # the gp-missing task is done


async def test_ending_a_sent_decision_early_cancels_the_orientering(client, issuer):
    decision = await sent_decision(client, issuer)
    integration = auth(issuer, Role.integration)
    r = await client.get(f"/v1/decisions/{decision['id']}", headers=integration)
    end = suite_today() + timedelta(days=10)
    r = await client.post(
        f"/v1/decisions/{decision['id']}/end",
        json={"end_date": str(end), "reason": "deceased"},
        headers={**integration, "If-Match": r.headers["etag"]},
    )
    assert r.status_code == 200, r.text
    found = await messages(client, issuer, decision_id=decision["id"])
    assert [m["shipment"] for m in found] == ["K", "N"]
    assert found[0]["refers_to"] == found[1]["msg_id"]
    await round_(client)
    for file in channel(client).outbox.glob("*.xml"):
        valid(file.read_bytes())


async def test_an_incoming_message_is_answered_with_an_apprec(client, issuer):
    integration = auth(issuer, Role.integration)
    r = await client.post(
        "/v1/persons",
        json={"identity_number": PLO_NUMBER, "name": "Pia", "address": "Vei 3", "district": "gamle-oslo"},
        headers=integration,
    )
    assert r.status_code == 201, r.text
    inbox = channel(client).inbox
    (inbox / "soknad.xml").write_bytes(PLO_MESSAGE.read_bytes())
    (inbox / "broken.xml").write_bytes(
        PLO_MESSAGE.read_bytes()
        .replace(b"37fc6c80-fd20-11e7-8f1a-0800200c9a66", b"other-1")
        .replace(b"<Patient>", b"<Patient><Unknown/>", 1)
    )
    (inbox / "garbage.xml").write_bytes(b"<not xml")
    stranger = next(iter(synthetic_identity_numbers(1, seed=11)))
    (inbox / "stranger.xml").write_bytes(
        PLO_MESSAGE.read_bytes()
        .replace(b"37fc6c80-fd20-11e7-8f1a-0800200c9a66", b"other-2")
        .replace(PLO_NUMBER.encode(), stranger.encode())
    )
    (inbox / "hostile.xml").write_bytes(
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]><x>&b;</x>'
    )
    await round_(client)
    receipts = {}
    for file in channel(client).outbox.glob("*.xml"):
        xml = file.read_bytes()
        valid(xml, "apprec")
        root = safe_et.fromstring(xml)
        receipts[root.findtext("ar:OriginalMsgId/ar:Id", namespaces=MH)] = root
    assert receipts["37fc6c80-fd20-11e7-8f1a-0800200c9a66"].find("ar:Status", MH).get("V") == "1"
    assert receipts["other-1"].find("ar:Status", MH).get("V") == "2"
    assert receipts["other-1"].find("ar:Error", MH).get("V") == "T02"  # fails its schema
    # A patient hjemflyt does not know (and no district to register them in): E35.
    assert receipts["other-2"].find("ar:Status", MH).get("V") == "2"
    assert receipts["other-2"].find("ar:Error", MH).get("V") == "E35"
    assert len(receipts) == 3  # the garbage and the hostile file name no sender: tasks instead
    r = await client.get(f"/v1/persons/{r.json()['id']}/referrals", headers=integration)
    assert r.status_code == 200, r.text
    assert len(r.json()) == 1
    kinds = sorted(t["kind"] for t in await tasks(client, issuer))
    # The unknown patient is a task too (E35 told the sender; the case office looks).
    assert kinds == ["message-unanswerable", "message-unanswerable", "person-unknown"]
    async with client.app.state.ctx.sessionmaker() as s:
        stored = (await s.scalars(select(PloMessage.msg_type).where(PloMessage.direction == "in"))).all()
    assert sorted(stored) == ["HELSEOPPL_SOKNAD"] * 3 + ["UNKNOWN"] * 2


async def test_amending_a_sent_decision_sends_an_endring_of_the_first_message(client, issuer):
    decision = await sent_decision(client, issuer)
    integration = auth(issuer, Role.integration)
    start = suite_today() + timedelta(days=7)
    services = decision_body(decision["person_id"], [("home-nursing", "25", None)], start=start)["services"]
    r = await client.patch(
        f"/v1/decisions/{decision['id']}",
        json={"services": services},
        headers={**integration, "If-Match": f'"{decision["version"]}"'},
    )
    assert r.status_code == 200, r.text
    found = await messages(client, issuer, decision_id=decision["id"])
    assert [m["shipment"] for m in found] == ["E", "N"]
    assert found[0]["refers_to"] == found[1]["msg_id"]
    assert (await round_(client))["sent"] == 2
    endring = (channel(client).outbox / f"{found[0]['msg_id']}.xml").read_bytes()
    valid(endring)
    root = safe_et.fromstring(endring)
    assert root.findtext(".//po:EksisterendeTjeneste/po:AntallEnheter", namespaces=MH) == "25"
    assert root.find(".//po:Forsendelsesstatus", MH).get("V") == "E"


def test_the_directory_transport_sends_a_message_once_per_msg_id(tmp_path):
    from hjemflyt.assessment.messaging.transport.directory import DirectoryTransport

    transport = DirectoryTransport(tmp_path)
    transport.send("m-1", b"<a/>")
    transport.send("m-1", b"<a/>")  # a retry after a crash before the state was saved
    transport.send("../evil", b"<b/>")  # a MsgId never leaves the outbox
    assert sorted(p.name for p in transport.outbox.iterdir()) == [".._evil.xml", "m-1.xml"]
    (transport.inbox / "x.xml").write_bytes(b"<x/>")
    (transport.inbox / ".half.xml.tmp").write_bytes(b"<x")
    [incoming] = transport.receive(10)
    assert incoming.body == b"<x/>"
    transport.done(incoming)
    transport.done(incoming)
    assert transport.receive(10) == []
    assert (transport.processed / "x.xml").exists()
