"""Reading the PLO message *Helseopplysninger ved søknad* (MsgHead 1.2, `MsgInfo/Type`
HELSEOPPL_SOKNAD, payload HelseopplysningerVedSoknad 1.6) into what a referral needs.

1. Parsed with defusedxml and no DTD at all: no entity expansion, no external references.
2. The message type is checked before the schema, so another PLO message is told so plainly.
3. Validated against the national schemas shipped in `xsd/` (loaded once per process;
   the xmldsig namespace points at the local copy; nothing is fetched, and location hints
   in the message are ignored).
4. Reduced to sender, patient, requested services and a readable summary.

Pure and CPU-bound (call it in a worker thread). Every refusal is a `RuleViolation` naming
the rule; no refusal carries a value from the message, and nothing here logs.
"""

from __future__ import annotations

import functools
import itertools
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import Element, ParseError

import defusedxml
import defusedxml.ElementTree as safe_et
import xmlschema

from hjemflyt.shared.identity import (
    InvalidIdentityNumber,
    InvalidOrganisationNumber,
    parse_identity_number,
    parse_organisation_number,
)
from hjemflyt.shared.platform.errors import RuleViolation

HELSEOPPL_SOKNAD = "HELSEOPPL_SOKNAD"

MSGHEAD = "http://www.kith.no/xmlstds/msghead/2006-05-24"
PAYLOAD = "http://www.kith.no/xmlstds/po/HelseopplysningerVedSoknad/2012-04-01"
XMLDSIG = "http://www.w3.org/2000/09/xmldsig#"
NS = {
    "mh": MSGHEAD,
    "p5": PAYLOAD,
    "po": "http://www.kith.no/xmlstds/po/poKomponent/2012-04-01",
    "fk1": "http://www.kith.no/xmlstds/felleskomponent1",
    "epj2": "http://www.kith.no/xmlstds/epj/epj2/2008-02-20",
}

SCHEMA_DIR = Path(__file__).parent / "xsd"
MAX_SCHEMA_ERRORS = 5
MAX_SUMMARY = 10_000
MAX_SENDER_NAME = 200

# Kodeverk 8116 (identifikatortype for personer): the kinds a patient is identified by.
PATIENT_ID_TYPES = ("FNR", "DNR", "HNR", "FHN")
# Kodeverk 9051: HER-id and organisation number (Enhetsregisteret).
HER, ENH = "HER", "ENH"
# Forsendelsesstatus: N new, E change of an earlier message (taken as a new referral that
# says so), K cancellation (not supported: a case officer must close the referral).
SHIPMENT_STATUSES = {"N": None, "E": "Endring av en tidligere sendt melding."}

_CODE = re.compile(r"^[A-Za-z0-9_]{1,50}$")
_HER_ID = re.compile(r"[0-9]{1,9}")


@dataclass(frozen=True)
class RequestedService:
    iplos_code: str | None
    name: str | None
    description: str | None


@dataclass(frozen=True, repr=False)
class PloMessage:
    """What the referral needs from the message. Holds personal data: never log it."""

    message_id: str
    message_type: str
    sender_name: str
    sender_her_id: str | None
    sender_organisation: str | None
    patient_identity: str  # validated, normalised
    patient_name: str | None
    patient_address: str | None
    patient_phone: str | None
    summary: str
    services: tuple[RequestedService, ...]

    def __repr__(self) -> str:
        return f"PloMessage(message_type={self.message_type}, ***)"

    __str__ = __repr__


def refuse(slug: str, detail: str, **extensions: Any) -> RuleViolation:
    return RuleViolation(detail, slug=slug, **extensions)


# --- schema ----------------------------------------------------------------------------

_schema_lock = threading.Lock()


@functools.cache
def _load_schema() -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(
        [str(SCHEMA_DIR / "MsgHead-v1_2.xsd"), str(SCHEMA_DIR / "Helseopplysninger-v1.6.xsd")],
        locations={XMLDSIG: str(SCHEMA_DIR / "xmldsig-core-schema.xsd")},
        allow="sandbox",  # only files under xsd/: never the network, never elsewhere on disk
    )


