"""Documents on a person from incoming PLO messages: which message types are kept as
documents, their states, and the plain-text rendering of their sections (pure, no IO)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum


class Status(StrEnum):
    current = "current"  # the newest version of the document
    replaced = "replaced"  # an Endring (E) brought a newer version
    cancelled = "cancelled"  # a Kansellering (K) withdrew it


@dataclass(frozen=True)
class Kind:
    """A PLO message type (`MsgInfo/Type`) kept as a document, with its payload."""

    msg_type: str
    title: str  # Norwegian, as the standard names the message
    namespace: str  # of the payload root
    root: str  # local name of the payload root
    schema: str  # the payload's schema file in messaging/xsd


_PO = "http://www.kith.no/xmlstds/po"
KINDS: dict[str, Kind] = {
    k.msg_type: k
    for k in (
        Kind(
            "INNLEGGELSESRAPPORT",
            "Innleggelsesrapport",
            f"{_PO}/Innleggelsesrapport/2012-04-01",
            "Innleggelsesrapport",
            "Innleggelsesrapport-v1.6.xsd",
        ),
        Kind(
            "UTSKRIVNINGSRAPPORT",
            "Utskrivningsrapport",
            f"{_PO}/TverrfagligEpikrise/2012-04-01",
            "TverrfagligEpikrise",
            "TverrfagligEpikrise-v1.6.xsd",
        ),
        Kind(
            "MEDISINSKE_OPPLYSNINGER",
            "Medisinske opplysninger",
            f"{_PO}/MedisinskeOpplysninger/2012-04-01",
            "OverforingMedisinskeOpplysninger",
            "MedisinskeOpplysninger-v1.6.xsd",
        ),
        Kind(
            "HELSEOPPLYSNINGER_LEGE",
            "Helseopplysninger til lege",
            f"{_PO}/HelseopplysningerTilLege/2012-04-01",
            "Konsultasjon",
            "HelseopplysningerTilLege-v1.6.xsd",
        ),
    )
}
DOCUMENT_TYPES = tuple(KINDS)


def kind_of(msg_type: str) -> Kind | None:
    return KINDS.get(msg_type)


@dataclass(frozen=True)
class Section:
    heading: str
    lines: tuple[str, ...]


def merged(sections: Iterable[Section]) -> list[Section]:
    """Consecutive sections with the same heading as one (five medicines, one list)."""
    out: list[Section] = []
    for section in sections:
        if not section.lines:
            continue
        if out and out[-1].heading == section.heading:
            out[-1] = Section(section.heading, out[-1].lines + section.lines)
        else:
            out.append(section)
    return out


def as_text(title: str, sections: Sequence[Section]) -> str:
    """The document as plain text: the title, then each section's heading and lines."""
    parts = [title]
    for section in sections:
        parts.append("")
        parts.append(section.heading)
        parts.extend(section.lines)
    return "\n".join(parts)


def next_version(chain: Sequence[int]) -> int:
    return max(chain, default=0) + 1
