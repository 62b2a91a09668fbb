"""The IPLOS report over the API (real PostgreSQL and NATS): a demo-like municipality is
created through the public API, the completeness report and the two files are fetched, the
content file is validated against the IPLOS 2018 schema with xmlschema, and its figures
(persons, services, hours per week) are compared with those computed here, independently,
from what the test created. The identity file is the only place identity numbers appear;
every person read is access-logged."""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import random
import stat
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
import xmlschema
from defusedxml import ElementTree as ET
from sqlalchemy import text

from hjemflyt.assessment.db import platform_tables
from hjemflyt.assessment.main import create_app
from hjemflyt.shared import cli
from hjemflyt.shared.contracts.iplos import code_list
from hjemflyt.shared.demo import DISTRICTS, decision_body
from hjemflyt.shared.identity import synthetic_identity_numbers
from hjemflyt.shared.iplos_export import STEPS, ProgressBar, export
from hjemflyt.shared.platform.auth import Role
from hjemflyt.shared.testing import auth, eventually, running_service

XSD = Path(__file__).parents[1] / "hjemflyt" / "assessment" / "iplos" / "xsd" / "IPLOS-2018-rev2018-10-10.xsd"
NS = {"ipl": "http://www.npr.no/xmlstds/iplos/2018"}
IDENT = "{urn:hjemflyt:iplos:ident:2018}"
IPLOS_CODES = {"home-nursing": 15, "practical-help": 1}
CONTACTS = [
    {"kind": "1", "name": "Innsender", "phone": "21 80 21 80", "email": "innsender@example.invalid"},
    {"kind": "2", "name": "IPLOS-kontakt", "phone": "21 80 21 81", "email": "iplos@example.invalid"},
]
PERSONS = 14


@pytest.fixture
async def client(settings, issuer):
    integration = auth(issuer, Role.integration)
    async with running_service(create_app, settings) as client:
        assert (await client.post("/v1/config/presets/oslo", headers=integration)).status_code == 200
        yield client
        relay = client.app.state.relay

        async def drained():
            assert await relay.pending_count() == 0

        await eventually(drained)
        await asyncio.sleep(0.05)


async def build_municipality(client, issuer) -> dict:
    """Persons with decisions (as the demo loader makes them), most with a completed
    assessment, one decision appealed, one left a draft. Returns what was created, by
    identity number."""
    integration = auth(issuer, Role.integration)
    today = client.app.state.clock.today()
    rng = random.Random(13)
    created: dict[str, dict] = {}
    numbers = list(synthetic_identity_numbers(PERSONS + 1, seed=1313))
    for i, number in enumerate(numbers):
        district = rng.choice(list(DISTRICTS))
        r = await client.post(
            "/v1/persons",
            json={
                "identity_number": number,
                "name": f"Person {i}",
                "address": "Gata 2",
                "district": district,
            },
            headers=integration,
        )
        assert r.status_code == 201, r.text
        person_id = r.json()["id"]
        kinds = rng.sample(list(IPLOS_CODES), k=rng.choice([1, 1, 2]))
        services = [
            (k, Decimal(rng.randint(2, 60)) + Decimal(rng.choice(["0", "0.5", "0.25"])), None) for k in kinds
        ]
        draft = i == PERSONS  # the last one: a draft decision, not reported
        start = today - timedelta(days=rng.randint(0, 200))
        body = decision_body(
            person_id, services, start=start, make=not draft, organisation_model="trust_model"
        )
        r = await client.post("/v1/decisions", json=body, headers=integration)
        assert r.status_code == 201, r.text
        decision = r.json()
        scored = i % 4 != 0  # every fourth person has no assessment
        if scored and not draft:
            scores = {k: rng.choice([1, 2, 3, 4, 5, 9]) for k in code_list().keys}
            r = await client.post(
                "/v1/assessments",
                json={
                    "person_id": person_id,
                    "visit_date": str(today - timedelta(days=1)),
                    "participants": [{"role": "person"}],
                    "what_matters": "Å bo hjemme.",
                    "goals": [{"text": "Gå tur", "follow_up_date": str(today + timedelta(weeks=6))}],
                    "scores": scores,
                },
                headers=integration,
            )
            assert r.status_code == 201, r.text
            r = await client.post(f"/v1/assessments/{r.json()['id']}/complete", headers=integration)
            assert r.status_code == 200, r.text
        created[number] = {
            "person_id": person_id,
            "district": district,
            "decision_id": decision["id"],
            "services": [] if draft else [(IPLOS_CODES[k], h) for k, h, _ in services],
            "scored": scored and not draft,
            "reported": not draft,
        }
    # One appeal, answered by the municipality
    first = next(iter(created.values()))
    r = await client.post(
        "/v1/appeals",
        json={"decision_id": first["decision_id"], "received_date": str(today), "grounds": "For lite hjelp."},
        headers=integration,
    )
    assert r.status_code == 201, r.text
    appeal_id = r.json()["id"]
    assert (await client.post(f"/v1/appeals/{appeal_id}/reassess", headers=integration)).status_code == 200
    r = await client.post(
        f"/v1/appeals/{appeal_id}/municipality-decision",
        json={"outcome": "changed", "reasoning": "Mer hjelp.", "decided_date": str(today)},
        headers=integration,
    )
    assert r.status_code == 200, r.text
    first["appeal"] = today
    return created


