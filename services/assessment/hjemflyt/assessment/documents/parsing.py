"""Reading a PLO document message (Innleggelsesrapport, Utskrivningsrapport, Medisinske
opplysninger, Helseopplysninger til lege) into what a document on the person keeps.

The message arrives parsed already (defusedxml, no DTD, no entities: messaging/inbound.py).
Here it is validated against MsgHead 1.2 with its payload's schema (the copies in
messaging/xsd, loaded once per process, nothing fetched), checked to carry the payload its
type names, and reduced to sender, patient, issue time and readable sections.

Pure and CPU-bound. A refusal is a `RuleViolation` naming the rule and never quoting a
value from the message (schema errors give paths only); nothing here logs.
"""

from __future__ import annotations

import functools
import itertools
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from xml.etree.ElementTree import Element

import xmlschema

from hjemflyt.assessment.documents.rules import Kind, Section, kind_of, merged
from hjemflyt.assessment.messaging import builders
from hjemflyt.shared.identity import InvalidIdentityNumber, parse_identity_number
from hjemflyt.shared.platform.clock import OSLO
from hjemflyt.shared.platform.errors import RuleViolation

MH = builders.MSGHEAD
NS = {"mh": MH}
PATIENT_ID_TYPES = ("FNR", "DNR", "HNR", "FHN")  # kodeverk 8116
MAX_SCHEMA_ERRORS = 5
MAX_LINE = 4000
MAX_LINES = 2000
MAX_NAME = 300


@dataclass(frozen=True, repr=False)
class Parsed:
    """What a document keeps from one message. Holds personal data: never log it."""

    kind: Kind
    msg_id: str
    patient_identity: str  # validated, normalised
    sender_name: str
    sender_her_id: str | None
    issued_at: datetime | None
    shipment: str  # N | E | K
    sections: tuple[Section, ...]

    def __repr__(self) -> str:
        return f"Parsed(kind={self.kind.msg_type}, ***)"

    __str__ = __repr__


# --- schema ----------------------------------------------------------------------------

_lock = threading.Lock()


@functools.cache
def _load() -> xmlschema.XMLSchema:
    from hjemflyt.assessment.documents.rules import KINDS

    folder = builders.SCHEMA_DIR
    return xmlschema.XMLSchema(
        [str(folder / "MsgHead-v1_2.xsd"), *(str(folder / k.schema) for k in KINDS.values())],
        locations={
            builders.XMLDSIG: str(folder / "xmldsig-core-schema.xsd"),
            builders.KITH: str(folder / "kith.xsd"),
        },
        allow="sandbox",  # only files under xsd/: never the network
    )


def schema() -> xmlschema.XMLSchema:
    """MsgHead with every document payload schema, built once per process."""
    with _lock:
        return _load()


_QNAME = re.compile(r"\{[^}]*\}")


def schema_errors(root: Element) -> list[str]:
    """The first few errors as element paths only (xmlschema's reasons quote values)."""
    try:
        resource = xmlschema.XMLResource(root, allow="none")
        errors = list(itertools.islice(schema().iter_errors(resource), MAX_SCHEMA_ERRORS))
    except Exception:  # a validator failure must not leak the message through a traceback
        return ["/"]
    return [_QNAME.sub("", e.path or "/")[:300] for e in errors]


def _refuse(slug: str, detail: str, **extensions: Any) -> RuleViolation:
    return RuleViolation(detail, slug=slug, **extensions)


# --- reading ---------------------------------------------------------------------------


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _clean(text: str | None) -> str:
    """Whitespace collapsed within lines; line breaks kept, blank lines dropped."""
    if not text:
        return ""
    lines = (" ".join(line.split()) for line in text.splitlines())
    return "\n".join(line for line in lines if line)[:MAX_LINE]


def _child(element: Element, name: str) -> Element | None:
    return next((c for c in element if _local(c.tag) == name), None)


def _child_text(element: Element, name: str) -> str:
    found = _child(element, name)
    return _clean(found.text) if found is not None else ""


def _mh_text(element: Element | None, path: str) -> str | None:
    found = element.find(path, NS) if element is not None else None
    return _clean(found.text) or None if found is not None else None


def _sender(msg_info: Element) -> tuple[str, str | None]:
    """The organisation chain and professional by name; the most specific HER-id."""
    names: list[str] = []
    her_id: str | None = None
    node = msg_info.find("mh:Sender/mh:Organisation", NS)
    while node is not None:
        if name := _mh_text(node, "mh:OrganisationName"):
            names.append(name)
        her_id = _her(node) or her_id
        professional = node.find("mh:HealthcareProfessional", NS)
        if professional is not None:
            if name := _person(professional):
                names.append(name)
            her_id = _her(professional) or her_id
        node = node.find("mh:Organisation", NS)
    if her_id is not None and not (her_id.isdigit() and len(her_id) <= 9):
        her_id = None
    return (", ".join(names) or "Ukjent avsender")[:MAX_NAME], her_id