def schema() -> xmlschema.XMLSchema:
    """MsgHead with the Helseopplysninger payload schema, built once per process."""
    with _schema_lock:
        return _load_schema()


def _error_kind(error: Exception) -> str:
    if isinstance(error, xmlschema.XMLSchemaChildrenValidationError):
        return "unexpected or missing element"
    if isinstance(error, xmlschema.XMLSchemaDecodeError):
        return "invalid value"
    return "invalid"


_PREFIXES = {uri: prefix for prefix, uri in NS.items()}
_QNAME = re.compile(r"\{([^}]*)\}")


def _short_path(path: str | None) -> str:
    """/mh:MsgHead/mh:MsgInfo/... rather than the namespace URIs in full."""
    if not path:
        return "/"
    short = _QNAME.sub(lambda m: f"{_PREFIXES[m[1]]}:" if m[1] in _PREFIXES else m[0], path)
    return short[:300]


def _schema_errors(root: Element) -> list[dict[str, str]]:
    """The first few schema errors as paths and kinds only: the reasons xmlschema gives
    quote the offending values, and those may be personal data."""
    try:
        # The parsed tree, with no access to anything outside it.
        resource = xmlschema.XMLResource(root, allow="none")
        errors = list(itertools.islice(schema().iter_errors(resource), MAX_SCHEMA_ERRORS))
    except Exception:  # a validator failure must not leak the message through a traceback
        raise refuse("plo-schema-invalid", "The message could not be validated against the schema.") from None
    return [{"path": _short_path(e.path), "kind": _error_kind(e)} for e in errors]


# --- parsing ---------------------------------------------------------------------------


def _text(element: Element | None, path: str | None = None) -> str | None:
    if element is not None and path is not None:
        element = element.find(path, NS)
    if element is None:
        return None
    value = " ".join(" ".join(element.itertext()).split())
    return value or None


def _attr(element: Element | None, path: str, name: str = "V") -> str | None:
    found = element.find(path, NS) if element is not None else None
    value = found.get(name) if found is not None else None
    if value is None:
        return None
    return value.strip() or None


def _idents(element: Element, prefix: str) -> Iterator[tuple[str, str]]:
    """(type, id) of each Ident directly under `element`."""
    for ident in element.findall(f"{prefix}:Ident", NS):
        kind, value = _attr(ident, f"{prefix}:TypeId"), _text(ident, f"{prefix}:Id")
        if kind and value:
            yield kind, value


def _person_name(element: Element, prefix: str) -> str | None:
    parts = [_text(element, f"{prefix}:{part}") for part in ("GivenName", "MiddleName", "FamilyName")]
    return " ".join(p for p in parts if p) or None


def _sender(msg_info: Element) -> tuple[str, str | None, str | None]:
    """Name (organisation chain and professional), the most specific HER-id (where replies go)
    and the organisation number, if the message gives one."""
    names: list[str] = []
    her_id: str | None = None
    organisation: str | None = None
    node = msg_info.find("mh:Sender/mh:Organisation", NS)
    while node is not None:
        if name := _text(node, "mh:OrganisationName"):
            names.append(name)
        for kind, value in _idents(node, "mh"):
            if kind == HER:
                her_id = value
            elif kind == ENH:
                organisation = value
        professional = node.find("mh:HealthcareProfessional", NS)
        if professional is not None:
            if name := _person_name(professional, "mh"):
                names.append(name)
            her_id = next((v for k, v in _idents(professional, "mh") if k == HER), her_id)
        node = node.find("mh:Organisation", NS)
    if organisation is not None:
        try:
            organisation = parse_organisation_number(organisation)
        except InvalidOrganisationNumber as exc:
            raise refuse(
                "invalid-organisation-number",
                f"The sender's organisation number is not valid: {exc}.",
                reason=exc.reason,
            ) from None
    if her_id is not None and not _HER_ID.fullmatch(her_id):
        raise refuse("plo-invalid-her-id", "The sender's HER-id is not a number.")
    name = ", ".join(names)[:MAX_SENDER_NAME] or "Ukjent avsender"
    return name, her_id, organisation


