"""Building the outgoing PLO messages: *Orientering om tjenestetilbud* (PLO v1.6) in
MsgHead 1.2, and AppRec 1.1 receipts; and validating them against the national schemas
shipped in `xsd/` (copies of ../shared/standards/xsd; nothing is fetched).

Pure and CPU-bound. Every message is validated before it is stored for sending: one that
does not validate is never sent (the caller raises a task instead).
"""

from __future__ import annotations

import functools
import itertools
import threading
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from xml.etree.ElementTree import Element, SubElement, register_namespace, tostring

import xmlschema

MSGHEAD = "http://www.kith.no/xmlstds/msghead/2006-05-24"
ORIENTERING = "http://www.kith.no/xmlstds/po/OrienteringOmTjenestetilbud/2012-04-01"
PO = "http://www.kith.no/xmlstds/po/poKomponent/2012-04-01"
FK1 = "http://www.kith.no/xmlstds/felleskomponent1"
APPREC = "http://www.kith.no/xmlstds/apprec/2012-02-15"
KITH = "http://www.kith.no/xmlstds"
XMLDSIG = "http://www.w3.org/2000/09/xmldsig#"

ORIENTERING_TJENESTETILBUD = "ORIENTERING_TJENESTETILBUD"
APPREC_TYPE = "APPREC"

# Kodeverk 9051 (identifier types of organisations), 8116 (of persons), 9151 (IPLOS services).
HER_S = "2.16.578.1.12.4.1.1.9051"
PERSON_ID_S = "2.16.578.1.12.4.1.1.8116"
IPLOS_S = "2.16.578.1.12.4.1.1.9151"
# Forsendelsesstatus: new, change of an earlier message, cancellation of one.
SHIPMENT = {"N": "Ny", "E": "Endring", "K": "Kansellering"}
# Kodeverk 8116 type of identity number per hjemflyt identity kind.
ID_TYPES = {
    "fnr": ("FNR", "Fødselsnummer"),
    "dnr": ("DNR", "D-nummer"),
    "hnr": ("HNR", "H-nummer"),
    "fhn": ("FHN", "Felles hjelpenummer"),
}
# AppRec status (kodeverk 8304) and the error codes (8221) hjemflyt uses.
APPREC_OK, APPREC_REJECTED = "1", "2"
APPREC_STATUS = {APPREC_OK: "OK", APPREC_REJECTED: "Avvist"}

SCHEMA_DIR = Path(__file__).parent / "xsd"
MAX_ERRORS = 5

for _prefix, _ns in (("mh", MSGHEAD), ("p3", ORIENTERING), ("po", PO), ("fk1", FK1), ("ar", APPREC)):
    register_namespace(_prefix, _ns)


@dataclass(frozen=True)
class Party:
    """An organisation by HER-id, optionally with a sub-unit (the communication party) and a
    health professional (the GP) inside it."""

    name: str
    her_id: str
    unit_name: str | None = None
    unit_her_id: str | None = None
    professional_name: str | None = None
    professional_her_id: str | None = None

    @property
    def most_specific_her_id(self) -> str:
        return self.professional_her_id or self.unit_her_id or self.her_id


@dataclass(frozen=True, repr=False)
class Patient:
    """Personal data: never log it."""

    name: str
    identity_number: str
    identity_kind: str
    address: str | None = None

    def __repr__(self) -> str:
        return "Patient(…)"


@dataclass(frozen=True)
class Service:
    iplos_code: str
    name: str
    hours_per_month: Decimal | None
    start_date: date | None
    end_date: date | None
    provider: str | None = None
    private: bool = False


@dataclass(frozen=True)
class Orientering:
    msg_id: str
    generated_at: datetime
    sender: Party
    receiver: Party
    patient: Patient
    services: list[Service]
    shipment: str = "N"  # N, E or K
    approved_on: date | None = None
    refers_to: str | None = None  # MsgId of the first message (E and K)
    conversation: str | None = None
    note: str | None = None
    extra: dict[str, str] = field(default_factory=dict)


def _q(ns: str, tag: str) -> str:
    return f"{{{ns}}}{tag}"


def _el(parent: Element, ns: str, tag: str, text: str | None = None, **attrs: str) -> Element:
    e = SubElement(parent, _q(ns, tag), attrs)
    if text is not None:
        e.text = text
    return e


def _ident(parent: Element, her_id: str, *, s: str = HER_S) -> None:
    ident = _el(parent, MSGHEAD, "Ident")
    _el(ident, MSGHEAD, "Id", her_id)
    _el(ident, MSGHEAD, "TypeId", V="HER", DN="HER-id", S=s)


def _split_name(name: str) -> tuple[str, str | None]:
    """(family, given): the last word is the family name."""
    parts = name.split()
    if len(parts) < 2:
        return name, None
    return parts[-1], " ".join(parts[:-1])


