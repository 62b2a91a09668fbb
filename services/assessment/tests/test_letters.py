"""The decision letter (vedtaksbrev): plain bokmål in HTML (autoescaped) and PDF (Latin-1 core
fonts), chosen by Accept; only made decisions have one; district-scoped; access-logged."""

from __future__ import annotations

import asyncio
import contextlib
import re
import uuid
import zlib
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from identity_corpus import VALID_NUMBERS
from sqlalchemy import select

from hjemflyt.assessment.db import platform_tables
from hjemflyt.assessment.decisions import letter
from hjemflyt.assessment.decisions.letter_endpoints import negotiate
from hjemflyt.assessment.decisions.schemas import DecisionOut, MeasureOut, ServiceOut
from hjemflyt.assessment.main import create_app
from hjemflyt.assessment.persons.schemas import PersonOut
from hjemflyt.shared.demo import decision_body
from hjemflyt.shared.platform.auth import Role
from hjemflyt.shared.platform.errors import Problem
from hjemflyt.shared.testing import auth, eventually, publish_provider, running_service, suite_today

NUMBERS = [n for n, cls in VALID_NUMBERS if cls.startswith("tenor")]
PROVIDER = "320000009"
PROVIDER_NAME = "Omsorgspartner Demo AS"
# The service tests' decisions start a week after the suite's day (HJEMFLYT_TEST_TODAY).
START = suite_today() + timedelta(days=7)
NAME = "Åse Ødegård"
ADDRESS = "Prøvestien 3, 0650 Oslo"
EVIL = "<script>alert('x')</script> & mer"


# --- words and layout (no IO) -----------------------------------------------------------


def test_dates_frequencies_and_hours_in_norwegian():
    assert letter.norwegian_date(date(2026, 12, 1)) == "1. desember 2026"
    assert letter.norwegian_date(date(2027, 5, 17)) == "17. mai 2027"
    assert letter.norwegian_date(date(2026, 12, 31)) == "31. desember 2026"
    assert letter.norwegian_date(date(2027, 1, 1)) == "1. januar 2027"
    assert letter.norwegian_date(date(2028, 2, 29)) == "29. februar 2028"
    assert letter.frequency(2, "week") == "2 ganger i uken"
    assert letter.frequency(1, "day") == "hver dag"
    assert letter.frequency(3, "day") == "3 ganger om dagen"
    assert letter.frequency(1, "quarter") == "hver tredje måned"
    assert letter.frequency(2, "month") == "2 ganger i måneden"
    assert letter.hours(Decimal("20.00")) == "20"
    assert letter.hours(Decimal("7.50")) == "7,5"
    assert letter.hours(Decimal("13.04")) == "13,04"
    assert letter.hours_words(Decimal(1)) == "1 time"


def test_the_goal_is_said_in_the_persons_words():
    lead = "Du sa at det er viktig for deg å"
    assert letter.goal_sentence("kunne gå tur med hunden") == f"{lead} kunne gå tur med hunden."
    assert letter.goal_sentence("å bo hjemme") == f"{lead} bo hjemme."
    assert letter.goal_sentence(f"{lead} bo hjemme.") == f"{lead} bo hjemme."
    assert (
        letter.goal_sentence("Jeg vil klare meg selv")
        == "Du sa at dette er viktig for deg: «Jeg vil klare meg selv»"
    )
    assert letter.goal_sentence("  ") is None


def test_pdf_text_is_latin1_whatever_comes_in():
    assert (
        letter.pdf_text("7,5\u201320 timer \u2026 «sitat» \u201cx\u201d § æøå ÆØÅ")
        == '7,5-20 timer ... «sitat» "x" § æøå ÆØÅ'
    )
    assert letter.pdf_text("smil 😀 ☃") == "smil ? ?"
    letter.pdf_text("".join(chr(c) for c in range(0x20, 0x3000))).encode("latin-1")


@pytest.mark.parametrize(
    ("accept", "chosen"),
    [
        (None, "text/html"),
        ("", "text/html"),
        ("*/*", "text/html"),
        ("text/html", "text/html"),
        ("text/*", "text/html"),
        ("application/pdf", "application/pdf"),
        ("application/*", "application/pdf"),
        ("application/pdf;q=0.5, text/html;q=0.9", "text/html"),
        ("text/html;q=0.2, application/pdf", "application/pdf"),
        ("image/png, */*;q=0.1", "text/html"),
        ("*/*, text/html;q=0", "application/pdf"),
    ],
)
def test_content_negotiation(accept, chosen):
    assert negotiate(accept) == chosen