def _patient(msg_info: Element) -> tuple[str, str | None, str | None, str | None]:
    patient = msg_info.find("mh:Patient", NS)
    if patient is None:
        raise refuse("plo-patient-missing", "The message names no patient (MsgInfo/Patient).")
    number = next((v for k, v in _idents(patient, "mh") if k in PATIENT_ID_TYPES), None)
    if number is None:
        raise refuse(
            "plo-patient-identity-missing",
            "The patient has no fødselsnummer, D-, H- or FH-number (MsgInfo/Patient/Ident).",
        )
    try:
        parsed = parse_identity_number(number)
    except InvalidIdentityNumber as exc:
        raise refuse(
            "invalid-identity-number",
            f"The patient's identity number is not valid: {exc}",
            reason=exc.reason,
        ) from None
    addresses = patient.findall("mh:Address", NS)
    address = None
    if addresses:
        home = next((a for a in addresses if _attr(a, "mh:Type") in ("H", "HP")), addresses[0])
        street = _text(home, "mh:StreetAdr") or _text(home, "mh:Postbox")
        place = " ".join(p for p in (_text(home, "mh:PostalCode"), _text(home, "mh:City")) if p)
        address = ", ".join(p for p in (street, place) if p) or None
    phone = None
    for telecom in patient.findall("mh:TeleCom", NS):
        value = _attr(telecom, "mh:TeleAddress")
        if value and value.lower().startswith("tel:"):
            phone = value[4:].strip() or None
            break
    return parsed.value, _person_name(patient, "mh"), address, phone


def _dn(element: Element | None, path: str) -> str | None:
    return _attr(element, path, "DN") or _attr(element, path, "V")


def _summary(msg_info: Element, payload: Element, shipment_note: str | None) -> str:
    lines: list[str] = []
    title = _dn(msg_info, "mh:Type") or "Helseopplysninger"
    content = _dn(payload, "po:TypeInnholdIMelding/po:TypeInnhold")
    lines.append(f"PLO-melding: {title}" + (f" - {content}" if content else ""))
    if shipment_note:
        lines.append(shipment_note)
    if note := _text(payload, "po:TypeInnholdIMelding/po:Merknad"):
        lines.append(note)
    for event in payload.findall("po:OpplysningOpphold/po:TidsfestetHendelse", NS):
        what = _dn(event, "po:Hendelsekode") or _text(event, "po:BeskrivelseAvHendelse") or "Hendelse"
        when = _attr(event, "po:TidspunktForHendelse") or ""
        estimated = " (anslått)" if _text(event, "po:Anslag") == "true" else ""
        lines.append(f"{what}: {when}{estimated}".rstrip(": "))
    application = payload.find("po:OpplysningerTilSoknad", NS)
    if application is not None:
        if _text(application, "po:EgensoknadSendt") == "true":
            lines.append("Pasienten har sendt egen søknad.")
        if note := _text(application, "po:Merknad"):
            lines.append(note)
    for entry in payload.iterfind(
        "po:MedisinskfagligeOpplysninger/epj2:GenereltJournalnotat/epj2:Journaltekst", NS
    ):
        heading = _dn(entry, "epj2:Overskriftskode")
        if note := _text(entry, "epj2:Notat"):
            lines.append(f"{heading}: {note}" if heading else note)
    for need in payload.findall("po:TjenesteBehov", NS):
        name = _text(need, "po:BetegnelseTjeneste") or _dn(need, "po:IPLOStjenestetype") or "Tjeneste"
        details = [
            d
            for d in (
                _text(need, "po:BeskrivelseAvTjeneste"),
                " ".join(p for p in (_text(need, "po:AntallEnheterOnsket"), _text(need, "po:Enhet")) if p),
            )
            if d
        ]
        lines.append(f"Ønsket tjeneste: {name}" + (f" - {'; '.join(details)}" if details else ""))
    for contact in payload.findall("po:KontaktpersonHelsepersonell/po:Kontaktperson", NS):
        contact_name = _person_name(contact, "fk1")
        role = _dn(contact, "fk1:TypeHealthcareProfessional")
        phone = _attr(contact, "fk1:TeleCom/fk1:TeleAddress")
        parts = [p for p in (contact_name, f"({role})" if role else None, phone) if p]
        if parts:
            lines.append("Kontaktperson: " + " ".join(parts))
    return "\n".join(lines)[:MAX_SUMMARY]


