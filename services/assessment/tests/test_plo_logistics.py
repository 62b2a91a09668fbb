"""The hospital's logistics messages (PLO Pasientlogistikk) through the directory transport:
admitted, ready for discharge, its withdrawal, discharged and dead become stays and deaths;
changes and cancellations act on what the original created; duplicates have no second
effect; an unknown person, a change of a message never received, a message failing its
schema and hostile XML are answered as the standard says and leave a task where a person
must look."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from defusedxml import ElementTree as safe_et
from sqlalchemy import select

from hjemflyt.assessment.db import platform_tables
from hjemflyt.assessment.main import create_app
from hjemflyt.assessment.messaging import builders, worker
from hjemflyt.assessment.messaging import pasientlogistikk as plo
from hjemflyt.assessment.messaging.models import PloMessage
from hjemflyt.shared.contracts.events import (
    ADMISSION_CANCELLED,
    ADMISSION_REOPENED,
    PERSON_ADMITTED,
    PERSON_DISCHARGED,
)
from hjemflyt.shared.demo import decision_body
from hjemflyt.shared.identity import synthetic_identity_numbers
from hjemflyt.shared.platform.auth import Role
from hjemflyt.shared.platform.clock import OSLO
from hjemflyt.shared.platform.errors import RuleViolation
from hjemflyt.shared.testing import auth, fixed_clock, running_service, suite_today

# The standard's examples (../shared/standards/examples), copied: fictitious persons.
EXAMPLES = Path(__file__).parent / "data"
FILES = {
    plo.LOG_INNLAGT: "Pasientlogistikk_Innlagt_pasient_v1-6_Ny.xml",
    plo.LOG_UTSKRIVNINGSKLAR: "Pasientlogistikk_Utskrivningsklar_pasient_v1-6_Ny.xml",
    plo.LOG_AVMELDING: "Pasientlogistikk_Avmelding_av_utskrivningsklar_pasient_v1-6_Ny.xml",
    plo.LOG_UTSKREVET: "Pasientlogistikk_Melding_om_utskrevet_pasient_v1-6_Ny.xml",
    plo.LOG_DOD: "Pasientlogistikk_Orientering_om_dodsfall_v1-6_Ny.xml",
}
EXAMPLE_NUMBER = b"15076500565"
MH = {"mh": builders.MSGHEAD, "ar": builders.APPREC}
NOW = fixed_clock().now()
CONTACTS = [
    {"kind": "1", "name": "Innsender", "phone": "21 80 21 80", "email": "innsender@example.invalid"},
    {"kind": "2", "name": "IPLOS-kontakt", "phone": "21 80 21 81", "email": "iplos@example.invalid"},
]


def example(msg_type: str) -> bytes:
    return (EXAMPLES / FILES[msg_type]).read_bytes()


def _local(moment: datetime) -> bytes:
    return moment.astimezone(OSLO).strftime("%Y-%m-%dT%H:%M:%S").encode()


def log_message(
    msg_type: str,
    number: str,
    *,
    msg_id: str | None = None,
    shipment: str = "N",
    refers_to: str | None = None,
    admitted: datetime | None = None,
    event_day: datetime | None = None,
) -> tuple[str, bytes]:
    """The standard's example of `msg_type` for `number`, with times in the suite's week."""
    msg_id = msg_id or str(uuid.uuid4())
    admitted = admitted or NOW - timedelta(days=3)
    day = (event_day or NOW - timedelta(days=1)).astimezone(OSLO).date().isoformat().encode()
    body = example(msg_type)
    body = body.replace(EXAMPLE_NUMBER, number.encode())
    body = body.replace(b"2018-01-29T10:00:00", _local(admitted))
    for old in (b'V="2018-01-31"', b'V="2018-02-01"', b'V="2018-02-20"'):
        body = body.replace(old, b'V="' + day + b'"')
    start, end = body.index(b"<MsgId>") + len(b"<MsgId>"), body.index(b"</MsgId>")
    body = body[:start] + msg_id.encode() + body[end:]
    if shipment != "N":
        name = builders.SHIPMENT[shipment].encode()
        body = body.replace(
            b'<Forsendelsesstatus V="N" DN="Ny"/>',
            b'<Forsendelsesstatus V="%s" DN="%s"/>' % (shipment.encode(), name),
        )
    if refers_to is not None:
        ref = (
            b"</MsgId><ConversationRef><RefToParent>%s</RefToParent>"
            b"<RefToConversation>%s</RefToConversation></ConversationRef>"
        ) % (refers_to.encode(), refers_to.encode())
        body = body.replace(b"</MsgId>", ref, 1)
    return msg_id, body


# --- parsing (pure) -------------------------------------------------------------------------


@pytest.mark.parametrize("msg_type", sorted(FILES))
def test_each_example_validates_and_is_read(msg_type):
    number = next(iter(synthetic_identity_numbers(1, seed=3)))
    _, body = log_message(msg_type, number, shipment="E", refers_to="m-0")
    data = plo.parse(safe_et.fromstring(body), msg_type)
    assert data.main is not None
    assert data.shipment == "E"
    assert data.patient_identity == number
    assert number not in repr(data)


def test_a_time_without_a_zone_is_norways_and_a_date_is_a_day():
    moment = plo.when("2026-01-29T10:00:00")
    assert moment is not None
    assert moment.moment == datetime(2026, 1, 29, 10, tzinfo=OSLO)
    day = plo.when("2026-01-31", estimated=True)
    assert day is not None
    assert day.moment is None
    assert day.estimated
    assert day.start() == datetime(2026, 1, 31, tzinfo=OSLO)
    assert day.latest(datetime(2026, 1, 31, 12, tzinfo=OSLO)) == datetime(2026, 1, 31, 12, tzinfo=OSLO)
    assert plo.when("not a time") is None


def test_a_message_failing_its_schema_is_refused_with_paths_only():
    number = next(iter(synthetic_identity_numbers(1, seed=3)))
    _, body = log_message(plo.LOG_INNLAGT, number)
    broken = body.replace(b"<Anslag>false</Anslag>", b"<Anslag>perhaps</Anslag>")
    with pytest.raises(RuleViolation) as raised:
        plo.parse(safe_et.fromstring(broken), plo.LOG_INNLAGT)
    assert raised.value.slug == "plo-schema-invalid"
    assert "perhaps" not in str(raised.value.detail)


# --- through the transport --------------------------------------------------------------------


@pytest.fixture
def plo_settings(settings, tmp_path):
    return settings.model_copy(update={"plo_directory": tmp_path / "plo", "plo_worker_enabled": False})


@pytest.fixture
async def client(plo_settings, issuer):
    integration = auth(issuer, Role.integration)
    async with running_service(create_app, plo_settings) as client:
        assert (await client.post("/v1/config/presets/oslo", headers=integration)).status_code == 200
        yield client


def channel(client):
    return worker.transport(client.app.state.ctx)


async def deliver(client, *bodies: bytes) -> dict[str, tuple[str, list[str]]]:
    """Put the messages in the inbox, run the worker once; the receipts by original MsgId:
    (status, error codes)."""
    transport = channel(client)
    for body in bodies:
        (transport.inbox / f"{uuid.uuid4()}.xml").write_bytes(body)
    ctx = client.app.state.ctx
    await worker.run_once(ctx, transport)
    receipts = {}
    for file in transport.outbox.glob("*.xml"):
        root = safe_et.fromstring(file.read_bytes())
        if root.tag != f"{{{builders.APPREC}}}AppRec":
            continue
        assert builders.validation_errors(file.read_bytes()) == []
        receipts[root.findtext("ar:OriginalMsgId/ar:Id", namespaces=MH)] = (
            root.find("ar:Status", MH).get("V"),
            [e.get("V") for e in root.findall("ar:Error", MH)],
        )
    return receipts


async def person(client, issuer, seed: int) -> tuple[str, str]:
    number = next(iter(synthetic_identity_numbers(1, seed=seed)))
    r = await client.post(
        "/v1/persons",
        json={"identity_number": number, "name": "Roland", "address": "Vei 1", "district": "gamle-oslo"},
        headers=auth(issuer, Role.integration),
    )
    assert r.status_code == 201, r.text
    return r.json()["id"], number


async def stays(client, issuer, person_id: str) -> list[dict]:
    r = await client.get(f"/v1/persons/{person_id}/admissions", headers=auth(issuer, Role.integration))
    assert r.status_code == 200, r.text
    return r.json()


async def tasks(client, issuer) -> list[dict]:
    r = await client.get("/v1/plo/tasks", headers=auth(issuer, Role.integration))
    assert r.status_code == 200, r.text
    return r.json()


async def events(client, event_type) -> list[dict]:
    outbox = platform_tables.outbox
    async with client.app.state.ctx.sessionmaker() as s:
        rows = await s.scalars(
            select(outbox.c.envelope).where(outbox.c.type == event_type.name).order_by(outbox.c.seq)
        )
        return [json.loads(bytes(envelope)) for envelope in rows]


async def test_a_stay_from_admitted_to_discharged(client, issuer):
    person_id, number = await person(client, issuer, seed=21)
    admitted_at = NOW - timedelta(days=3)
    innlagt, body = log_message(plo.LOG_INNLAGT, number, admitted=admitted_at)
    assert (await deliver(client, body))[innlagt] == ("1", [])
    [stay] = await stays(client, issuer, person_id)
    assert datetime.fromisoformat(stay["admitted_at"]) == admitted_at.replace(microsecond=0)
    assert stay["institution_kind"] == "hospital"
    assert stay["discharged_at"] is None
    assert stay["cancelled_at"] is None
    [admitted] = await events(client, PERSON_ADMITTED)
    assert admitted["data"]["admission_id"] == stay["id"]
    assert number not in json.dumps(admitted)

    # Ready for discharge: on the stay, visible in its API; withdrawn: cleared.
    ready, body = log_message(plo.LOG_UTSKRIVNINGSKLAR, number, event_day=NOW)
    assert (await deliver(client, body))[ready] == ("1", [])
    [stay] = await stays(client, issuer, person_id)
    assert datetime.fromisoformat(stay["ready_for_discharge_at"]).astimezone(OSLO).date() == suite_today()
    assert stay["ready_for_discharge_estimated"] is True
    withdrawn, body = log_message(plo.LOG_AVMELDING, number, event_day=NOW)
    assert (await deliver(client, body))[withdrawn] == ("1", [])
    [stay] = await stays(client, issuer, person_id)
    assert stay["ready_for_discharge_at"] is None
    # ... and a cancellation of the withdrawal makes them ready again.
    undo, body = log_message(plo.LOG_AVMELDING, number, event_day=NOW, shipment="K", refers_to=withdrawn)
    assert (await deliver(client, body))[undo] == ("1", [])
    [stay] = await stays(client, issuer, person_id)
    assert stay["ready_for_discharge_at"] is not None

    # Discharged (a date only: today, so now).
    discharged, body = log_message(plo.LOG_UTSKREVET, number, event_day=NOW)
    before = client.app.state.clock.now()
    assert (await deliver(client, body))[discharged] == ("1", [])
    after = client.app.state.clock.now()
    [stay] = await stays(client, issuer, person_id)
    # A date only, today: the moment it arrived, on the service's clock (which runs on from
    # the suite's pinned start, so not NOW in a long run).
    assert before <= datetime.fromisoformat(stay["discharged_at"]) <= after
    [out] = await events(client, PERSON_DISCHARGED)
    assert out["data"]["admission_id"] == stay["id"]
    async with client.app.state.ctx.sessionmaker() as s:
        effects = dict(
            (
                await s.execute(
                    select(PloMessage.msg_id, PloMessage.effect).where(PloMessage.direction == "in")
                )
            ).all()
        )
    assert effects[innlagt] == effects[discharged] == f"admission:{stay['id']}"
    assert await tasks(client, issuer) == []


async def test_duplicates_have_no_second_effect(client, issuer):
    person_id, number = await person(client, issuer, seed=22)
    _innlagt, body = log_message(plo.LOG_INNLAGT, number)
    await deliver(client, body)
    await deliver(client, body)  # the same MsgId again: answered once, no second stay
    # Another admission message while the person is in hospital: OK, still one stay.
    other, again = log_message(plo.LOG_INNLAGT, number)
    assert (await deliver(client, again))[other] == ("1", [])
    assert len(await stays(client, issuer, person_id)) == 1
    assert len(await events(client, PERSON_ADMITTED)) == 1
    # A second discharge message: the stay is closed already; one discharge.
    first, body = log_message(plo.LOG_UTSKREVET, number, event_day=NOW)
    second, body2 = log_message(plo.LOG_UTSKREVET, number, event_day=NOW)
    receipts = await deliver(client, body, body2)
    assert receipts[first][0] == receipts[second][0] == "1"
    assert len(await events(client, PERSON_DISCHARGED)) == 1
    assert [t["kind"] for t in await tasks(client, issuer)] == ["discharged-without-admission"]
    # A cancellation of the second admission message (which created nothing) undoes nothing.
    _, cancel = log_message(plo.LOG_INNLAGT, number, shipment="K", refers_to=other)
    await deliver(client, cancel)
    assert await events(client, ADMISSION_CANCELLED) == []


async def test_a_cancelled_admission_is_kept_marked_and_published(client, issuer):
    person_id, number = await person(client, issuer, seed=23)
    innlagt, body = log_message(plo.LOG_INNLAGT, number)
    await deliver(client, body)
    # A correction of the admission time first.
    corrected = NOW - timedelta(days=2)
    _, change = log_message(plo.LOG_INNLAGT, number, shipment="E", refers_to=innlagt, admitted=corrected)
    await deliver(client, change)
    [stay] = await stays(client, issuer, person_id)
    assert datetime.fromisoformat(stay["admitted_at"]) == corrected.replace(microsecond=0)
    cancel_id, cancel = log_message(plo.LOG_INNLAGT, number, shipment="K", refers_to=innlagt)
    assert (await deliver(client, cancel))[cancel_id] == ("1", [])
    [stay] = await stays(client, issuer, person_id)
    assert stay["cancelled_at"] is not None
    assert stay["discharged_at"] is None
    [cancelled] = await events(client, ADMISSION_CANCELLED)
    assert cancelled["data"]["admission_id"] == stay["id"]
    async with client.app.state.ctx.sessionmaker() as s:
        original = await s.scalar(select(PloMessage).where(PloMessage.msg_id == innlagt))
    assert original.status == "cancelled"
    # The cancelled stay does not block the next one.
    _, body = log_message(plo.LOG_INNLAGT, number)
    await deliver(client, body)
    assert len(await stays(client, issuer, person_id)) == 2


async def test_a_cancelled_discharge_reopens_the_stay(client, issuer):
    person_id, number = await person(client, issuer, seed=28)
    _, body = log_message(plo.LOG_INNLAGT, number)
    await deliver(client, body)
    discharged, body = log_message(plo.LOG_UTSKREVET, number, event_day=NOW)
    await deliver(client, body)
    # A correction of the discharge: the day before (a date only: its last moment).
    _, change = log_message(
        plo.LOG_UTSKREVET, number, shipment="E", refers_to=discharged, event_day=NOW - timedelta(days=1)
    )
    await deliver(client, change)
    [stay] = await stays(client, issuer, person_id)
    assert datetime.fromisoformat(stay["discharged_at"]).astimezone(OSLO).date() == suite_today() - timedelta(
        days=1
    )
    assert len(await events(client, PERSON_DISCHARGED)) == 2  # published again, corrected
    cancel_id, cancel = log_message(plo.LOG_UTSKREVET, number, shipment="K", refers_to=discharged)
    assert (await deliver(client, cancel))[cancel_id] == ("1", [])
    [stay] = await stays(client, issuer, person_id)
    assert stay["discharged_at"] is None
    [reopened] = await events(client, ADMISSION_REOPENED)
    assert reopened["data"]["admission_id"] == stay["id"]
    assert [t["kind"] for t in await tasks(client, issuer)] == ["discharge-cancelled"]


async def test_a_change_of_a_message_never_received_is_e10_with_a_task(client, issuer):
    _, number = await person(client, issuer, seed=24)
    cancel_id, cancel = log_message(plo.LOG_INNLAGT, number, shipment="K", refers_to="never-sent")
    assert (await deliver(client, cancel))[cancel_id] == ("2", ["E10"])
    assert [t["kind"] for t in await tasks(client, issuer)] == ["message-refers-to-unknown"]


async def test_an_unknown_person_is_answered_ok_and_becomes_a_task(client, issuer):
    number = next(iter(synthetic_identity_numbers(1, seed=25)))
    msg_id, body = log_message(plo.LOG_INNLAGT, number)
    assert (await deliver(client, body))[msg_id] == ("1", [])
    [task] = await tasks(client, issuer)
    assert task["kind"] == "person-unknown"
    assert task["person_id"] is None
    assert number not in task["detail"]
    assert await events(client, PERSON_ADMITTED) == []


async def test_bad_messages_get_negative_receipts_and_change_nothing(client, issuer):
    person_id, number = await person(client, issuer, seed=26)
    invalid_id, body = log_message(plo.LOG_INNLAGT, number)
    invalid = body.replace(b"<Anslag>false</Anslag>", b"<Anslag>perhaps</Anslag>")
    hostile_id, body = log_message(plo.LOG_INNLAGT, number)
    hostile = body.replace(
        b"<MsgHead ", b'<!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;&a;">]><MsgHead ', 1
    ).replace(b"<BeskrivelseAvHendelse>", b"<BeskrivelseAvHendelse>&b;", 1)
    external_id, body = log_message(plo.LOG_INNLAGT, number)
    external = body.replace(
        b"<MsgHead ", b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><MsgHead ', 1
    ).replace(b"<BeskrivelseAvHendelse>", b"<BeskrivelseAvHendelse>&e;", 1)
    broken_id, body = log_message(plo.LOG_INNLAGT, number)
    broken = body.replace(b"</Anslag>", b"</Ansl>", 1)  # not well-formed after a readable head
    receipts = await deliver(client, invalid, hostile, external, broken)
    assert receipts[broken_id] == ("2", ["T01"])
    assert receipts[invalid_id] == ("2", ["T02"])
    assert receipts[hostile_id] == ("2", ["T01"])
    assert receipts[external_id] == ("2", ["T01"])
    assert await stays(client, issuer, person_id) == []
    assert await events(client, PERSON_ADMITTED) == []


async def test_a_death_ends_the_running_decisions_and_closes_the_stay(client, issuer):
    integration = auth(issuer, Role.integration)
    person_id, number = await person(client, issuer, seed=27)
    body = decision_body(
        person_id,
        [("home-nursing", "20", None)],
        start=suite_today() - timedelta(days=30),
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
    _, body = log_message(plo.LOG_INNLAGT, number)
    await deliver(client, body)
    died_id, body = log_message(plo.LOG_DOD, number, event_day=NOW - timedelta(days=1))
    assert (await deliver(client, body))[died_id] == ("1", [])
    r = await client.get(f"/v1/persons/{person_id}", headers=integration)
    assert r.json()["died_on"] == (suite_today() - timedelta(days=1)).isoformat()
    r = await client.get(f"/v1/decisions/{decision['id']}", headers=integration)
    assert r.json()["status"] == "ended"
    assert r.json()["end_reason"] == "deceased"
    assert r.json()["end_date"] == (suite_today() - timedelta(days=1)).isoformat()
    [stay] = await stays(client, issuer, person_id)
    assert stay["discharged_at"] is not None
    assert await events(client, PERSON_DISCHARGED) == []  # no resume, no pathway 1 for the dead
    kinds = [t["kind"] for t in await tasks(client, issuer)]
    assert sorted(kinds) == ["gp-missing", "person-died"]  # (the person has no GP to tell)
    # The IPLOS report carries the date of death.
    died_on = suite_today() - timedelta(days=1)
    r = await client.post(
        f"/v1/iplos/{died_on.year}/report",
        json={"contacts": CONTACTS, "serial": "1"},
        headers={**integration, "Hjemflyt-Purpose": "KPR delivery"},
    )
    assert r.status_code == 200, r.text
    content = safe_et.fromstring(r.json()["content_file"].encode())
    dates = [e.text for e in content.iter("{http://www.npr.no/xmlstds/iplos/2018}peDodDato")]
    assert dates == [died_on.strftime("%Y%m%d")]
