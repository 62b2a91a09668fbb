"""The decision letter (vedtaksbrev) in plain bokmål, as HTML and as PDF.

Content follows Stavanger's template (DOMAIN § 4): the outcome per service in words, "For deg
betyr dette:" with each measure and how often, the scope, the provider if chosen, the
individual justification, the purpose, the person's own goal, the legal basis texts from the
configured catalogue, start, end (or "inntil videre") and evaluation dates, co-payment, the
appeal text and deadline, the right to see the case documents and whom to contact.

`compose` is pure (decision + person + configuration → `Letter`); `render_html` and
`render_pdf` only lay it out; `load` does the reading (access-logged, district-scoped). Only a
made decision has a letter: a draft answers 409.

HTML is autoescaped (the justification is free text). The PDF uses the core Helvetica font,
which covers Latin-1 (æ, ø, å, §, «») but not e.g. the en dash or the ellipsis: `pdf_text` maps those to
Latin-1 and replaces anything else outside it, so no input can make rendering fail.
"""

from __future__ import annotations

import unicodedata
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path

import jinja2
from fpdf import FPDF
from fpdf.enums import XPos, YPos
from sqlalchemy.ext.asyncio import AsyncSession

from hjemflyt.assessment.config.repository import ConfigRepository
from hjemflyt.assessment.decisions import service
from hjemflyt.assessment.decisions.rules import Outcome, ScopeKind, Status
from hjemflyt.assessment.decisions.schemas import DecisionOut, MeasureOut, ServiceOut
from hjemflyt.assessment.districts.repository import DistrictRepository
from hjemflyt.assessment.persons import service as persons
from hjemflyt.assessment.persons.schemas import PersonOut
from hjemflyt.assessment.providers.repository import ProviderRepository
from hjemflyt.shared.platform.auth import Principal
from hjemflyt.shared.platform.context import ServiceContext
from hjemflyt.shared.platform.errors import Conflict

PURPOSE = "decision letter"
HEADING = "Vedtak om helse- og omsorgstjenester"
TEMPLATES = Path(__file__).parent / "templates"
DEFAULT_APPEAL_WEEKS = 4

MONTHS = (
    "januar",
    "februar",
    "mars",
    "april",
    "mai",
    "juni",
    "juli",
    "august",
    "september",
    "oktober",
    "november",
    "desember",
)

OUTCOME_WORDS = {
    Outcome.granted: "innvilget",
    Outcome.partly_granted: "delvis innvilget",
    Outcome.refused: "avslått",
}

# How often, in words: (once per period, n times per period).
FREQUENCY = {
    "day": ("hver dag", "{n} ganger om dagen"),
    "week": ("hver uke", "{n} ganger i uken"),
    "month": ("hver måned", "{n} ganger i måneden"),
    "quarter": ("hver tredje måned", "{n} ganger i kvartalet"),
    "year": ("hvert år", "{n} ganger i året"),
}

GOAL_LEAD = "Du sa at det er viktig for deg å"
RIGHT_TO_SEE = (
    "Du har rett til å se dokumentene i saken din (forvaltningsloven § 18). "
    "Ta kontakt med oss hvis du vil se dem."
)
NO_SIGNATURE = "Brevet er godkjent elektronisk og har derfor ingen underskrift."


# --- words ------------------------------------------------------------------------------


def norwegian_date(value: date) -> str:
    """1. desember 2026."""
    return f"{value.day}. {MONTHS[value.month - 1]} {value.year}"


def frequency(times: int, per: str) -> str:
    """2 ganger i uken, hver dag."""
    once, many = FREQUENCY.get(per, (f"1 gang per {per}", "{n} ganger per " + per))
    return once if times == 1 else many.format(n=times)


def hours(value: Decimal) -> str:
    """20, 7,5 or 13,04: no trailing zeros, a decimal comma."""
    text = f"{Decimal(value).quantize(Decimal('0.01')):f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text.replace(".", ",")


def hours_words(value: Decimal) -> str:
    return f"{hours(value)} {'time' if Decimal(value) == 1 else 'timer'}"


def measure_text(measure: MeasureOut) -> str:
    text = f"{measure.description.strip()}, {frequency(measure.times, measure.per)}"
    if measure.minutes:
        text += f" ({measure.minutes} minutter hver gang)"
    return text