def weekly(hours: Decimal) -> Decimal:
    return (hours / 4).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


async def access_rows(client) -> int:
    async with client.app.state.ctx.sessionmaker() as s:
        table = platform_tables.access_log
        return int(
            await s.scalar(text(f"SELECT count(*) FROM {table.fullname} WHERE resource = 'iplos-report'"))  # noqa: S608
        )


async def test_the_files_validate_and_their_figures_equal_those_computed_from_what_was_created(
    client, issuer
):
    created = await build_municipality(client, issuer)
    integration = auth(issuer, Role.integration)
    year = client.app.state.clock.today().year
    reported = {n: c for n, c in created.items() if c["reported"]}

    # --- completeness: per person, by pseudonymous id
    r = await client.get(f"/v1/iplos/{year}/completeness", headers=integration)
    assert r.status_code == 200, r.text
    report = r.json()
    unscored = {c["person_id"] for c in reported.values() if not c["scored"]}
    assert unscored
    by_person = {p["person_id"]: {x["rule"] for x in p["problems"]} for p in report["persons"]}
    assert {pid for pid, rules in by_person.items() if "person-without-scores" in rules} == unscored
    assert report["complete"] is False
    # the register's variable codes are not in the code list: said once, not guessed
    assert [p["rule"] for p in report["delivery_problems"]] == ["function-codes-missing"]
    for p in report["persons"]:
        assert all(not x["left_out"] for x in p["problems"])

    # --- the files
    before = await access_rows(client)
    r = await client.post(
        f"/v1/iplos/{year}/report",
        json={"contacts": CONTACTS, "serial": "7"},
        headers={**integration, "Hjemflyt-Purpose": "KPR delivery"},
    )
    assert r.status_code == 200, r.text
    out = r.json()
    content, identity = out["content_file"].encode(), out["identity_file"].encode()

    xmlschema.XMLSchema(str(XSD)).validate(ET.fromstring(content))

    # No identity number in the content file; all of them in the identity file.
    for number in created:
        assert number.encode() not in content
        assert (number.encode() in identity) == created[number]["reported"]

    root = ET.fromstring(content)
    ident = ET.fromstring(identity)
    assert root.findtext("ipl:INNHINFO/ipl:iiLopenr", namespaces=NS) == "7"
    assert ident.findtext(f"{IDENT}INNHINFO/{IDENT}iiLopenr") == "7"
    assert root.findtext("ipl:INNHINFO/ipl:iiKomnr", namespaces=NS) == "0301"
    number_of = {p.get("pePeID"): p.findtext(f"{IDENT}peFnr") for p in ident.findall(f"{IDENT}PERSON")}

    # Figures from the file, per identity number (through the identity file) ...
    in_file: dict[str, list[tuple[int, Decimal | None]]] = {}
    appeals_in_file: dict[str, str | None] = {}
    for person in root.findall("ipl:PERSON", NS):
        number = number_of[person.get("pePeID")]
        in_file[number] = sorted(
            (
                int(t.findtext("ipl:tjTjenType", namespaces=NS) or ""),
                Decimal(h) if (h := t.findtext("ipl:tjTimerUke", namespaces=NS)) else None,
            )
            for t in person.findall("ipl:TJENESTE", NS)
        )
        appeals_in_file[number] = person.findtext("ipl:TJENESTE/ipl:tjKlageMottatt", namespaces=NS)
        district = created[number]["district"]
        assert person.findtext("ipl:peBydelsnr", namespaces=NS) == {
            "gamle-oslo": "01", "grunerlokka": "02", "frogner": "05", "nordstrand": "14"
        }[district]  # fmt: skip
        assert person.findall("ipl:FUNKSJON", NS) == []  # no register codes: not written

    # ... equal those computed here from what was created.
    expected = {n: sorted((code, weekly(h)) for code, h in c["services"]) for n, c in reported.items()}
    assert in_file == expected
    assert len(root.findall("ipl:PERSON", NS)) == len(reported)
    assert len(root.findall("ipl:PERSON/ipl:TJENESTE", NS)) == sum(
        len(c["services"]) for c in reported.values()
    )
    total = sum((weekly(h) for c in reported.values() for _, h in c["services"]), Decimal(0))
    assert sum(Decimal(e.text or "") for e in root.iter(f"{{{NS['ipl']}}}tjTimerUke")) == total
    assert out["figures"] == {
        "persons": len(reported),
        "services": sum(len(c["services"]) for c in reported.values()),
        "hours_per_week": str(total.quantize(Decimal("0.01"))),
        "function_scores": 0,
    }
    appealed = next(n for n, c in created.items() if "appeal" in c)
    assert appeals_in_file[appealed] == created[appealed]["appeal"].strftime("%Y%m%d")

    # Every person in the files is access-logged.
    assert await access_rows(client) - before == len(reported)


