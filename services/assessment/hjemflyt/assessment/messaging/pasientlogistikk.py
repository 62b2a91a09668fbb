"""Reading the hospital's logistics messages (PLO v1.6 *Pasientlogistikk* in MsgHead 1.2):
admitted (LOG_INNLAGT), ready for discharge (LOG_UTSKRIVNINGSKLAR), ready for discharge
cancelled (LOG_AVMELDING), discharged (LOG_UTSKREVET) and dead (LOG_DOD).

Pure and CPU-bound: the parsed MsgHead in, a `Logistics` out, or a `RuleViolation`
(`plo-schema-invalid` → T02). Validated against the national schemas shipped in `xsd/`
(nothing fetched, location hints ignored). The events are read by their code (kodeverk
9121: 1 admitted, 2 discharged, 3 ready for discharge, 4 ready for discharge cancelled,
13 dead); a time without a zone is Norway's local time, a date alone is a day. Nothing here
logs; the patient's identity number is returned only to look the person up.
"""

from __future__ import annotations

import functools
import itertools
import threading
from dataclasses import dataclass
from datetime import date, datetime, time
from xml.etree.ElementTree import Element

import xmlschema

from hjemflyt.assessment.messaging import builders
from hjemflyt.shared.identity import InvalidIdentityNumber, parse_identity_number
from hjemflyt.shared.platform.clock import OSLO
from hjemflyt.shared.platform.errors import RuleViolation

PAYLOAD = "http://www.kith.no/xmlstds/po/Pasientlogistikk/2012-04-01"
NS = {"mh": builders.MSGHEAD, "p1": PAYLOAD, "po": builders.PO}

LOG_INNLAGT = "LOG_INNLAGT"
LOG_UTSKRIVNINGSKLAR = "LOG_UTSKRIVNINGSKLAR"
LOG_AVMELDING = "LOG_AVMELDING"
LOG_UTSKREVET = "LOG_UTSKREVET"
LOG_DOD = "LOG_DOD"

# MsgInfo/Type → the payload element that type carries.
APPLICATIONS = {
    LOG_INNLAGT: "MeldingInnlagtPasient",
    LOG_UTSKRIVNINGSKLAR: "MeldingUtskrivningsklarPasient",
    LOG_AVMELDING: "AvmeldingUtskrivningsklarPasient",
    LOG_UTSKREVET: "MeldingOmUtskrevetPasient",
    LOG_DOD: "OrienteringOmDod",
}
# Kodeverk 9121 (Hendelsekode).
ADMITTED, DISCHARGED, READY, READY_CANCELLED, DEAD = "1", "2", "3", "4", "13"
# The event each type is about, and the code to look for first.
MAIN_EVENT = {
    LOG_INNLAGT: ADMITTED,
    LOG_UTSKRIVNINGSKLAR: READY,
    LOG_AVMELDING: READY_CANCELLED,
    LOG_UTSKREVET: DISCHARGED,
    LOG_DOD: DEAD,
}
PATIENT_ID_TYPES = ("FNR", "DNR", "HNR", "FHN")
MAX_SCHEMA_ERRORS = 5
SCHEMA_DIR = builders.SCHEMA_DIR


@dataclass(frozen=True)
class When:
    """TidspunktForHendelse: a moment, or a day when the hospital gave only a date."""

    day: date
    moment: datetime | None  # zone-aware; None: a date only
    estimated: bool

    def start(self) -> datetime:
        """The moment, or the day's first moment in Norway."""
        return self.moment or datetime.combine(self.day, time(0), tzinfo=OSLO)

    def latest(self, now: datetime) -> datetime:
        """The moment, or (a date only) the day's last moment, never after `now`."""
        if self.moment is not None:
            return self.moment
        return min(datetime.combine(self.day, time(23, 59, 59), tzinfo=OSLO), now)


@dataclass(frozen=True, repr=False)
class Logistics:
    """What a logistics message says. Holds an identity number: never log it."""

    msg_type: str
    shipment: str  # N | E | K
    patient_identity: str | None  # validated and normalised; None: none usable
    events: dict[str, When]  # by Hendelsekode
    note: str | None

    @property
    def main(self) -> When | None:
        return self.events.get(MAIN_EVENT[self.msg_type])

    def __repr__(self) -> str:
        return f"Logistics(msg_type={self.msg_type}, shipment={self.shipment}, ***)"

    __str__ = __repr__


_lock = threading.Lock()