def _organisation(parent: Element, party: Party) -> None:
    org = _el(parent, MSGHEAD, "Organisation")
    _el(org, MSGHEAD, "OrganisationName", party.name)
    _ident(org, party.her_id)
    if party.unit_her_id:
        unit = _el(org, MSGHEAD, "Organisation")
        _el(unit, MSGHEAD, "OrganisationName", party.unit_name or party.name)
        _ident(unit, party.unit_her_id)
    if party.professional_her_id:
        hcp = _el(org, MSGHEAD, "HealthcareProfessional")
        family, given = _split_name(party.professional_name or "")
        _el(hcp, MSGHEAD, "FamilyName", family or "Ukjent")
        if given:
            _el(hcp, MSGHEAD, "GivenName", given)
        _ident(hcp, party.professional_her_id, s=PERSON_ID_S)


def _iso(moment: datetime) -> str:
    return moment.replace(tzinfo=None, microsecond=0).isoformat()


def _hours(value: Decimal) -> str:
    return format(value.quantize(Decimal("0.01")).normalize(), "f")


def orientering(message: Orientering) -> bytes:
    """The MsgHead with its Orientering om tjenestetilbud payload, as UTF-8 XML."""
    if message.shipment not in SHIPMENT:
        raise ValueError(f"unknown shipment status {message.shipment!r}")
    head = Element(_q(MSGHEAD, "MsgHead"))
    info = _el(head, MSGHEAD, "MsgInfo")
    _el(info, MSGHEAD, "Type", V=ORIENTERING_TJENESTETILBUD, DN="Orientering om tjenestetilbud")
    _el(info, MSGHEAD, "MIGversion", "v1.2 2006-05-24")
    _el(info, MSGHEAD, "GenDate", _iso(message.generated_at))
    _el(info, MSGHEAD, "MsgId", message.msg_id)
    if message.refers_to:
        ref = _el(info, MSGHEAD, "ConversationRef")
        _el(ref, MSGHEAD, "RefToParent", message.refers_to)
        _el(ref, MSGHEAD, "RefToConversation", message.conversation or message.refers_to)
    _organisation(_el(info, MSGHEAD, "Sender"), message.sender)
    _organisation(_el(info, MSGHEAD, "Receiver"), message.receiver)
    patient = _el(info, MSGHEAD, "Patient")
    family, given = _split_name(message.patient.name)
    _el(patient, MSGHEAD, "FamilyName", family)
    if given:
        _el(patient, MSGHEAD, "GivenName", given)
    code, label = ID_TYPES.get(message.patient.identity_kind, ("FNR", "Fødselsnummer"))
    ident = _el(patient, MSGHEAD, "Ident")
    _el(ident, MSGHEAD, "Id", message.patient.identity_number)
    _el(ident, MSGHEAD, "TypeId", V=code, DN=label, S=PERSON_ID_S)
    if message.patient.address:
        address = _el(patient, MSGHEAD, "Address")
        _el(address, MSGHEAD, "Type", V="H", DN="Bostedsadresse")
        _el(address, MSGHEAD, "StreetAdr", message.patient.address)

    document = _el(head, MSGHEAD, "Document")
    refdoc = _el(document, MSGHEAD, "RefDoc")
    _el(refdoc, MSGHEAD, "IssueDate", V=_iso(message.generated_at))
    _el(refdoc, MSGHEAD, "MsgType", V="XML", DN="XML-instans")
    content = _el(refdoc, MSGHEAD, "Content")
    payload = _el(content, ORIENTERING, "OrienteringOmTjenestetilbud")
    forsendelse = _el(payload, PO, "InformasjonOmForsendelsen")
    _el(forsendelse, PO, "Forsendelsesstatus", V=message.shipment, DN=SHIPMENT[message.shipment])
    for service in message.services:
        s = _el(payload, PO, "EksisterendeTjeneste")
        _el(s, PO, "IPLOStjenestetype", V=service.iplos_code, DN=service.name, S=IPLOS_S)
        _el(s, PO, "BetegnelseTjeneste", service.name)
        _el(s, PO, "PrivatTjeneste", "true" if service.private else "false")
        if service.provider:
            _el(s, PO, "TjenestenLevertAv", service.provider)
        if service.hours_per_month is not None:
            _el(s, PO, "AntallEnheter", _hours(service.hours_per_month))
            _el(s, PO, "Enhet", "timer per måned")
        if service.start_date:
            _el(s, PO, "Startdato", service.start_date.isoformat())
        if service.end_date:
            _el(s, PO, "Sluttdato", service.end_date.isoformat())
        if message.note:
            _el(s, PO, "Merknad", message.note)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + tostring(head, encoding="unicode").encode()