@pytest.mark.parametrize("accept", ["image/png", "application/json", "text/html;q=0, application/pdf;q=0"])
def test_content_negotiation_refuses_what_it_cannot_give(accept):
    with pytest.raises(Problem) as caught:
        negotiate(accept)
    assert caught.value.status == 406


def sample(**changes) -> tuple[DecisionOut, PersonOut]:
    person_id = uuid.uuid4()
    frame = ServiceOut(
        service_type="practical-help",
        service_name="Praktisk bistand - daglige gjøremål",
        service_code="1",
        outcome="partly_granted",
        scope_kind="frame",
        hours_per_month=Decimal(20),
        frame_min_hours=Decimal("7.5"),
        frame_max_hours=Decimal(20),
        refusal_reason="Vi har ikke innvilget vindusvask.",
        provider_org=None,
        measures=[MeasureOut(description="Rengjøring av bolig", times=1, per="week", minutes=None)],
        copayment={"statement": "Du betaler 300,00 kr per time."},
    )
    refused = ServiceOut(
        service_type="safety-alarm",
        service_name="Trygghetsalarm",
        service_code="6",
        outcome="refused",
        scope_kind="hours_per_month",
        hours_per_month=Decimal(0),
        frame_min_hours=None,
        frame_max_hours=None,
        refusal_reason="Du har familie som bor i samme hus.",
        provider_org=None,
        measures=[],
        copayment={"statement": "Tjenesten er gratis."},
    )
    decision = DecisionOut(
        id=uuid.uuid4(),
        version=2,
        status="made",
        person_id=person_id,
        district="nordstrand",
        organisation_model="professional_freedom",
        application_id=None,
        assessment_id=None,
        supersedes_id=None,
        justification="Første avsnitt.\nNy linje.\n\nAndre avsnitt.",
        purpose="Tjenesten skal gjøre deg mest mulig selvhjulpen i hverdagen.",
        user_goal="kunne lage middag selv",
        legal_basis=["hol-3-2-6b"],
        start_date=date(2026, 12, 1),
        end_date=date(2027, 5, 31),
        evaluation_date=date(2027, 3, 1),
        household_income_g=Decimal("2.5"),
        appeal_text="Du kan klage på vedtaket.",
        appeal_deadline=date(2026, 12, 29),
        decision_date=date(2026, 11, 30),
        made_by="saksbehandler",
        made_at=datetime(2026, 11, 30, 9, tzinfo=UTC),
        sent_at=None,
        activated_at=None,
        ended_at=None,
        end_reason=None,
        services=[frame, refused],
    ).model_copy(update=changes)
    person = PersonOut(
        id=person_id,
        identity_number=NUMBERS[0],
        identity_kind="birth_number",
        synthetic=True,
        name=NAME,
        address=ADDRESS,
        phone=None,
        district="nordstrand",
        created_at=datetime(2026, 11, 1, tzinfo=UTC),
    )
    return decision, person


def composed(**changes) -> letter.Letter:
    decision, person = sample(**changes)
    return letter.compose(
        decision,
        person,
        municipality="Oslo kommune",
        contact=letter.Contact("Tildelingskontoret, Bydel Nordstrand", "21 80 21 80", "t@example.invalid"),
        legal_texts={"hol-3-2-6b": "helse- og omsorgstjenesteloven § 3-2 første ledd nr. 6 bokstav b"},
        providers={},
    )


def test_a_frame_a_partial_grant_a_refusal_and_an_end_date_are_said_plainly():
    html = letter.render_html(composed())
    for part in (
        "<h2>Praktisk bistand - daglige gjøremål</h2>",
        "delvis innvilget",
        "Dette har vi avslått, og hvorfor: Vi har ikke innvilget vindusvask.",
        "Rengjøring av bolig, hver uke",
        "En ramme på 7,5\u201320 timer per måned",
        "<h2>Trygghetsalarm</h2>",
        "avslått",
        "Hvorfor: Du har familie som bor i samme hus.",
        "Første avsnitt.<br>Ny linje.</p>",
        "<p>Andre avsnitt.</p>",
        "Du sa at det er viktig for deg å kunne lage middag selv.",
        "Til: 31. mai 2027",
        "Fristen for å klage er 29. desember 2026.",
        "Praktisk bistand - daglige gjøremål: Du betaler 300,00 kr per time.",
    ):
        assert part in html, part
    assert "Trygghetsalarm: Tjenesten er gratis." not in html  # a refused service costs nothing to say