def scope_text(service_out: ServiceOut) -> str | None:
    if service_out.outcome == Outcome.refused:
        return None
    if service_out.scope_kind == ScopeKind.frame:
        low = service_out.frame_min_hours or Decimal(0)
        high = service_out.frame_max_hours or service_out.hours_per_month
        return (
            f"En ramme på {hours(low)}\u2013{hours_words(high)} per måned. Innenfor rammen avtaler du og "
            "tjenesten hvor ofte og hvor lenge du får hjelp."
        )
    if service_out.scope_kind == ScopeKind.minutes_per_measure:
        return (
            "Minutter per tiltak, slik det står over; til sammen om lag "
            f"{hours_words(service_out.hours_per_month)} per måned."
        )
    return f"{hours_words(service_out.hours_per_month)} per måned."


def goal_sentence(user_goal: str | None) -> str | None:
    """ "Du sa at det er viktig for deg å …", in the person's own words."""
    goal = (user_goal or "").strip()
    if not goal:
        return None
    if goal.lower().startswith("du sa"):
        sentence = goal
    elif goal.lower().startswith("å "):
        sentence = f"{GOAL_LEAD} {goal[2:].lstrip()}"
    elif goal[0].islower():
        sentence = f"{GOAL_LEAD} {goal}"
    else:  # a whole sentence of their own: quote it rather than bend it
        return f"Du sa at dette er viktig for deg: «{goal}»"
    return sentence if sentence.endswith((".", "!", "?")) else sentence + "."


def paragraphs(text: str | None) -> list[list[str]]:
    """Free text as paragraphs (blank lines) of lines (single line breaks)."""
    if not text:
        return []
    blocks = text.replace("\r\n", "\n").replace("\r", "\n").split("\n\n")
    return [[line for line in block.split("\n")] for block in blocks if block.strip()]


# --- the letter -------------------------------------------------------------------------


@dataclass(frozen=True)
class Contact:
    name: str
    phone: str | None = None
    email: str | None = None


@dataclass(frozen=True)
class LetterService:
    name: str
    outcome: str  # in words
    refused: bool
    refusal_reason: str | None
    measures: list[str]
    scope: str | None
    provider: str | None
    copayment: str | None


@dataclass(frozen=True)
class Letter:
    decision_id: uuid.UUID
    version: int
    municipality: str
    contact: Contact
    person_name: str
    address: str
    decision_date: str
    services: list[LetterService]
    justification: list[list[str]]
    purpose: list[list[str]]
    goal: str | None
    legal_basis: list[str]
    start: str | None
    end: str  # a date or "inntil videre"
    evaluation: str | None
    appeal_text: list[list[str]]
    appeal_deadline: str
    supersedes: bool
    copayments: list[tuple[str, str]] = field(default_factory=list)
    heading: str = HEADING
    right_to_see: str = RIGHT_TO_SEE
    no_signature: str = NO_SIGNATURE


def compose(
    decision: DecisionOut,
    person: PersonOut,
    *,
    municipality: str,
    contact: Contact,
    legal_texts: dict[str, str],
    providers: dict[str, str],
    appeal_weeks: int = DEFAULT_APPEAL_WEEKS,
) -> Letter:
    """What the letter says, from the decision as made (pure)."""
    if decision.status == Status.draft or decision.decision_date is None:
        raise ValueError("only a made decision has a letter")
    services = []
    copayments: list[tuple[str, str]] = []
    for s in decision.services:
        refused = s.outcome == Outcome.refused
        provider = None
        if s.provider_org and not refused:
            name = providers.get(s.provider_org)
            provider = f"{name} (org.nr. {s.provider_org})" if name else f"Org.nr. {s.provider_org}"
        statement = (s.copayment or {}).get("statement") if not refused else None
        if statement:
            copayments.append((s.service_name, str(statement)))
        services.append(
            LetterService(
                name=s.service_name,
                outcome=OUTCOME_WORDS[s.outcome],
                refused=refused,
                refusal_reason=(s.refusal_reason or "").strip() or None,
                measures=[measure_text(m) for m in s.measures],
                scope=scope_text(s),
                provider=provider,
                copayment=str(statement) if statement else None,
            )
        )
    if decision.appeal_deadline is not None:
        deadline = f"Fristen for å klage er {norwegian_date(decision.appeal_deadline)}."
    else:
        deadline = f"Fristen for å klage er {appeal_weeks} uker fra du fikk dette brevet."
    return Letter(
        decision_id=decision.id,
        version=decision.version,
        municipality=municipality,
        contact=contact,
        person_name=person.name,
        address=person.address,
        decision_date=norwegian_date(decision.decision_date),
        services=services,
        justification=paragraphs(decision.justification),
        purpose=paragraphs(decision.purpose),
        goal=goal_sentence(decision.user_goal),
        legal_basis=[legal_texts.get(code, code) for code in decision.legal_basis],
        start=norwegian_date(decision.start_date) if decision.start_date else None,
        end=norwegian_date(decision.end_date) if decision.end_date else "inntil videre",
        evaluation=norwegian_date(decision.evaluation_date) if decision.evaluation_date else None,
        appeal_text=paragraphs(decision.appeal_text),
        appeal_deadline=deadline,
        supersedes=decision.supersedes_id is not None,
        copayments=copayments,
    )


