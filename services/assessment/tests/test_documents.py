"""Documents on a person from incoming PLO messages: each kind from the official example
(the patient replaced by a synthetic person made in the test) becomes a readable document;
an Endring replaces it, a Kansellering cancels it, the same MsgId twice keeps one; an
unknown patient is E35 and a task; a message failing its schema is T02. Reading: persons:read
in the caller's districts only (a provider 403, another district 404), access-logged with
the purpose given."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest
from defusedxml import ElementTree as safe_et
from sqlalchemy import select

from hjemflyt.assessment.db import platform_tables
from hjemflyt.assessment.documents import parsing
from hjemflyt.assessment.documents.models import PersonDocument
from hjemflyt.assessment.main import create_app
from hjemflyt.assessment.messaging import builders, worker
from hjemflyt.assessment.messaging.models import PloMessage
from hjemflyt.shared.identity import synthetic_identity_numbers
from hjemflyt.shared.platform.auth import Role
from hjemflyt.shared.platform.errors import RuleViolation
from hjemflyt.shared.testing import auth, running_service

EXAMPLES = Path("/work/shared/standards/examples")
NS = {"mh": builders.MSGHEAD, "ar": builders.APPREC}
KINDS = {
    "INNLEGGELSESRAPPORT": "Innleggelsesrapport_v1-6_Ny.xml",
    "UTSKRIVNINGSRAPPORT": "Utskrivningsrapport_v1-6_Ny.xml",
    "MEDISINSKE_OPPLYSNINGER": "Medisinske_opplysninger_v1-6_Ny.xml",
    "HELSEOPPLYSNINGER_LEGE": "Helseopplysninger_til_lege_v1-6_Ny.xml",
}
# What each example says in its main content (the text rendering must carry it).
CONTENT = {
    "INNLEGGELSESRAPPORT": "mistanke om hjerteinfarkt",
    "UTSKRIVNINGSRAPPORT": "Planer for videre oppfølging: Trenger tilsyn og hjelp",
    "MEDISINSKE_OPPLYSNINGER": "Aktuell problemstilling: Utlevering av medisinske opplysninger",
    "HELSEOPPLYSNINGER_LEGE": "føler seg svimmel",
}
pytestmark = pytest.mark.skipif(not EXAMPLES.is_dir(), reason="the official examples are not here")


def example(
    kind: str, number: str, *, msg_id: str | None = None, shipment: str = "N", refers_to: str | None = None
) -> bytes:
    """The official example for `kind`, about the person with `number` (a synthetic one)."""
    xml = (EXAMPLES / KINDS[kind]).read_text(encoding="utf-8")
    patient = re.search(r"<Patient>.*?<Id>(\d{11})</Id>", xml, re.S)
    assert patient is not None
    xml = xml.replace(patient.group(1), number)
    original_id = re.search(r"<MsgId>([^<]+)</MsgId>", xml)
    assert original_id is not None
    if msg_id is not None:
        xml = xml.replace(f"<MsgId>{original_id.group(1)}</MsgId>", f"<MsgId>{msg_id}</MsgId>")
    if shipment != "N":
        xml = re.sub(
            r'<Forsendelsesstatus V="N" DN="Ny"/>',
            f'<Forsendelsesstatus V="{shipment}" DN="{builders.SHIPMENT[shipment]}"/>',
            xml,
        )
        assert refers_to is not None
        xml = re.sub(
            r"(</MsgId>)",
            rf"\1<ConversationRef><RefToParent>{refers_to}</RefToParent>"
            rf"<RefToConversation>{refers_to}</RefToConversation></ConversationRef>",
            xml,
            count=1,
        )
    return xml.encode("utf-8")


def msg_id_of(xml: bytes) -> str:
    return safe_et.fromstring(xml).findtext("mh:MsgInfo/mh:MsgId", namespaces=NS)


@pytest.fixture
def plo_settings(settings, tmp_path):
    return settings.model_copy(update={"plo_directory": tmp_path / "plo", "plo_worker_enabled": False})


@pytest.fixture
async def client(plo_settings, issuer):
    async with running_service(create_app, plo_settings) as client:
        r = await client.post("/v1/config/presets/oslo", headers=auth(issuer, Role.integration))
        assert r.status_code == 200, r.text
        yield client


async def deliver(client, *messages: bytes) -> dict[str, tuple[str, str | None]]:
    """Drop the messages in the inbox, take one transport round; the AppRecs sent back:
    {original MsgId: (status, error code)}."""
    ctx = client.app.state.ctx
    channel = worker.transport(ctx)
    for file in channel.outbox.glob("*.xml"):
        file.unlink()
    for xml in messages:
        (channel.inbox / f"{uuid.uuid4()}.xml").write_bytes(xml)
    await worker.run_once(ctx, channel)
    receipts = {}
    for file in channel.outbox.glob("*.xml"):
        root = safe_et.fromstring(file.read_bytes())
        error = root.find("ar:Error", NS)
        receipts[root.findtext("ar:OriginalMsgId/ar:Id", namespaces=NS)] = (
            root.find("ar:Status", NS).get("V"),
            error.get("V") if error is not None else None,
        )
    return receipts


async def a_person(client, issuer, seed: int, district: str = "gamle-oslo") -> tuple[str, str]:
    number = next(iter(synthetic_identity_numbers(1, seed=seed)))
    body = {"identity_number": number, "name": "Line Danser", "address": "Vei 3", "district": district}
    r = await client.post("/v1/persons", json=body, headers=auth(issuer, Role.integration))
    assert r.status_code == 201, r.text
    return r.json()["id"], number


def officer(issuer, district: str = "gamle-oslo", subject: str = "officer-1") -> dict[str, str]:
    return auth(issuer, Role.case_officer, districts=[district], subject=subject)


async def documents_of(client, issuer, person_id: str, **params) -> list[dict]:
    r = await client.get(f"/v1/persons/{person_id}/documents", params=params, headers=officer(issuer))
    assert r.status_code == 200, r.text
    return r.json()


# --- parsing (pure) ----------------------------------------------------------------------


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_each_official_example_validates_and_reads_as_text(kind):
    number = next(iter(synthetic_identity_numbers(1, seed=3)))
    parsed = parsing.parse(safe_et.fromstring(example(kind, number)))
    assert parsed.kind.msg_type == kind
    assert parsed.patient_identity == number
    assert parsed.shipment == "N"
    assert parsed.sender_her_id
    assert parsed.sender_her_id.isdigit()
    assert parsed.issued_at is not None
    assert parsed.issued_at.tzinfo is not None
    text = "\n".join(line for s in parsed.sections for line in s.lines)
    assert CONTENT[kind] in text
    assert "<" not in text
    assert number not in text
    assert parsed.sections
    assert all(s.heading for s in parsed.sections)
    assert "***" in repr(parsed)


def test_a_payload_that_breaks_its_schema_is_refused_by_path_only():
    number = next(iter(synthetic_identity_numbers(1, seed=3)))
    xml = example("MEDISINSKE_OPPLYSNINGER", number).replace(
        b"<GodkjentDato>2018-01-30", b"<GodkjentDato>nope"
    )
    with pytest.raises(RuleViolation) as caught:
        parsing.parse(safe_et.fromstring(xml))
    assert caught.value.slug == "plo-schema-invalid"
    assert "nope" not in str(caught.value.__dict__)


def test_a_type_carrying_another_kinds_payload_is_refused():
    number = next(iter(synthetic_identity_numbers(1, seed=3)))
    xml = example("MEDISINSKE_OPPLYSNINGER", number).replace(
        b'<Type V="MEDISINSKE_OPPLYSNINGER"', b'<Type V="UTSKRIVNINGSRAPPORT"'
    )
    with pytest.raises(RuleViolation) as caught:
        parsing.parse(safe_et.fromstring(xml))
    assert caught.value.slug == "plo-schema-invalid"


# --- through the inbox -------------------------------------------------------------------


async def test_each_kind_becomes_a_document_on_the_person(client, issuer):
    person_id, number = await a_person(client, issuer, seed=21)
    messages = {kind: example(kind, number) for kind in KINDS}
    receipts = await deliver(client, *messages.values())
    assert {msg_id_of(xml): ("1", None) for xml in messages.values()} == receipts

    listed = await documents_of(client, issuer, person_id)
    assert sorted(d["kind"] for d in listed) == sorted(KINDS)
    assert [d["received_at"] for d in listed] == sorted((d["received_at"] for d in listed), reverse=True)
    assert all("text" not in d and "sections" not in d for d in listed)
    for item in listed:
        assert item["status"] == "current"
        assert item["version"] == 1
        assert item["msg_id"] == msg_id_of(messages[item["kind"]])
        assert item["sender"]["her_id"]
        assert item["sender"]["name"]
        assert item["issued_at"] is not None
        r = await client.get(f"/v1/documents/{item['id']}", headers=officer(issuer))
        assert r.status_code == 200, r.text
        document = r.json()
        assert CONTENT[item["kind"]] in document["text"]
        assert "<" not in document["text"]
        assert number not in document["text"]
        assert document["sections"][0]["heading"]
        assert [v["id"] for v in document["versions"]] == [item["id"]]
        # The original, as received: by query or by Accept.
        r = await client.get(f"/v1/documents/{item['id']}", params={"format": "xml"}, headers=officer(issuer))
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("application/xml")
        assert r.content == messages[item["kind"]]
        r = await client.get(
            f"/v1/documents/{item['id']}", headers={**officer(issuer), "Accept": "application/xml"}
        )
        assert r.content == messages[item["kind"]]

    # The original is kept encrypted: neither the identity number nor the text in clear.
    async with client.app.state.ctx.sessionmaker() as s:
        ciphers = (await s.scalars(select(PersonDocument.xml_cipher))).all()
    assert len(ciphers) == 4
    assert all(number.encode() not in c and b"MsgHead" not in c for c in ciphers)


async def test_an_endring_replaces_and_a_kansellering_cancels(client, issuer):
    person_id, number = await a_person(client, issuer, seed=22)
    first = example("UTSKRIVNINGSRAPPORT", number, msg_id="utskr-1")
    assert await deliver(client, first) == {"utskr-1": ("1", None)}
    [original] = await documents_of(client, issuer, person_id)

    change = example(
        "UTSKRIVNINGSRAPPORT", number, msg_id="utskr-2", shipment="E", refers_to="utskr-1"
    ).replace(b"Innlagt med uttalt erysipelas i venstre legg.", "Innlagt med erysipelas, nå bedre.".encode())
    assert await deliver(client, change) == {"utskr-2": ("1", None)}
    [current] = await documents_of(client, issuer, person_id)
    assert current["id"] != original["id"]
    assert (current["status"], current["version"], current["replaces_id"]) == ("current", 2, original["id"])
    assert current["chain_id"] == original["id"]
    assert current["msg_id"] == "utskr-2"
    both = await documents_of(client, issuer, person_id, versions="all")
    assert [(d["version"], d["status"]) for d in both] == [(2, "current"), (1, "replaced")]
    r = await client.get(f"/v1/documents/{current['id']}", headers=officer(issuer))
    assert "nå bedre" in r.json()["text"]
    assert [(v["version"], v["status"]) for v in r.json()["versions"]] == [(1, "replaced"), (2, "current")]

    # A cancellation of the first message cancels what its chain holds now.
    cancel = example("UTSKRIVNINGSRAPPORT", number, msg_id="utskr-3", shipment="K", refers_to="utskr-1")
    assert await deliver(client, cancel) == {"utskr-3": ("1", None)}
    [cancelled] = await documents_of(client, issuer, person_id)
    assert cancelled["id"] == current["id"]
    assert cancelled["status"] == "cancelled"
    assert cancelled["cancelled_at"] is not None
    # A change of a cancelled document is refused; a cancellation again changes nothing.
    late = example("UTSKRIVNINGSRAPPORT", number, msg_id="utskr-4", shipment="E", refers_to="utskr-2")
    again = example("UTSKRIVNINGSRAPPORT", number, msg_id="utskr-5", shipment="K", refers_to="utskr-1")
    assert await deliver(client, late, again) == {"utskr-4": ("2", "X99"), "utskr-5": ("1", None)}
    assert len(await documents_of(client, issuer, person_id, versions="all")) == 2
    async with client.app.state.ctx.sessionmaker() as s:
        states = dict(
            (
                await s.execute(
                    select(PloMessage.msg_id, PloMessage.status).where(PloMessage.direction == "in")
                )
            ).all()
        )
    assert states["utskr-1"] == "cancelled"  # changed by utskr-2, then cancelled by utskr-3


async def test_the_same_message_twice_keeps_one_document(client, issuer):
    person_id, number = await a_person(client, issuer, seed=23)
    xml = example("MEDISINSKE_OPPLYSNINGER", number, msg_id="med-1")
    assert await deliver(client, xml) == {"med-1": ("1", None)}
    assert await deliver(client, xml) == {}  # answered the first time; no second effect
    assert len(await documents_of(client, issuer, person_id, versions="all")) == 1


async def test_an_unknown_patient_is_e35_and_a_task_and_an_invalid_payload_t02(client, issuer):
    person_id, number = await a_person(client, issuer, seed=24)
    stranger = next(iter(synthetic_identity_numbers(1, seed=25)))
    unknown = example("INNLEGGELSESRAPPORT", stranger, msg_id="inn-unknown")
    invalid = example("INNLEGGELSESRAPPORT", number, msg_id="inn-invalid").replace(
        b"<GodkjentDato>", b"<Ukjent/><GodkjentDato>", 1
    )
    receipts = await deliver(client, unknown, invalid)
    assert receipts == {"inn-unknown": ("2", "E35"), "inn-invalid": ("2", "T02")}
    assert await documents_of(client, issuer, person_id) == []
    r = await client.get("/v1/plo/tasks", headers=auth(issuer, Role.integration))
    assert r.status_code == 200, r.text
    [task] = [t for t in r.json() if t["kind"] == "person-unknown"]
    assert "INNLEGGELSESRAPPORT" in task["detail"]
    assert stranger not in task["detail"]
    async with client.app.state.ctx.sessionmaker() as s:
        assert (await s.scalars(select(PersonDocument.id))).all() == []


async def test_only_the_case_office_of_the_persons_district_reads_documents_and_it_is_logged(client, issuer):
    person_id, number = await a_person(client, issuer, seed=26)
    await deliver(client, example("UTSKRIVNINGSRAPPORT", number, msg_id="utskr-x"))
    [document] = await documents_of(client, issuer, person_id)

    provider = auth(issuer, Role.provider, provider_org="320000009")
    for path in (f"/v1/persons/{person_id}/documents", f"/v1/documents/{document['id']}"):
        assert (await client.get(path, headers=provider)).status_code == 403
        elsewhere = officer(issuer, "frogner", subject="officer-frogner")
        r = await client.get(path, headers=elsewhere)
        assert r.status_code == 404, r.text
    r = await client.get(
        f"/v1/documents/{document['id']}", params={"format": "xml"}, headers=officer(issuer, "frogner")
    )
    assert r.status_code == 404

    lead = auth(issuer, Role.service_lead, districts=["gamle-oslo"], subject="lead-1")
    r = await client.get(
        f"/v1/documents/{document['id']}", headers={**lead, "Hjemflyt-Purpose": "care planning"}
    )
    assert r.status_code == 200, r.text
    await client.get(f"/v1/documents/{document['id']}", params={"format": "xml"}, headers=officer(issuer))

    log = platform_tables.access_log
    async with client.app.state.ctx.sessionmaker() as s:
        rows = (
            await s.execute(
                select(log.c.actor, log.c.resource, log.c.resource_id, log.c.purpose, log.c.person_id).where(
                    log.c.resource.like("person-document%")
                )
            )
        ).all()
    assert {(r.actor, r.resource, r.purpose) for r in rows} == {
        ("officer-1", "person-document-list", "case handling"),
        ("lead-1", "person-document", "care planning"),
        ("officer-1", "person-document-original", "case handling"),
    }
    assert {r.person_id for r in rows} == {uuid.UUID(person_id)}
    assert not [r for r in rows if r.actor == "officer-frogner"]  # 404s read nothing
