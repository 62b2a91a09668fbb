"""The two IPLOS files of a delivery, written from a `rules.Report`: the content file per
IPLOS-2018-rev2018-10-10.xsd (pseudonymous: `pePeID` only) and the identity file apart
(`pePeID` → identity number). Pure: bytes in memory, no IO.

The standards folder holds no schema for the identity file, so its shape is hjemflyt's own,
in a namespace of its own, mirroring the content file's INNHINFO (the same iiLopenr links the
two files): IPLOSIDENT / INNHINFO / PERSON[@pePeID] / peFnr.

The content file is written as text, one PERSON to a line, not built as an element tree: for
20,000 persons the tree cost seconds. Every value written is a number, a date or a code,
except the contacts, which are escaped. It is validated with libxml2 (lxml), which reads the
schema from the package, never from the network, and resolves no entities; an error's line
number is its person's line, so a failure can be traced to the person (`schema_problems`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

from lxml import etree

from hjemflyt.assessment.iplos.rules import SCHEMA_VERSION, Report, Sender

NS = "http://www.npr.no/xmlstds/iplos/2018"
IDENT_NS = "urn:hjemflyt:iplos:ident:2018"
SCHEMA_FILE = "IPLOS-2018-rev2018-10-10.xsd"


def _d(value: date) -> str:
    return value.strftime("%Y%m%d")


def _innhinfo_text(report: Report, sender: Sender, made_on: date, serial: str, p: str = "ipl") -> str:
    """INNHINFO, with the namespace prefix `p` (the identity file carries the same one)."""
    contacts = "".join(
        f"<{p}:iiKontakt>"
        f"<{p}:Type>{escape(c.kind)}</{p}:Type><{p}:Navn>{escape(c.name)}</{p}:Navn>"
        f"<{p}:Telefon>{escape(c.phone)}</{p}:Telefon><{p}:Epost>{escape(c.email)}</{p}:Epost>"
        f"</{p}:iiKontakt>"
        for c in sender.contacts
    )
    return (
        f"<{p}:INNHINFO><{p}:iiInnhType>P</{p}:iiInnhType>"
        f"<{p}:iiKomnr>{escape(sender.municipality)}</{p}:iiKomnr>"
        f"<{p}:iiBydelsnr>{escape(sender.district_number)}</{p}:iiBydelsnr>{contacts}"
        f"<{p}:iiFraDato>{_d(date(report.year, 1, 1))}</{p}:iiFraDato>"
        f"<{p}:iiTilDato>{_d(date(report.year, 12, 31))}</{p}:iiTilDato>"
        f"<{p}:iiLagetDato>{_d(made_on)}</{p}:iiLagetDato>"
        f"<{p}:iiSysID>{escape(sender.system_id[:15])}</{p}:iiSysID>"
        f"<{p}:iiSysVersjon>{escape(sender.system_version[:15])}</{p}:iiSysVersjon>"
        f"<{p}:iiLopenr>{escape(serial)}</{p}:iiLopenr></{p}:INNHINFO>"
    )


def _opt(name: str, value: date | None) -> str:
    return "" if value is None else f"<ipl:{name}>{_d(value)}</ipl:{name}>"


def content_file(report: Report, sender: Sender, *, made_on: date, serial: str) -> bytes:
    """The content file: no identity numbers, only the delivery's person keys. One PERSON to a
    line (see `schema_problems`)."""
    out = [
        "<?xml version='1.0' encoding='utf-8'?>",
        f"<ipl:IPLOS xmlns:ipl={quoteattr(NS)} versjon={quoteattr(SCHEMA_VERSION)}>"
        + _innhinfo_text(report, sender, made_on, serial),
    ]
    for p in report.persons:
        k = p.key
        parts = [
            f'<ipl:PERSON pePeID="{k}"><ipl:peAlder>{p.age}</ipl:peAlder>'
            f"<ipl:peKjonn>{escape(p.gender)}</ipl:peKjonn><ipl:peKomnr>{escape(p.municipality)}</ipl:peKomnr>"
            f"<ipl:peBydelsnr>{escape(p.district_number)}</ipl:peBydelsnr>"
            f"<ipl:peFraDato>{_d(p.from_date)}</ipl:peFraDato>{_opt('peDodDato', p.died_on)}"
            f"<ipl:peEndrDato>{_d(p.changed_on)}</ipl:peEndrDato>"
        ]
        for i, f in enumerate(p.functions, start=1):
            parts.append(
                f'<ipl:FUNKSJON fnPeID="{k}" fnFnID="{i}">'
                f"<ipl:fnFunkType>{int(f.register_code)}</ipl:fnFunkType>"
                f"<ipl:fnFunkVerdi>{int(f.score)}</ipl:fnFunkVerdi>"
                f"<ipl:fnFraDato>{_d(f.from_date)}</ipl:fnFraDato>"
                f"<ipl:fnTilDato>{_d(f.to_date)}</ipl:fnTilDato></ipl:FUNKSJON>"
            )
        for s in p.services:
            weekly = s.hours_per_week
            hours = "" if weekly is None else f"<ipl:tjTimerUke>{weekly:.2f}</ipl:tjTimerUke>"
            parts.append(
                f'<ipl:TJENESTE tjPeID="{k}" tjTjID="{s.service_id}" tjVeID="{s.decision_key}" '
                f'tjVeNrID="{s.decision_number}"><ipl:tjTjenType>{int(s.service_code)}</ipl:tjTjenType>'
                f"{_opt('tjSoknadDato', s.application_date)}"
                f"<ipl:tjVedtDato>{_d(s.decision_date)}</ipl:tjVedtDato>"
                f"{hours}{_opt('tjFraDato', s.from_date)}{_opt('tjTilDato', s.to_date)}"
                f"{_opt('tjKlageMottatt', s.appeal_received)}{_opt('tjKlageBesvart', s.appeal_answered)}"
                "</ipl:TJENESTE>"
            )
        parts.append("</ipl:PERSON>")
        out.append("".join(parts))
    out.append("</ipl:IPLOS>")
    return "\n".join(out).encode("utf-8")


def identity_file(report: Report, sender: Sender, *, made_on: date, serial: str) -> bytes:
    """The identity file: each person key of the content file with its identity number."""
    out = [
        "<?xml version='1.0' encoding='utf-8'?>",
        f"<ipi:IPLOSIDENT xmlns:ipi={quoteattr(IDENT_NS)} versjon={quoteattr(SCHEMA_VERSION)}>"
        + _innhinfo_text(report, sender, made_on, serial, "ipi"),
    ]
    out += [
        f'<ipi:PERSON pePeID="{p.key}"><ipi:peFnr>{escape(p.identity_number)}</ipi:peFnr></ipi:PERSON>'
        for p in report.persons
    ]
    out.append("</ipi:IPLOSIDENT>")
    return "\n".join(out).encode("utf-8")


SCHEMA_DIR = Path(__file__).parent / "xsd"


def _parser() -> etree.XMLParser:
    # Our own file, but parsed as if it were not: no DTD, no entities, no network.
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, remove_comments=True)


@cache
def schema() -> etree.XMLSchema:
    """The IPLOS schema, loaded once per process from the package, never from the network."""
    return etree.XMLSchema(etree.parse(str(SCHEMA_DIR / SCHEMA_FILE), _parser()))


@dataclass(frozen=True)
class SchemaProblem:
    line: int
    person_key: int | None  # pePeID of the PERSON the error lies in; None: INNHINFO or the file
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


_PERSON_KEY = re.compile(rb'^<ipl:PERSON pePeID="(\d+)"')


def schema_problems(content: bytes, limit: int = 20) -> list[SchemaProblem]:
    """What in a content file fails the schema (empty when it validates), each with the
    person it lies in, read from the line (one PERSON to a line, as `content_file` writes)."""
    try:
        doc = etree.fromstring(content, _parser())
    except etree.XMLSyntaxError as exc:
        return [SchemaProblem(exc.lineno or 0, None, f"not well-formed XML: {exc.msg}")]
    validator = schema()
    if validator.validate(doc):
        return []
    lines = content.split(b"\n")
    out: list[SchemaProblem] = []
    for error in validator.error_log:  # type: ignore[attr-defined]  # iterable; lxml-stubs lack __iter__
        key = None
        if 0 < error.line <= len(lines) and (m := _PERSON_KEY.match(lines[error.line - 1])):
            key = int(m.group(1))
        out.append(SchemaProblem(error.line, key, error.message))
        if len(out) >= limit:
            break
    return out


def schema_errors(content: bytes, limit: int = 20) -> list[str]:
    """What in a content file fails the schema, as text (empty when it validates)."""
    return [str(p) for p in schema_problems(content, limit)]
