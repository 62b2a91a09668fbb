"""The two IPLOS files of a delivery, written from a `rules.Report`: the content file per
IPLOS-2018-rev2018-10-10.xsd (pseudonymous: `pePeID` only) and the identity file apart
(`pePeID` → identity number). Pure: bytes in memory, no IO.

The standards folder holds no schema for the identity file, so its shape is hjemflyt's own,
in a namespace of its own, mirroring the content file's INNHINFO (the same iiLopenr links the
two files): IPLOSIDENT / INNHINFO / PERSON[@pePeID] / peFnr.
"""

from __future__ import annotations

from datetime import date
from functools import cache
from pathlib import Path
from xml.etree import ElementTree as ET

import xmlschema
from defusedxml import ElementTree as safe_xml

from hjemflyt.assessment.iplos.rules import SCHEMA_VERSION, Report, Sender

NS = "http://www.npr.no/xmlstds/iplos/2018"
IDENT_NS = "urn:hjemflyt:iplos:ident:2018"
SCHEMA_FILE = "IPLOS-2018-rev2018-10-10.xsd"


def _d(value: date) -> str:
    return value.strftime("%Y%m%d")


def _sub(parent: ET.Element, ns: str, name: str, text: object | None = None) -> ET.Element:
    el = ET.SubElement(parent, f"{{{ns}}}{name}")
    if text is not None:
        el.text = text if isinstance(text, str) else str(text)
    return el


def _innhinfo(root: ET.Element, ns: str, report: Report, sender: Sender, made_on: date, serial: str) -> None:
    info = _sub(root, ns, "INNHINFO")
    _sub(info, ns, "iiInnhType", "P")
    _sub(info, ns, "iiKomnr", sender.municipality)
    _sub(info, ns, "iiBydelsnr", sender.district_number)
    for c in sender.contacts:
        contact = _sub(info, ns, "iiKontakt")
        _sub(contact, ns, "Type", c.kind)
        _sub(contact, ns, "Navn", c.name)
        _sub(contact, ns, "Telefon", c.phone)
        _sub(contact, ns, "Epost", c.email)
    _sub(info, ns, "iiFraDato", _d(date(report.year, 1, 1)))
    _sub(info, ns, "iiTilDato", _d(date(report.year, 12, 31)))
    _sub(info, ns, "iiLagetDato", _d(made_on))
    _sub(info, ns, "iiSysID", sender.system_id[:15])
    _sub(info, ns, "iiSysVersjon", sender.system_version[:15])
    _sub(info, ns, "iiLopenr", serial)


def content_file(report: Report, sender: Sender, *, made_on: date, serial: str) -> bytes:
    """The content file: no identity numbers, only the delivery's person keys."""
    ET.register_namespace("ipl", NS)
    root = ET.Element(f"{{{NS}}}IPLOS", {"versjon": SCHEMA_VERSION})
    _innhinfo(root, NS, report, sender, made_on, serial)
    for p in report.persons:
        pe = _sub(root, NS, "PERSON")
        pe.set("pePeID", str(p.key))
        _sub(pe, NS, "peAlder", p.age)
        _sub(pe, NS, "peKjonn", p.gender)
        _sub(pe, NS, "peKomnr", p.municipality)
        _sub(pe, NS, "peBydelsnr", p.district_number)
        _sub(pe, NS, "peFraDato", _d(p.from_date))
        if p.died_on is not None:
            _sub(pe, NS, "peDodDato", _d(p.died_on))
        _sub(pe, NS, "peEndrDato", _d(p.changed_on))
        for i, f in enumerate(p.functions, start=1):
            fn = _sub(pe, NS, "FUNKSJON")
            fn.set("fnPeID", str(p.key))
            fn.set("fnFnID", str(i))
            _sub(fn, NS, "fnFunkType", f.register_code)
            _sub(fn, NS, "fnFunkVerdi", f.score)
            _sub(fn, NS, "fnFraDato", _d(f.from_date))
            _sub(fn, NS, "fnTilDato", _d(f.to_date))
        for s in p.services:
            tj = _sub(pe, NS, "TJENESTE")
            tj.set("tjPeID", str(p.key))
            tj.set("tjTjID", str(s.service_id))
            tj.set("tjVeID", str(s.decision_key))
            tj.set("tjVeNrID", str(s.decision_number))
            _sub(tj, NS, "tjTjenType", s.service_code)
            if s.application_date is not None:
                _sub(tj, NS, "tjSoknadDato", _d(s.application_date))
            _sub(tj, NS, "tjVedtDato", _d(s.decision_date))
            if s.hours_per_week is not None:
                _sub(tj, NS, "tjTimerUke", f"{s.hours_per_week:.2f}")
            if s.from_date is not None:
                _sub(tj, NS, "tjFraDato", _d(s.from_date))
            if s.to_date is not None:
                _sub(tj, NS, "tjTilDato", _d(s.to_date))
            if s.appeal_received is not None:
                _sub(tj, NS, "tjKlageMottatt", _d(s.appeal_received))
            if s.appeal_answered is not None:
                _sub(tj, NS, "tjKlageBesvart", _d(s.appeal_answered))
    out: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return out


def identity_file(report: Report, sender: Sender, *, made_on: date, serial: str) -> bytes:
    """The identity file: each person key of the content file with its identity number."""
    ET.register_namespace("ipi", IDENT_NS)
    root = ET.Element(f"{{{IDENT_NS}}}IPLOSIDENT", {"versjon": SCHEMA_VERSION})
    _innhinfo(root, IDENT_NS, report, sender, made_on, serial)
    for p in report.persons:
        pe = _sub(root, IDENT_NS, "PERSON")
        pe.set("pePeID", str(p.key))
        _sub(pe, IDENT_NS, "peFnr", p.identity_number)
    out: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return out


SCHEMA_DIR = Path(__file__).parent / "xsd"


@cache
def schema() -> xmlschema.XMLSchema:
    """The IPLOS schema, loaded once per process from the package, never from the network."""
    return xmlschema.XMLSchema(str(SCHEMA_DIR / SCHEMA_FILE), allow="sandbox")


def schema_errors(content: bytes, limit: int = 20) -> list[str]:
    """What in a content file fails the schema (empty when it validates)."""
    out: list[str] = []
    resource = xmlschema.XMLResource(safe_xml.fromstring(content), allow="none")
    for error in schema().iter_errors(resource):
        out.append(f"{error.path}: {error.reason}")
        if len(out) >= limit:
            break
    return out
