"""Reading PLO *Helseopplysninger ved søknad* messages: pure unit tests, no database.

The test message (tests/data) is the national HELSEOPPL_SOKNAD example with a synthetic
Tenor fødselsnummer, a constructed organisation number and requested services added.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from hjemflyt.assessment.referrals import plo
from hjemflyt.shared.identity import IdentityKind, synthetic_identity_numbers
from hjemflyt.shared.platform.errors import RuleViolation

MESSAGE = (Path(__file__).parent / "data" / "plo_helseopplysninger_soknad.xml").read_text(encoding="utf-8")
NUMBER = "12857940081"  # Tenor synthetic (12 May 1979, month + 80), as in the test message
PERSONAL = (NUMBER, "Telokk", "Lungegaardsbakken", "40000000")


def variant(*replacements: tuple[str, str]) -> bytes:
    text = MESSAGE
    for old, new in replacements:
        assert old in text, old
        text = text.replace(old, new)
    return text.encode()


def refused(body: bytes, slug: str) -> RuleViolation:
    with pytest.raises(RuleViolation) as caught:
        plo.parse(body)
    problem = caught.value
    assert problem.slug == slug, (problem.slug, problem.detail)
    shown = str(problem.body())
    for value in PERSONAL:
        assert value not in shown, value
    return problem


def test_the_test_message_is_read_into_a_referral():
    message = plo.parse(MESSAGE.encode())
    assert message.message_id == "37fc6c80-fd20-11e7-8f1a-0800200c9a66"
    assert message.message_type == "HELSEOPPL_SOKNAD"
    assert message.sender_name == "ST OLAVS HOSPITAL HF, Ortopedisk kirurgi"
    assert message.sender_her_id == "90998"  # the department: where replies go
    assert message.sender_organisation == "998877660"
    assert message.patient_identity == NUMBER
    assert message.patient_name == "Gry Telokk"
    assert message.patient_address == "Lungegaardsbakken 13, 5020 Bergen"
    assert message.patient_phone == "40000000"
    assert message.services == (
        plo.RequestedService("6", "Trygghetsalarm", None),
        plo.RequestedService("15", "Helsetjenester i hjemmet", "Sårstell og oppfølging av smertelindring"),
    )
    lines = message.summary.splitlines()
    assert lines[0] == "PLO-melding: Helseopplysninger - Varsel om innlagt pasient"
    assert "Pasient utskrivningsklar: 2018-01-15 (anslått)" in lines
    assert "Pasientens status: Innlagt etter fall i trapp. Uavklart status ift. ev. brudd." in lines
    assert "Ønsket tjeneste: Trygghetsalarm" in lines
    assert any(line.startswith("Kontaktperson: Magnar Koman (Lege)") for line in lines)
    # The summary is for the case officer; it never repeats the patient's identity.
    for value in PERSONAL:
        assert value not in message.summary
    # Nor does the object's text form, which could reach a log or a traceback.
    assert NUMBER not in repr(message)
    assert NUMBER not in str(message)


def test_iso_8859_1_messages_are_read():
    latin = MESSAGE.replace('encoding="UTF-8"', 'encoding="ISO-8859-1"').encode("iso-8859-1")
    message = plo.parse(latin)
    assert "Pasienten ønsker hjelp hjemme etter utskrivning." in message.summary
    assert message.patient_name == "Gry Telokk"


def test_a_change_is_taken_as_a_referral_that_says_so():
    message = plo.parse(
        variant(('<Forsendelsesstatus V="N" DN="Ny"/>', '<Forsendelsesstatus V="E" DN="Endring"/>'))
    )
    assert message.summary.splitlines()[1] == "Endring av en tidligere sendt melding."


def test_a_cancellation_is_refused():
    problem = refused(
        variant(('<Forsendelsesstatus V="N" DN="Ny"/>', '<Forsendelsesstatus V="K" DN="Kansellering"/>')),
        "plo-unsupported-shipment-status",
    )
    assert problem.extensions["shipment_status"] == "K"


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"   \n",
        b"<MsgHead",
        b"not xml at all",
        b'{"json": true}',
        MESSAGE.encode()[:-20],
        MESSAGE.replace("</MsgInfo>", "").encode(),
    ],
)
def test_malformed_xml_is_refused(body):
    refused(body, "plo-not-well-formed")


@pytest.mark.parametrize(
    "body",
    [
        # Billion laughs.
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]>'
        b"<MsgHead>&lol2;</MsgHead>",
        # An external entity reading a local file.
        b'<?xml version="1.0"?><!DOCTYPE m [<!ENTITY x SYSTEM "file:///etc/passwd">]><MsgHead>&x;</MsgHead>',
        # Any DTD at all.
        b'<?xml version="1.0"?><!DOCTYPE MsgHead SYSTEM "http://example.invalid/x.dtd"><MsgHead/>',
    ],
)
def test_dtds_and_entities_are_refused(body):
    refused(body, "plo-forbidden-xml")


def test_other_message_types_are_refused_before_the_schema():
    problem = refused(
        variant(('<Type V="HELSEOPPL_SOKNAD" DN="Helseopplysninger"/>', '<Type V="INNLEGGELSESRAPPORT"/>')),
        "plo-unsupported-type",
    )
    assert problem.extensions["message_type"] == "INNLEGGELSESRAPPORT"
    # A type that is not a code is not echoed.
    problem = refused(
        variant(('<Type V="HELSEOPPL_SOKNAD" DN="Helseopplysninger"/>', f'<Type V="{NUMBER} x"/>')),
        "plo-unsupported-type",
    )
    assert problem.extensions["message_type"] is None
    refused(
        b'<?xml version="1.0"?><AppRec xmlns="http://www.kith.no/xmlstds/apprec/2012-02-15"/>',
        "plo-unsupported-type",
    )
    refused(b"<MsgHead><MsgInfo/></MsgHead>", "plo-unsupported-type")  # no namespace: not MsgHead 1.2


def test_schema_errors_give_paths_not_values():
    body = variant(
        ("<GenDate>2018-01-10T10:32:43</GenDate>", "<GenDate>Telokk 12857940081</GenDate>"),
        ("<MIGversion>v1.2 2006-05-24</MIGversion>", "<MIGversion>v1.2 2006-05-24</MIGversion><Telokk/>"),
    )
    problem = refused(body, "plo-schema-invalid")
    errors = problem.extensions["errors"]
    assert 1 <= len(errors) <= plo.MAX_SCHEMA_ERRORS
    assert errors[0]["path"] == "/mh:MsgHead/mh:MsgInfo/mh:GenDate"
    assert all(set(e) == {"path", "kind"} for e in errors)


def test_schema_errors_are_capped():
    many = "".join(f"<Unknown{i}/>" for i in range(20))
    body = variant(("<InformasjonOmForsendelsen>", f"<InformasjonOmForsendelsen>{many}"))
    problem = refused(body, "plo-schema-invalid")
    assert len(problem.extensions["errors"]) <= plo.MAX_SCHEMA_ERRORS


def test_a_payload_of_another_schema_is_schema_invalid():
    body = variant(
        (
            "http://www.kith.no/xmlstds/po/HelseopplysningerVedSoknad/2012-04-01",
            "http://www.kith.no/xmlstds/po/Pasientlogistikk/2012-04-01",
        )
    )
    refused(body, "plo-schema-invalid")


def test_patient_identity_rules():
    refused(variant((f"<Id>{NUMBER}</Id>", "<Id>12857940082</Id>")), "invalid-identity-number")
    refused(variant(('<TypeId V="FNR"', '<TypeId V="UKJENT"')), "plo-patient-identity-missing")
    start, end = MESSAGE.index("<Patient>"), MESSAGE.index("</Patient>") + len("</Patient>")
    refused((MESSAGE[:start] + MESSAGE[end:]).encode(), "plo-patient-missing")
    # Synthetic D-numbers are identity numbers too (validators that refuse them are a known bug).
    d_number = next(
        synthetic_identity_numbers(1, seed=3, kinds=(IdentityKind.d_number,), born_from=date(1940, 1, 1))
    )
    body = variant((f"<Id>{NUMBER}</Id>", f"<Id>{d_number}</Id>"), ('<TypeId V="FNR"', '<TypeId V="DNR"'))
    assert plo.parse(body).patient_identity == d_number


def test_sender_rules():
    problem = refused(variant(("<Id>998877660</Id>", "<Id>998877661</Id>")), "invalid-organisation-number")
    assert problem.extensions["reason"] == "checksum"
    refused(variant(("<Id>90998</Id>", "<Id>ORTØYA-1</Id>")), "plo-invalid-her-id")


def test_the_schema_is_built_once():
    assert plo.schema() is plo.schema()