@dataclass(frozen=True)
class AppRec:
    id: str
    generated_at: datetime
    sender: Party  # who answers
    receiver: Party  # who sent the original message
    status: str  # APPREC_OK or APPREC_REJECTED
    original_type: str
    original_type_name: str
    original_issued_at: datetime
    original_msg_id: str
    errors: list[tuple[str, str]] = field(default_factory=list)  # (code, text), kodeverk 8221


def _apprec_party(parent: Element, party: Party) -> None:
    hcp = SubElement(parent, _q(APPREC, "HCP"))
    inst = SubElement(hcp, _q(APPREC, "Inst"))
    SubElement(inst, _q(APPREC, "Name")).text = party.name
    SubElement(inst, _q(APPREC, "Id")).text = party.her_id
    SubElement(inst, _q(APPREC, "TypeId"), V="HER", DN="HER-id")
    if party.unit_her_id:
        dept = SubElement(inst, _q(APPREC, "Dept"))
        SubElement(dept, _q(APPREC, "Name")).text = party.unit_name or party.name
        SubElement(dept, _q(APPREC, "Id")).text = party.unit_her_id
        SubElement(dept, _q(APPREC, "TypeId"), V="HER", DN="HER-id")


def apprec(receipt: AppRec) -> bytes:
    if receipt.status not in APPREC_STATUS:
        raise ValueError(f"unknown AppRec status {receipt.status!r}")
    root = Element(_q(APPREC, "AppRec"))
    SubElement(root, _q(APPREC, "MsgType"), V=APPREC_TYPE, DN="Applikasjonskvittering")
    SubElement(root, _q(APPREC, "MIGversion")).text = "v1.1 2012-02-15"
    SubElement(root, _q(APPREC, "SoftwareName")).text = "hjemflyt"
    SubElement(root, _q(APPREC, "GenDate")).text = _iso(receipt.generated_at)
    SubElement(root, _q(APPREC, "Id")).text = receipt.id
    _apprec_party(SubElement(root, _q(APPREC, "Sender")), receipt.sender)
    _apprec_party(SubElement(root, _q(APPREC, "Receiver")), receipt.receiver)
    SubElement(root, _q(APPREC, "Status"), V=receipt.status, DN=APPREC_STATUS[receipt.status])
    for code, text in receipt.errors:
        SubElement(root, _q(APPREC, "Error"), V=code, DN=text, S="2.16.578.1.12.4.1.1.8221")
    original = SubElement(root, _q(APPREC, "OriginalMsgId"))
    SubElement(original, _q(APPREC, "MsgType"), V=receipt.original_type, DN=receipt.original_type_name)
    SubElement(original, _q(APPREC, "IssueDate")).text = _iso(receipt.original_issued_at)
    SubElement(original, _q(APPREC, "Id")).text = receipt.original_msg_id
    body = tostring(root, encoding="unicode")
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + body.encode()


# --- validation ------------------------------------------------------------------------

_lock = threading.Lock()


@functools.cache
def _schemas() -> dict[str, xmlschema.XMLSchema]:
    locations = {XMLDSIG: str(SCHEMA_DIR / "xmldsig-core-schema.xsd"), KITH: str(SCHEMA_DIR / "kith.xsd")}
    return {
        MSGHEAD: xmlschema.XMLSchema(
            [str(SCHEMA_DIR / "MsgHead-v1_2.xsd"), str(SCHEMA_DIR / "OrienteringOmTjenestetilbud-v1.6.xsd")],
            locations=locations,
            allow="sandbox",
        ),
        APPREC: xmlschema.XMLSchema(
            str(SCHEMA_DIR / "AppRec-v1.1.xsd"), locations=locations, allow="sandbox"
        ),
    }


def schema_for(namespace: str) -> xmlschema.XMLSchema:
    with _lock:
        return _schemas()[namespace]


def validation_errors(xml: bytes) -> list[str]:
    """The first few schema errors (paths and reasons) of a message hjemflyt built; [] when
    valid. Our own output, so the reasons may be kept: they go to a task, never to a log."""
    import defusedxml.ElementTree as safe_et

    try:
        root = safe_et.fromstring(xml, forbid_dtd=True)
    except Exception as exc:
        return [f"not well-formed: {type(exc).__name__}"]
    namespace = root.tag[1:].split("}", 1)[0] if root.tag.startswith("{") else ""
    try:
        schema = schema_for(namespace)
    except KeyError:
        return [f"no schema for namespace {namespace!r}"]
    resource = xmlschema.XMLResource(root, allow="none")
    return [
        f"{e.path or '/'}: {e.reason or type(e).__name__}"
        for e in itertools.islice(schema.iter_errors(resource), MAX_ERRORS)
    ]