# --- HTML -------------------------------------------------------------------------------


@cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,  # every value is escaped: the justification is free text
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_html(letter: Letter) -> str:
    return _environment().get_template("letter.html.j2").render(letter=letter)


# --- PDF --------------------------------------------------------------------------------

_TO_LATIN1 = str.maketrans(
    {
        "\u2010": "-",
        "\u2011": "-",
        "\u2012": "-",
        "\u2013": "-",
        "\u2014": "-",
        "\u2212": "-",
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u2026": "...",
        "\u2022": "-",
        "\u2009": " ",
        "\u202f": " ",
        "\u2007": " ",
        "\u200b": "",
        "\ufeff": "",
        "\t": " ",
        "\u20ac": "EUR",
    }
)


def pdf_text(text: str) -> str:
    """Text the core fonts can draw: Latin-1, with dashes, quotes and ellipses mapped and
    anything else replaced by "?"."""
    normal = unicodedata.normalize("NFC", text).translate(_TO_LATIN1)
    return normal.encode("latin-1", "replace").decode("latin-1")


class _Pdf(FPDF):
    footer_text = ""

    def footer(self) -> None:
        self.set_y(-15)
        self.set_font("Helvetica", size=8)
        self.cell(0, 10, pdf_text(f"{self.footer_text} - side {self.page_no()}/{{nb}}"), align="C")

    def paragraph(
        self, value: str, *, size: float = 10.5, style: str = "", gap: float = 1.5, indent: float = 0
    ) -> None:
        self.set_font("Helvetica", style=style, size=size)
        self.set_x(self.l_margin + indent)
        self.multi_cell(
            self.epw - indent, size * 0.5, pdf_text(value), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT
        )
        if gap:
            self.ln(gap)

    def headline(self, value: str, size: float = 12.5) -> None:
        self.ln(2)
        self.paragraph(value, size=size, style="B", gap=1)

    def paragraphs(self, value: list[list[str]]) -> None:
        for block in value:
            self.paragraph("\n".join(block))


def render_pdf(letter: Letter, *, created_at: datetime | None = None, compress: bool = True) -> bytes:
    pdf = _Pdf(format="A4")
    pdf.footer_text = f"{letter.heading}, {letter.decision_date}"
    pdf.set_compression(compress)
    pdf.set_title(letter.heading)
    pdf.set_author(pdf_text(letter.municipality))
    pdf.set_lang("nb")
    if created_at is not None:
        pdf.set_creation_date(created_at)
    pdf.set_margins(20, 20, 20)
    pdf.set_auto_page_break(auto=True, margin=20)
    pdf.alias_nb_pages()
    pdf.add_page()

    pdf.paragraph(letter.municipality, style="B", gap=0)
    pdf.paragraph(letter.contact.name, gap=6)
    pdf.paragraph(letter.person_name, gap=0)
    pdf.paragraph(letter.address, gap=6)
    pdf.paragraph(f"Dato: {letter.decision_date}", gap=0)
    pdf.paragraph(f"Vår referanse: {letter.decision_id}", size=9, gap=4)

    pdf.headline(letter.heading, size=16)
    intro = "Vi har behandlet saken din og gjort dette vedtaket."
    if letter.supersedes:
        intro += " Det erstatter vedtaket du hadde fra før."
    pdf.paragraph(intro)
    for s in letter.services:
        _render_service(pdf, s)
    _render_grounds(pdf, letter)
    _render_period(pdf, letter)
    if letter.copayments:
        pdf.headline("Egenbetaling")
        for name, statement in letter.copayments:
            pdf.paragraph(f"{name}: {statement}", gap=0.5)
        pdf.ln(1)
    pdf.headline("Du kan klage")
    pdf.paragraphs(letter.appeal_text)
    pdf.paragraph(letter.appeal_deadline)
    pdf.headline("Du har rett til innsyn")
    pdf.paragraph(letter.right_to_see)
    pdf.headline("Kontakt oss")
    pdf.paragraph(_contact_line(letter.contact) + ".")
    pdf.ln(4)
    pdf.paragraph("Med vennlig hilsen", gap=0)
    pdf.paragraph(letter.contact.name)
    pdf.paragraph(letter.no_signature, size=9)
    return bytes(pdf.output())