async def test_the_files_need_the_whole_municipality_and_completeness_follows_districts(client, issuer):
    created = await build_municipality(client, issuer)
    year = client.app.state.clock.today().year
    officer = auth(issuer, Role.case_officer, districts=["frogner"], subject="officer-kari")

    r = await client.post(f"/v1/iplos/{year}/report", json={"contacts": CONTACTS}, headers=officer)
    assert r.status_code == 403
    assert r.json()["type"].endswith("/iplos-needs-whole-municipality")

    r = await client.get(f"/v1/iplos/{year}/completeness", headers=officer)
    assert r.status_code == 200, r.text
    frogner = {c["person_id"] for c in created.values() if c["district"] == "frogner" and c["reported"]}
    assert r.json()["figures"]["persons"] == len(frogner)
    assert {p["person_id"] for p in r.json()["persons"]} <= frogner

    # A manager reads budgets, not persons.
    r = await client.get(f"/v1/iplos/{year}/completeness", headers=auth(issuer, Role.manager))
    assert r.status_code == 403

    r = await client.get(f"/v1/iplos/{year + 1}/completeness", headers=auth(issuer, Role.integration))
    assert r.status_code == 422
    assert r.json()["type"].endswith("/iplos-year-out-of-range")


async def test_the_cli_export_writes_both_files_apart_with_a_progress_bar(client, issuer, tmp_path):
    """What `hjemflyt iplos YEAR` runs, against the service (no gateway prefix here)."""
    created = await build_municipality(client, issuer)
    year = client.app.state.clock.today().year
    client.headers.update(auth(issuer, Role.integration))
    stream = io.StringIO()
    written = await export(
        client, year, tmp_path, contacts=CONTACTS, serial="2", prefix="", progress=ProgressBar(STEPS, stream)
    )
    assert stream.getvalue().splitlines()[-1].startswith(f"[{'#' * 30}] 3/3 written")
    reported = [n for n, c in created.items() if c["reported"]]
    content = written.content.read_bytes()
    assert not any(n.encode() in content for n in created)
    assert all(n in written.identity.read_text() for n in reported)
    assert stat.S_IMODE(written.identity.stat().st_mode) == 0o600
    xmlschema.XMLSchema(str(XSD)).validate(ET.fromstring(content))
    assert written.figures["persons"] == len(reported)
    assert written.problems["person-without-scores"] == sum(
        1 for c in created.values() if c["reported"] and not c["scored"]
    )
    assert written.completeness.name == f"iplos-0301-{year}-2-completeness.json"


def test_the_cli_reads_contacts_as_kind_name_phone_email():
    assert cli._contact("2;Kari;21 80 21 80;kari@example.invalid") == {
        "kind": "2", "name": "Kari", "phone": "21 80 21 80", "email": "kari@example.invalid"
    }  # fmt: skip
    for bad in ("4;Kari;1;k@x", "2;Kari;1", "2;;1;k@x"):
        with pytest.raises(argparse.ArgumentTypeError):
            cli._contact(bad)