def test_a_letter_needs_a_made_decision():
    with pytest.raises(ValueError, match="made"):
        composed(status="draft", decision_date=None)


def pdf_strings(pdf: bytes) -> str:
    """The text drawn in a PDF from fpdf2 (streams inflated), as Latin-1. fpdf2 writes a stream's
    data up to a line feed and `endstream`; compressed data may end in a carriage-return byte,
    which belongs to the data (taking it off lost page 1's text on some days, e.g. 2028-03-01)."""
    out = []
    for stream in re.findall(rb"stream\r?\n(.*?)\nendstream", pdf, re.DOTALL):
        with contextlib.suppress(zlib.error):  # fpdf2 compresses unless told not to
            stream = zlib.decompress(stream)
        out += [m.replace(rb"\(", b"(").replace(rb"\)", b")") for m in re.findall(rb"\((.*?)\) ?Tj", stream)]
    return "\n".join(s.decode("latin-1") for s in out)


def test_the_pdf_is_a_pdf_with_the_letters_text():
    content = composed(justification="Begrunnelse med tankestrek \u2013 og «sitat» 😀.")
    raw = letter.render_pdf(content, compress=False)
    assert raw.startswith(b"%PDF-")
    assert NAME.encode("latin-1") in raw  # uncompressed: the name is there as drawn
    text = pdf_strings(letter.render_pdf(content))
    for part in (NAME, ADDRESS, "Vedtak om helse- og omsorgstjenester", "For deg betyr dette:",
                 "En ramme på 7,5-20 timer", "Begrunnelse med tankestrek - og «sitat» ?.",
                 "Fristen for å klage er 29. desember 2026."):  # fmt: skip
        assert part in text, part


@pytest.mark.parametrize("decided", [date(2027, 11, 10), date(2028, 11, 12), date(2029, 1, 8)])
def test_the_pdf_text_is_read_whatever_byte_the_compressed_stream_ends_in(decided):
    """On these dates page 1's compressed stream ends in a carriage return (fpdf2 2.8)."""
    text = pdf_strings(letter.render_pdf(composed(decision_date=decided)))
    assert NAME in text
    assert f"Vedtak om helse- og omsorgstjenester, {letter.norwegian_date(decided)}" in text


# --- the endpoint (real PostgreSQL and NATS) ----------------------------------------------


@pytest.fixture
async def client(settings, issuer):
    integration = auth(issuer, Role.integration)
    async with running_service(create_app, settings) as client:
        assert (await client.post("/v1/config/presets/oslo", headers=integration)).status_code == 200
        await publish_provider(settings, PROVIDER, ["1", "15"], ["gamle-oslo"])

        async def provider_known():
            r = await client.get("/v1/providers", headers=integration)
            assert [p["provider_org"] for p in r.json()] == [PROVIDER]

        await eventually(provider_known)
        yield client
        relay = client.app.state.relay

        async def drained():
            assert await relay.pending_count() == 0

        await eventually(drained)
        await asyncio.sleep(0.05)


def assert_problem(r, status: int, slug: str) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json"), r.headers
    body = r.json()
    assert body["type"].endswith("/" + slug), body
    return body


async def made(client, issuer, *, make: bool = True) -> dict:
    integration = auth(issuer, Role.integration)
    r = await client.post(
        "/v1/persons",
        json={"identity_number": NUMBERS[0], "name": NAME, "address": ADDRESS, "district": "gamle-oslo"},
        headers=integration,
    )
    assert r.status_code == 201, r.text
    body = decision_body(
        r.json()["id"],
        [("home-nursing", "20", PROVIDER), ("practical-help", "3", None)],
        start=START,
        make=make,
        justification=EVIL,
        household_income_g="2.5",
    )
    r = await client.post("/v1/decisions", json=body, headers=integration)
    assert r.status_code == 201, r.text
    return r.json()


async def letter_reads(client) -> list[tuple[str, str]]:
    log = platform_tables.access_log
    async with client.app.state.ctx.sessionmaker() as s:
        rows = await s.execute(
            select(log.c.resource, log.c.action).where(log.c.purpose == "decision letter").order_by(log.c.id)
        )
        return [tuple(r) for r in rows]