def _render_service(pdf: _Pdf, s: LetterService) -> None:
    pdf.headline(f"{s.name}: {s.outcome}")
    if s.refusal_reason:
        pdf.paragraph(
            ("Dette har vi avslått, og hvorfor: " if not s.refused else "Hvorfor: ") + s.refusal_reason
        )
    if s.measures:
        pdf.paragraph("For deg betyr dette:", style="B", gap=0.5)
        for measure in s.measures:
            pdf.paragraph(f"- {measure}", indent=4, gap=0.5)
        pdf.ln(1)
    if s.scope:
        pdf.paragraph(f"Omfang: {s.scope}")
    if s.provider:
        pdf.paragraph(f"Utfører: {s.provider}")


def _render_grounds(pdf: _Pdf, letter: Letter) -> None:
    """Why: the justification, the purpose and the person's goal, and the law."""
    pdf.headline("Begrunnelse")
    pdf.paragraphs(letter.justification)
    if letter.purpose:
        pdf.headline("Formålet med tjenestene")
        pdf.paragraphs(letter.purpose)
    if letter.goal:
        pdf.headline("Ditt mål")
        pdf.paragraph(letter.goal)
    pdf.headline("Lovgrunnlag")
    pdf.paragraph("Vedtaket er gjort etter " + "; ".join(letter.legal_basis) + ".")


def _render_period(pdf: _Pdf, letter: Letter) -> None:
    pdf.headline("Når gjelder vedtaket")
    if letter.start:
        pdf.paragraph(f"Fra: {letter.start}", gap=0.5)
    pdf.paragraph(f"Til: {letter.end}", gap=0.5)
    if letter.evaluation:
        pdf.paragraph(f"Vi vurderer hjelpen sammen med deg på nytt innen {letter.evaluation}.", gap=1.5)


def _contact_line(contact: Contact) -> str:
    line = contact.name
    if contact.phone:
        line += f", telefon {contact.phone}"
    if contact.email:
        line += f", e-post {contact.email}"
    return line


# --- reading ----------------------------------------------------------------------------


async def load(
    ctx: ServiceContext, session: AsyncSession, principal: Principal, decision_id: uuid.UUID
) -> Letter:
    """Read the decision and the person (both access-logged as reads for the letter) and the
    configuration the letter quotes. 404 for a decision the principal may not see; 409 for a draft."""
    decision = await service.get(ctx, session, principal, decision_id, purpose=PURPOSE)
    if decision.status == Status.draft or decision.decision_date is None:
        raise Conflict("Only a made decision has a letter; this one is a draft.", slug="decision-not-made")
    person = await persons.get(ctx, session, principal, decision.person_id, purpose=PURPOSE)
    config = ConfigRepository(session)
    municipality = await config.municipality(ctx.settings.tenant)
    legal = await config.legal_basis_by_code(set(decision.legal_basis))
    office = next((o for o in await config.case_offices() if decision.district in o.districts), None)
    if office is not None:
        contact = Contact(office.name, office.phone, office.email)
    else:
        district = await DistrictRepository(session).get(decision.district)
        contact = Contact(district.case_office if district else "Kommunen")
    orgs = {s.provider_org for s in decision.services if s.provider_org}
    providers = await ProviderRepository(session).get_many(orgs) if orgs else {}
    return compose(
        decision,
        person,
        municipality=municipality.name if municipality else "Kommunen",
        contact=contact,
        legal_texts={code: basis.text for code, basis in legal.items()},
        providers={org: p.name for org, p in providers.items()},
        appeal_weeks=municipality.appeal_weeks if municipality else DEFAULT_APPEAL_WEEKS,
    )