async def test_with_register_codes_configured_the_scores_are_written_with_their_periods(settings, issuer):
    """HJEMFLYT_IPLOS_FUNCTION_CODES (test-only numbers here) fills fnFunkType: every score of an
    assessment in force is written, from its visit (or 1 January) to the day before the next
    assessment (or 31 December), and the file validates."""
    register_codes = {k: 500 + i for i, k in enumerate(code_list().keys, start=1)}
    configured = settings.model_copy(update={"iplos_function_codes": json.dumps(register_codes)})
    integration = auth(issuer, Role.integration)
    async with running_service(create_app, configured) as client:
        assert (await client.post("/v1/config/presets/oslo", headers=integration)).status_code == 200
        today = client.app.state.clock.today()
        year, first, last = today.year, date(today.year, 1, 1), date(today.year, 12, 31)
        numbers = list(synthetic_identity_numbers(2, seed=1414))
        persons = []
        for i, number in enumerate(numbers):
            r = await client.post(
                "/v1/persons",
                json={
                    "identity_number": number,
                    "name": f"P {i}",
                    "address": "Gata 3",
                    "district": "frogner",
                },
                headers=integration,
            )
            assert r.status_code == 201, r.text
            persons.append(r.json()["id"])
            body = decision_body(
                persons[-1], [("home-nursing", "12", None)], start=today - timedelta(days=3),
                organisation_model="trust_model",
            )  # fmt: skip
            assert (await client.post("/v1/decisions", json=body, headers=integration)).status_code == 201
        # The first person is assessed twice; the second not at all.
        visits = [today - timedelta(days=40), today - timedelta(days=5)]
        scores = [dict.fromkeys(code_list().keys, 2), dict.fromkeys(code_list().keys, 4)]
        for visit, given in zip(visits, scores, strict=True):
            r = await client.post(
                "/v1/assessments",
                json={
                    "person_id": persons[0],
                    "visit_date": str(visit),
                    "participants": [{"role": "person"}],
                    "what_matters": "Å bo hjemme.",
                    "goals": [{"text": "Gå tur", "follow_up_date": str(today + timedelta(weeks=6))}],
                    "scores": given,
                },
                headers=integration,
            )
            assert r.status_code == 201, r.text
            r = await client.post(f"/v1/assessments/{r.json()['id']}/complete", headers=integration)
            assert r.status_code == 200, r.text

        r = await client.get("/v1/iplos/function-variables", headers=integration)
        assert {v["key"]: v["register_code"] for v in r.json()["variables"]} == register_codes
        r = await client.get(f"/v1/iplos/{year}/completeness", headers=integration)
        assert r.status_code == 200, r.text
        assert r.json()["delivery_problems"] == []  # no function-codes-missing
        assert [p["person_id"] for p in r.json()["persons"]] == [persons[1]]

        r = await client.post(f"/v1/iplos/{year}/report", json={"contacts": CONTACTS}, headers=integration)
        assert r.status_code == 200, r.text
        out = r.json()
        await eventually(_drained(client))

    content = out["content_file"].encode()
    xmlschema.XMLSchema(str(XSD)).validate(ET.fromstring(content))
    root, ident = ET.fromstring(content), ET.fromstring(out["identity_file"].encode())
    key_of = {p.findtext(f"{IDENT}peFnr"): p.get("pePeID") for p in ident.findall(f"{IDENT}PERSON")}
    expected = []
    if visits[1] - timedelta(days=1) >= first:  # the first assessment is in force during the year
        expected += [
            (code, 2, max(visits[0], first), visits[1] - timedelta(days=1))
            for code in register_codes.values()
        ]
    expected += [(code, 4, max(visits[1], first), last) for code in register_codes.values()]
    by_person = {p.get("pePeID"): p for p in root.findall("ipl:PERSON", NS)}
    written = [
        (
            int(f.findtext("ipl:fnFunkType", namespaces=NS) or ""),
            int(f.findtext("ipl:fnFunkVerdi", namespaces=NS) or ""),
            datetime.strptime(f.findtext("ipl:fnFraDato", namespaces=NS) or "", "%Y%m%d").date(),
            datetime.strptime(f.findtext("ipl:fnTilDato", namespaces=NS) or "", "%Y%m%d").date(),
        )
        for f in by_person[key_of[numbers[0]]].findall("ipl:FUNKSJON", NS)
    ]
    assert sorted(written) == sorted(expected)
    assert by_person[key_of[numbers[1]]].findall("ipl:FUNKSJON", NS) == []
    assert out["figures"]["function_scores"] == len(expected)


def _drained(client):
    async def check():
        assert await client.app.state.relay.pending_count() == 0

    return check


def test_the_cli_names_the_persons_whose_records_fail_the_schema():
    import httpx

    from hjemflyt.shared.iplos_export import _raise_for

    request = httpx.Request("POST", "http://x/assessment/v1/iplos/2026/report")
    body = {
        "type": "https://hjemflyt.no/problems/iplos-records-invalid",
        "status": 409,
        "detail": "The records of 1 person(s) would not validate.",
        "persons": [{"person_id": "00000000-0000-0000-0000-000000000002", "elements": ["tjTjenType"]}],
    }
    with pytest.raises(RuntimeError, match=r"409 .*00000000-0000-0000-0000-000000000002 \(tjTjenType\)"):
        _raise_for(httpx.Response(409, json=body, request=request))


async def test_a_year_without_persons_is_no_delivery_not_a_fault(client, issuer):
    """Found by schemathesis (issue 14): the schema wants at least one PERSON, so an empty
    year's file failed it and the answer was 500 iplos-schema-invalid."""
    integration = auth(issuer, Role.integration)
    r = await client.post("/v1/iplos/2019/report", json={"contacts": CONTACTS}, headers=integration)
    assert r.status_code == 409, r.text
    assert r.json()["type"].endswith("/iplos-no-persons")