def _services(payload: Element) -> tuple[RequestedService, ...]:
    return tuple(
        RequestedService(
            iplos_code=_attr(need, "po:IPLOStjenestetype"),
            name=_text(need, "po:BetegnelseTjeneste") or _dn(need, "po:IPLOStjenestetype"),
            description=_text(need, "po:BeskrivelseAvTjeneste"),
        )
        for need in payload.findall("po:TjenesteBehov", NS)
    )


def parse(body: bytes) -> PloMessage:
    """Parse, check and validate a *Helseopplysninger ved søknad* message."""
    if not body.strip():
        raise refuse("plo-not-well-formed", "The body is empty; send the PLO message as XML.")
    try:
        root = safe_et.fromstring(body, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except defusedxml.DefusedXmlException:
        raise refuse(
            "plo-forbidden-xml",
            "The message has a DTD, entities or external references; PLO messages have none.",
        ) from None
    except (ParseError, ValueError, LookupError) as exc:
        position = getattr(exc, "position", None)
        where = {"line": position[0], "column": position[1]} if isinstance(position, tuple) else {}
        raise refuse("plo-not-well-formed", "The body is not well-formed XML.", **where) from None

    if root.tag != f"{{{MSGHEAD}}}MsgHead":
        raise refuse("plo-unsupported-type", "The body is not a MsgHead message (MsgHead 1.2).")
    msg_type = _attr(root, "mh:MsgInfo/mh:Type")
    if msg_type != HELSEOPPL_SOKNAD:
        shown = msg_type if msg_type and _CODE.match(msg_type) else None
        raise refuse(
            "plo-unsupported-type",
            f"Only {HELSEOPPL_SOKNAD} (Helseopplysninger ved søknad) is received here.",
            message_type=shown,
        )

    errors = _schema_errors(root)
    if errors:
        raise refuse(
            "plo-schema-invalid",
            "The message does not match the PLO schema (MsgHead 1.2, Helseopplysninger 1.6); see `errors`.",
            errors=errors,
        )

    msg_info = root.find("mh:MsgInfo", NS)
    assert msg_info is not None  # the schema requires it
    message_id = _text(msg_info, "mh:MsgId")
    if not message_id or len(message_id) > 200:
        raise refuse("plo-message-id-missing", "The message has no usable MsgId (1 to 200 characters).")
    payload = root.find("mh:Document/mh:RefDoc/mh:Content/p5:HelseopplysningerVedSoknad", NS)
    if payload is None:
        raise refuse(
            "plo-payload-missing",
            "The message carries no HelseopplysningerVedSoknad document in Document/RefDoc/Content.",
        )
    status = _attr(payload, "po:InformasjonOmForsendelsen/po:Forsendelsesstatus")
    if status not in SHIPMENT_STATUSES:
        raise refuse(
            "plo-unsupported-shipment-status",
            "Only new messages and changes (Forsendelsesstatus N or E) are received here; "
            "a cancellation is handled by the case officer.",
            shipment_status=status if status and _CODE.match(status) else None,
        )

    sender_name, her_id, organisation = _sender(msg_info)
    number, name, address, phone = _patient(msg_info)
    return PloMessage(
        message_id=message_id,
        message_type=HELSEOPPL_SOKNAD,
        sender_name=sender_name,
        sender_her_id=her_id,
        sender_organisation=organisation,
        patient_identity=number,
        patient_name=name,
        patient_address=address,
        patient_phone=phone,
        summary=_summary(msg_info, payload, SHIPMENT_STATUSES[status]),
        services=_services(payload),
    )