def _her(node: Element) -> str | None:
    for ident in node.findall("mh:Ident", NS):
        type_id = ident.find("mh:TypeId", NS)
        if type_id is not None and type_id.get("V") == "HER" and (value := _mh_text(ident, "mh:Id")):
            return value
    return None


def _patient_identity(msg_info: Element) -> str:
    patient = msg_info.find("mh:Patient", NS)
    number = None
    for ident in patient.findall("mh:Ident", NS) if patient is not None else []:
        type_id = ident.find("mh:TypeId", NS)
        if type_id is not None and type_id.get("V") in PATIENT_ID_TYPES:
            number = _mh_text(ident, "mh:Id")
            break
    if number is None:
        raise _refuse(
            "plo-patient-identity-missing",
            "The message names no patient by fødselsnummer, D-, H- or FH-number (MsgInfo/Patient/Ident).",
        )
    try:
        return parse_identity_number(number).value
    except InvalidIdentityNumber as exc:
        raise _refuse(
            "invalid-identity-number", f"The patient's identity number is not valid: {exc}", reason=exc.reason
        ) from None


def _moment(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return moment.replace(tzinfo=OSLO) if moment.tzinfo is None else moment


# --- rendering -------------------------------------------------------------------------

# Headings of the payload's top-level parts (poKomponent 1.6); others are split from
# their CamelCase names.
HEADINGS = {
    "TilleggsopplysningPasient": "Om pasienten",
    "ParorendeForesatt": "Pårørende",
    "TilknyttetEnhet": "Tilknyttet enhet",
    "AnsvarForRapport": "Ansvarlig for rapporten",
    "KontaktpersonHelsepersonell": "Kontaktperson",
    "TypeInnholdIMelding": "Innhold",
    "SendtDokument": "Vedlagte dokumenter",
    "OpplysningOpphold": "Oppholdet",
    "InfoMedisinskDiagnose": "Diagnoser",
    "MedisinskfagligeOpplysninger": "Medisinskfaglige opplysninger",
    "Legemiddelinfo": "Legemidler",
    "InfoAndreViktigeOpplysninger": "Andre viktige opplysninger",
    "EksisterendeTjeneste": "Eksisterende tjenester",
    "InfoKartleggingFunksjonsniva": "Funksjonsnivå",
    "Sykepleierdokumentasjon": "Sykepleiedokumentasjon",
    "OpplysningerAndreFaggrupper": "Opplysninger fra andre faggrupper",
    "OpplysningerOmHjelpemidler": "Hjelpemidler",
    "InfoAssistertKommunikasjon": "Assistert kommunikasjon",
    "InfoKontrolltime": "Kontrolltime",
    "InnholdKonsultasjon": "Konsultasjonen",
}
UNLABELLED = {"TidsfestetHendelse", "MedisinskDiagnose", "Kontaktenhet", "TidligereSykdomFragment"}
SKIPPED = {"InformasjonOmForsendelsen", "Ident", "TypeId"}  # shipment status; identifiers
_WORD = re.compile(r"(?<=[a-zæøå])(?=[A-ZÆØÅ])")


LABELS = {
    "OrganisationName": "Navn",
    "Address": "Adresse",
    "StreetAdr": "",
    "PostalCode": "",
    "City": "",
    "TeleCom": "Telefon",
    "TeleAddress": "",
    "InngaarIMultidose": "Multidose",
    "TypeInnholdIMelding": "Type innhold",
    "TilleggsopplysningPasient": "Tilleggsopplysninger",
}


def _label(name: str) -> str:
    if name in LABELS:
        return LABELS[name]
    words = _WORD.sub(" ", name).split(" ")
    return " ".join([words[0], *(w.lower() for w in words[1:])])


def _value(element: Element) -> str:
    """A leaf's value: its text, or a code's meaning (DN) with its value, or V with unit U."""
    text = _clean(element.text)
    if text:
        return {"true": "ja", "false": "nei"}.get(text, text)
    dn, v, unit = element.get("DN"), element.get("V"), element.get("U")
    if dn:
        return _clean(dn)
    if v:
        value = v.removeprefix("tel:")
        return f"{value} {unit}" if unit else value
    return ""


def _elements(element: Element) -> list[Element]:
    return [c for c in element if isinstance(c.tag, str) and _local(c.tag) not in SKIPPED]


def _person(element: Element) -> str:
    names = [_child_text(element, p) for p in ("GivenName", "MiddleName", "FamilyName")]
    return " ".join(n for n in names if n)


def _lines(element: Element) -> Iterator[str]:
    name = _local(element.tag)
    children = _elements(element)
    if name == "Journaltekst":
        yield from _journal_lines(element)
        return
    if name == "Forskrivningsinfo":
        yield _prescription(element)
        return
    if _child(element, "FamilyName") is not None or _child(element, "GivenName") is not None:
        rest = [
            _value(c)
            for c in children
            if _local(c.tag) not in ("GivenName", "MiddleName", "FamilyName") and not _elements(c)
        ]
        yield ", ".join(p for p in (_person(element), *rest) if p)
        for c in children:
            if _elements(c):
                yield from _lines(c)
        return
    if not children:
        if value := _value(element):
            label = _label(name)
            yield f"{label}: {value}" if label else value
        return
    if all(not _elements(c) for c in children):
        values = dict.fromkeys(v for c in children if (v := _labelled(c)))  # once each, in order
        if text := "; ".join(values):
            label = _label(name)
            yield text if name in UNLABELLED or not label else f"{label}: {text}"
        return
    for child in children:
        yield from _lines(child)


def _journal_lines(element: Element) -> Iterator[str]:
    """A journal note: its note under its heading, then any remark on its own."""
    heading = _child(element, "Overskriftskode")
    heading_text = _value(heading) if heading is not None else ""
    for part in ("Notat", "Merknad"):
        if text := _child_text(element, part):
            yield f"{heading_text}: {text}" if heading_text and part == "Notat" else text


def _prescription(element: Element) -> str:
    """A prescription on one line: the drug, strength and form, then dosage and period."""
    what = " ".join(
        v
        for v in (
            _child_text(element, "Navn"),
            _leaf(element, "Styrke"),
            _leaf(element, "Legemiddelform"),
        )
        if v
    )
    details = [v for v in (_child_text(element, "DosVeiledEnkel"), _leaf(element, "Bruk")) if v]
    start, end = _leaf(element, "DoseringStarttidspunkt"), _leaf(element, "DoseringSluttidspunkt")
    if start or end:
        details.append(f"fra {start or '?'}" + (f" til {end}" if end else ""))
    return (what or "Legemiddel") + (f": {'; '.join(details)}" if details else "")


def _labelled(element: Element) -> str:
    """A leaf among others: codes and prose speak for themselves; yes/no and numbers get a label."""
    value = _value(element)
    label = _label(_local(element.tag))
    if not value or not label or element.get("DN") or (len(value) > 30 and " " in value):
        return value
    return f"{label}: {value}"


def _leaf(element: Element, name: str) -> str:
    found = _child(element, name)
    return _value(found) if found is not None else ""


def sections(payload: Element) -> tuple[Section, ...]:
    parts: list[Section] = []
    count = 0
    for part in _elements(payload):
        name = _local(part.tag)
        lines = []
        for line in _lines(part):
            if count >= MAX_LINES:
                break
            lines.append(line)
            count += 1
        parts.append(Section(HEADINGS.get(name) or _label(name), tuple(lines)))
    return tuple(merged(parts))


# --- the whole message -----------------------------------------------------------------


def parse(root: Element) -> Parsed:
    """Validate and read a document message (parsed already, as inbound.py does)."""
    if root.tag != f"{{{MH}}}MsgHead":
        raise _refuse("plo-unsupported-type", "The body is not a MsgHead message (MsgHead 1.2).")
    msg_info = root.find("mh:MsgInfo", NS)
    type_el = msg_info.find("mh:Type", NS) if msg_info is not None else None
    kind = kind_of(type_el.get("V") or "") if type_el is not None else None
    if msg_info is None or kind is None:
        raise _refuse("plo-unsupported-type", "This message type is not kept as a document.")
    errors = schema_errors(root)
    if errors:
        raise _refuse(
            "plo-schema-invalid",
            f"The message does not match its schema (MsgHead 1.2, {kind.schema}).",
            errors=errors,
        )
    payload = root.find(f"mh:Document/mh:RefDoc/mh:Content/{{{kind.namespace}}}{kind.root}", NS)
    if payload is None:
        raise _refuse(
            "plo-schema-invalid",
            f"A {kind.msg_type} message must carry a {kind.root} document in Document/RefDoc/Content.",
        )
    msg_id = _mh_text(msg_info, "mh:MsgId")
    if not msg_id or len(msg_id) > 200:
        raise _refuse("plo-message-id-missing", "The message has no usable MsgId (1 to 200 characters).")
    shipment = "N"
    status = _child(payload, "InformasjonOmForsendelsen")
    status_el = _child(status, "Forsendelsesstatus") if status is not None else None
    if status_el is not None:
        shipment = (status_el.get("V") or "N").strip().upper()[:1] or "N"
    sender_name, sender_her_id = _sender(msg_info)
    issue = root.find("mh:Document/mh:RefDoc/mh:IssueDate", NS)
    issued = _moment(issue.get("V") if issue is not None else None) or _moment(
        _mh_text(msg_info, "mh:GenDate")
    )
    return Parsed(
        kind=kind,
        msg_id=msg_id,
        patient_identity=_patient_identity(msg_info),
        sender_name=sender_name,
        sender_her_id=sender_her_id,
        issued_at=issued,
        shipment=shipment if shipment in builders.SHIPMENT else "N",
        sections=sections(payload),
    )