async def test_the_html_letter_says_it_all_and_escapes_what_was_typed(client, issuer):
    integration = auth(issuer, Role.integration)
    out = await made(client, issuer)
    r = await client.get(f"/v1/decisions/{out['id']}/letter", headers=integration)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "text/html; charset=utf-8"
    assert r.headers["vary"] == "Accept"
    assert r.headers["cache-control"] == "no-store"
    html = r.text
    decided = letter.norwegian_date(date.fromisoformat(out["decision_date"]))
    for part in (
        "<h1>Vedtak om helse- og omsorgstjenester</h1>",
        NAME,
        ADDRESS,
        f"Dato: <time>{decided}</time>",
        "<h2>Helsetjenester i hjemmet (hjemmesykepleie)</h2>",
        "innvilget",
        "For deg betyr dette:",
        "Oppfølging av faste medisiner, 2 ganger om dagen",
        "Sårstell, 2 ganger i uken",
        "20 timer per måned.",
        "3 timer per måned.",
        f"Utfører: {PROVIDER_NAME} (org.nr. {PROVIDER})",
        "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; mer",
        "Tjenesten skal gjøre deg mest mulig selvhjulpen i hverdagen.",
        "Du sa at det er viktig for deg å kunne bo hjemme og gå tur med hunden.",
        "helse- og omsorgstjenesteloven § 3-2 første ledd nr. 6 bokstav a",
        "helse- og omsorgstjenesteloven § 3-2 første ledd nr. 6 bokstav b",
        f"Fra: {letter.norwegian_date(START)}",
        "Til: inntil videre",
        f"innen {letter.norwegian_date(date.fromisoformat(out['evaluation_date']))}",
        "Helsetjenester i hjemmet (hjemmesykepleie): Tjenesten er gratis.",
        "Du betaler 300,00 kr per time",
        "Statsforvalteren i Oslo og Akershus",
        "Fristen for å klage er 4 uker fra du fikk dette brevet.",
        "Du har rett til å se dokumentene i saken din",
        "Tildelingskontoret, Bydel Gamle Oslo",
        "Telefon: 21 80 21 80",
    ):
        assert part in html, part
    assert "<script>" not in html
    assert NUMBERS[0] not in html  # the identity number is not in the letter
    # Once sent, the letter names the deadline.
    await client.post(f"/v1/decisions/{out['id']}/send", headers=integration)
    sent = (await client.get(f"/v1/decisions/{out['id']}", headers=integration)).json()
    r = await client.get(f"/v1/decisions/{out['id']}/letter", headers={**integration, "Accept": "text/html"})
    assert (
        f"Fristen for å klage er {letter.norwegian_date(date.fromisoformat(sent['appeal_deadline']))}."
        in r.text
    )
    assert await letter_reads(client) == [("decision", "read"), ("person", "read")] * 2


async def test_the_pdf_letter(client, issuer):
    integration = auth(issuer, Role.integration)
    out = await made(client, issuer)
    r = await client.get(
        f"/v1/decisions/{out['id']}/letter", headers={**integration, "Accept": "application/pdf"}
    )
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/pdf"
    assert r.headers["content-disposition"] == f'inline; filename="vedtak-{out["id"]}.pdf"'
    assert r.content.startswith(b"%PDF-")
    assert re.search(rb"/Count [1-9]", r.content)  # it has pages
    text = pdf_strings(r.content)
    for part in (NAME, ADDRESS, "Vedtak om helse- og omsorgstjenester", EVIL, "Til: inntil videre"):
        assert part in text, part
    assert await letter_reads(client) == [("decision", "read"), ("person", "read")]


async def test_no_letter_for_a_draft_another_district_or_an_image(client, issuer):
    integration = auth(issuer, Role.integration)
    draft = await made(client, issuer, make=False)
    assert draft["status"] == "draft"
    url = f"/v1/decisions/{draft['id']}/letter"
    assert_problem(await client.get(url, headers=integration), 409, "decision-not-made")
    assert await letter_reads(client) == []  # a refused request leaves no access-log row
    await client.post(f"/v1/decisions/{draft['id']}/make", headers=integration)

    other = auth(issuer, Role.case_officer, districts=["frogner"])
    assert_problem(await client.get(url, headers=other), 404, "not-found")
    assert_problem(
        await client.get(f"/v1/decisions/{uuid.uuid4()}/letter", headers=integration), 404, "not-found"
    )
    body = assert_problem(
        await client.get(url, headers={**integration, "Accept": "image/png"}), 406, "not-acceptable"
    )
    assert body["available"] == ["text/html", "application/pdf"]
    assert await letter_reads(client) == []
    mine = auth(issuer, Role.case_officer, districts=["gamle-oslo"])
    assert (await client.get(url, headers=mine)).status_code == 200