@functools.cache
def _load_schema() -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(
        [str(SCHEMA_DIR / "MsgHead-v1_2.xsd"), str(SCHEMA_DIR / "Pasientlogistikk-v1.6.xsd")],
        locations={
            builders.XMLDSIG: str(SCHEMA_DIR / "xmldsig-core-schema.xsd"),
            builders.KITH: str(SCHEMA_DIR / "kith.xsd"),
        },
        allow="sandbox",
    )


def schema() -> xmlschema.XMLSchema:
    """MsgHead with the Pasientlogistikk payload schema, built once per process."""
    with _lock:
        return _load_schema()


def schema_errors(root: Element) -> list[str]:
    """Paths of the first few schema errors (never the values: they may be personal data)."""
    try:
        resource = xmlschema.XMLResource(root, allow="none")
        errors = list(itertools.islice(schema().iter_errors(resource), MAX_SCHEMA_ERRORS))
    except Exception:
        return ["/: could not be validated"]
    return [(e.path or "/")[:300] for e in errors]


def when(value: str | None, estimated: bool = False) -> When | None:
    """A kith:TS value: `2018-01-29T10:00:00` (Norway's time unless it names a zone),
    `2018-01-29T10:00:00+01:00`, or `2018-01-31` (a day)."""
    if not value:
        return None
    value = value.strip()
    try:
        if "T" not in value:
            return When(date.fromisoformat(value[:10]), None, estimated)
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=OSLO)
    return When(moment.astimezone(OSLO).date(), moment, estimated)


def _patient(root: Element) -> str | None:
    patient = root.find("mh:MsgInfo/mh:Patient", NS)
    if patient is None:
        return None
    for ident in patient.findall("mh:Ident", NS):
        kind = ident.find("mh:TypeId", NS)
        number = (ident.findtext("mh:Id", default="", namespaces=NS) or "").strip()
        if kind is not None and kind.get("V") in PATIENT_ID_TYPES and number:
            try:
                return parse_identity_number(number).value
            except InvalidIdentityNumber:
                continue
    return None


def parse(root: Element, msg_type: str) -> Logistics:
    """Validate a logistics message (a parsed MsgHead) and read what it says."""
    if msg_type not in APPLICATIONS:
        raise RuleViolation(f"{msg_type} is not a logistics message.", slug="plo-unsupported-type")
    errors = schema_errors(root)
    if errors:
        raise RuleViolation(
            "The message does not match its schema (MsgHead 1.2, Pasientlogistikk 1.6): " + "; ".join(errors),
            slug="plo-schema-invalid",
        )
    content = root.find("mh:Document/mh:RefDoc/mh:Content/p1:Pasientlogistikk", NS)
    application = content.find(f"p1:{APPLICATIONS[msg_type]}", NS) if content is not None else None
    if content is None or application is None:
        raise RuleViolation(
            f"A {msg_type} message carries a Pasientlogistikk document with "
            f"{APPLICATIONS[msg_type]} (Document/RefDoc/Content).",
            slug="plo-schema-invalid",
        )
    status = content.find("po:InformasjonOmForsendelsen/po:Forsendelsesstatus", NS)
    shipment = ((status.get("V") if status is not None else None) or "N").strip().upper()[:1]
    events: dict[str, When] = {}
    notes: list[str] = []
    for event in application.findall("po:TidsfestetHendelse", NS):
        code_el = event.find("po:Hendelsekode", NS)
        code = (code_el.get("V") or "").strip() if code_el is not None else ""
        ts = event.find("po:TidspunktForHendelse", NS)
        parsed = when(
            ts.get("V") if ts is not None else None, event.findtext("po:Anslag", namespaces=NS) == "true"
        )
        if parsed is not None and code and code not in events:
            events[code] = parsed
        if note := (event.findtext("po:Merknad", namespaces=NS) or "").strip():
            notes.append(note)
    # A message of one event that does not name its code: that event is the message's.
    main = MAIN_EVENT[msg_type]
    if main not in events:
        untagged = application.findall("po:TidsfestetHendelse", NS)
        if len(untagged) == 1:
            ts = untagged[0].find("po:TidspunktForHendelse", NS)
            if (parsed := when(ts.get("V") if ts is not None else None)) is not None:
                events[main] = parsed
    if main not in events:
        raise RuleViolation(
            f"A {msg_type} message names the time of its event "
            f"(TidsfestetHendelse with Hendelsekode {main}).",
            slug="plo-schema-invalid",
        )
    return Logistics(
        msg_type=msg_type,
        shipment=shipment if shipment in ("N", "E", "K") else "N",
        patient_identity=_patient(root),
        events=events,
        note="\n".join(notes)[:2000] or None,
    )
