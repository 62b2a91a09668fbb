"""The demo municipality's IPLOS files, over the gateway (issue 13's "done when").

The four services and the gateway run as processes; the demo loader fills them through the
public API, as `make run` does (persons, completed assessments with function scores,
decisions, two appeals). The year's files are produced over the gateway, the content file is
validated against the published IPLOS 2018 schema (the standards folder's copy, with
xmlschema: not the service's own validator), and its persons, services, hours per week,
function scores and appeal dates are compared with figures this test computes itself from
the demo's persons, assessments, decisions and appeals read over the public API — never
through the iplos module's code.

The stack runs with register codes for the function variables configured
(HJEMFLYT_IPLOS_FUNCTION_CODES): test-only numbers, since the directorate's list is not in the
code list (contracts/iplos.py: do not guess them), so FUNKSJON records are written and checked.
No schema is published for the identity file (the standards folder has none; the IPLOS
schema's peFnr is commented out): its shape and its link to the content file are checked.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
import xmlschema
from defusedxml import ElementTree as ET

from hjemflyt.shared.contracts.iplos import code_list
from hjemflyt.shared.demo import load_demo
from hjemflyt.shared.devstack import DevStack
from hjemflyt.shared.platform.auth import Role
from tests.conftest import fresh_stack
from tests.system import Actor, legal_today

pytestmark = pytest.mark.system

PERSONS = 40
STANDARD_XSD = Path("/work/shared/standards/xsd/IPLOS-2018-rev2018-10-10.xsd")
PACKAGED_XSD = (
    Path(__file__).parents[1]
    / "services/assessment/hjemflyt/assessment/iplos/xsd/IPLOS-2018-rev2018-10-10.xsd"
)
XSD = STANDARD_XSD if STANDARD_XSD.exists() else PACKAGED_XSD
IPL = "{http://www.npr.no/xmlstds/iplos/2018}"
IDENT = "{urn:hjemflyt:iplos:ident:2018}"
# Test-only register codes: not the directorate's (see the module's docstring).
CODES = {key: 900 + i for i, key in enumerate(code_list().keys, start=1)}
DISTRICT_NUMBERS = {"gamle-oslo": "01", "grunerlokka": "02", "frogner": "05", "nordstrand": "14"}
IN_FORCE = {"made", "sent", "active", "ended"}
GRANTED = {"granted", "partly_granted"}
CONTACTS = [
    {"kind": "1", "name": "Innsender Demo", "phone": "21 80 21 80", "email": "innsender@example.invalid"},
    {"kind": "2", "name": "IPLOS-kontakt", "phone": "21 80 21 81", "email": "iplos@example.invalid"},
]


@pytest.fixture(scope="module")
def stack() -> Iterator[DevStack]:
    with pytest.MonkeyPatch.context() as mp:
        # The services' processes inherit the HJEMFLYT_* environment.
        mp.setenv("HJEMFLYT_IPLOS_FUNCTION_CODES", json.dumps(CODES))
        with fresh_stack("test_iplos_demo") as running:
            yield running


def weekly(hours_per_month: str) -> Decimal:
    """The register's hours per week: monthly hours / 4, two decimals, half up."""
    return (Decimal(hours_per_month) / 4).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def ymd(value: str | date) -> str:
    return (date.fromisoformat(value) if isinstance(value, str) else value).strftime("%Y%m%d")


async def read_demo(client: httpx.AsyncClient, year: int) -> dict[str, dict[str, Any]]:
    """Per identity number, what the register should hold, from the public API alone."""
    first, last = date(year, 1, 1), date(year, 12, 31)
    persons: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        r = await client.get(
            "/assessment/v1/persons", params={"limit": 100, **({"cursor": cursor} if cursor else {})}
        )
        assert r.status_code == 200, r.text
        persons += r.json()["items"]
        cursor = r.json()["next_cursor"]
        if cursor is None:
            break
    expected: dict[str, dict[str, Any]] = {}
    for person in persons:
        r = await client.get(f"/assessment/v1/persons/{person['id']}/decisions")
        assert r.status_code == 200, r.text
        services: list[tuple[int, Decimal | None]] = []
        appeals: list[tuple[str | None, str | None]] = []
        for d in r.json():
            start = date.fromisoformat(d["start_date"] or d["decision_date"])
            end = date.fromisoformat(d["end_date"]) if d["end_date"] else None
            if d["status"] not in IN_FORCE or start > last or (end is not None and end < first):
                continue
            granted = [s for s in d["services"] if s["outcome"] in GRANTED]
            for s in granted:
                hours = Decimal(s["hours_per_month"])
                services.append((int(s["service_code"]), weekly(s["hours_per_month"]) if hours > 0 else None))
            r = await client.get(f"/assessment/v1/decisions/{d['id']}/appeals")
            assert r.status_code == 200, r.text
            for a in r.json()[-1:]:  # the latest appeal of the decision
                received = ymd(a["received_date"])
                answered = ymd(a["answered_date"]) if a["answered_date"] else None
                appeals += [(received, answered)] * len(granted)
        if not services:
            continue
        r = await client.get(f"/assessment/v1/persons/{person['id']}/assessments")
        assert r.status_code == 200, r.text
        completed = [a for a in r.json() if a["status"] == "completed"]
        assert len(completed) <= 1  # the demo makes one per person
        functions = sorted(
            (CODES[key], score, ymd(max(date.fromisoformat(a["visit_date"]), first)), ymd(last))
            for a in completed
            for key, score in a["scores"].items()
        )
        number = person["identity_number"]
        expected[number] = {
            "person_id": person["id"],
            "gender": "M" if int(number[8]) % 2 else "K",
            "district": DISTRICT_NUMBERS[person["district"]],
            "services": sorted(services, key=lambda x: (x[0], x[1] or Decimal(0))),
            "appeals": sorted(appeals, key=str),
            "functions": functions,
        }
    return expected


async def test_the_demo_municipalitys_files_validate_and_hold_the_figures_computed_from_the_api(stack):
    counts = await load_demo(stack.base_url, stack.issuer, persons=PERSONS)
    assert counts["persons"] == PERSONS
    assert counts["appeals"] == 2
    async with Actor(stack, Role.integration, subject="iplos-test") as integration:
        year = (await legal_today(integration)).year
        expected = await read_demo(integration, year)
        assert len(expected) == PERSONS  # every demo decision is in force this year
        assessed = {n for n, e in expected.items() if e["functions"]}
        assert PERSONS * 0.8 <= len(assessed) < PERSONS  # nearly all, and some left to flag
        assert sum(1 for e in expected.values() for _, answered in e["appeals"] if answered) >= 1

        # The completeness report flags exactly those without an assessment; with the register
        # codes configured nothing is said about missing codes.
        r = await integration.get(f"/assessment/v1/iplos/{year}/completeness")
        assert r.status_code == 200, r.text
        report = r.json()
        assert report["delivery_problems"] == []
        flagged = {
            p["person_id"]
            for p in report["persons"]
            if any(x["rule"] == "person-without-scores" for x in p["problems"])
        }
        assert flagged == {e["person_id"] for n, e in expected.items() if n not in assessed}
        assert all(not x["left_out"] for p in report["persons"] for x in p["problems"])

        r = await integration.post(
            f"/assessment/v1/iplos/{year}/report",
            json={"contacts": CONTACTS, "serial": "42"},
            headers={"Hjemflyt-Purpose": "IPLOS delivery test"},
        )
        assert r.status_code == 200, r.text
        out = r.json()

    content, identity = out["content_file"].encode(), out["identity_file"].encode()
    xmlschema.XMLSchema(str(XSD)).validate(ET.fromstring(content))  # raises on the first error
    root, ident = ET.fromstring(content), ET.fromstring(identity)

    # The identity file: well-formed, its own root, the same delivery number, one PERSON per
    # content PERSON; the only place the identity numbers are.
    assert ident.tag == f"{IDENT}IPLOSIDENT"
    assert ident.findtext(f"{IDENT}INNHINFO/{IDENT}iiLopenr") == "42"
    assert root.findtext(f"{IPL}INNHINFO/{IPL}iiLopenr") == "42"
    number_of = {p.get("pePeID"): p.findtext(f"{IDENT}peFnr") for p in ident.findall(f"{IDENT}PERSON")}
    assert sorted(number_of.values()) == sorted(expected)
    for number in expected:
        assert number.encode() not in content

    # The content file, per identity number through the identity file ...
    found: dict[str, dict[str, Any]] = {}
    for person in root.findall(f"{IPL}PERSON"):
        key = person.get("pePeID")
        tj = person.findall(f"{IPL}TJENESTE")
        fn = person.findall(f"{IPL}FUNKSJON")
        assert {t.get("tjPeID") for t in tj} | {f.get("fnPeID") for f in fn} <= {key}
        hours = [t.findtext(f"{IPL}tjTimerUke") for t in tj]
        found[number_of[key]] = {
            "gender": person.findtext(f"{IPL}peKjonn"),
            "district": person.findtext(f"{IPL}peBydelsnr"),
            "services": sorted(
                (
                    (int(t.findtext(f"{IPL}tjTjenType") or ""), Decimal(h) if h else None)
                    for t, h in zip(tj, hours, strict=True)
                ),
                key=lambda x: (x[0], x[1] or Decimal(0)),
            ),
            "appeals": sorted(
                (
                    (t.findtext(f"{IPL}tjKlageMottatt"), t.findtext(f"{IPL}tjKlageBesvart"))
                    for t in tj
                    if t.findtext(f"{IPL}tjKlageMottatt")
                ),
                key=str,
            ),
            "functions": sorted(
                (
                    int(f.findtext(f"{IPL}fnFunkType") or ""),
                    int(f.findtext(f"{IPL}fnFunkVerdi") or ""),
                    f.findtext(f"{IPL}fnFraDato"),
                    f.findtext(f"{IPL}fnTilDato"),
                )
                for f in fn
            ),
        }

    # ... equals what was computed from the API, person by person and in total.
    assert found == {n: {k: v for k, v in e.items() if k != "person_id"} for n, e in expected.items()}
    services = sum(len(e["services"]) for e in expected.values())
    hours = sum((h or Decimal(0) for e in expected.values() for _, h in e["services"]), Decimal(0))
    scores = sum(len(e["functions"]) for e in expected.values())
    assert len(root.findall(f"{IPL}PERSON/{IPL}TJENESTE")) == services
    assert sum(Decimal(e.text or "") for e in root.iter(f"{IPL}tjTimerUke")) == hours
    assert out["figures"] == {
        "persons": PERSONS,
        "services": services,
        "hours_per_week": str(hours.quantize(Decimal("0.01"))),
        "function_scores": scores,
    }
    assert scores == len(assessed) * len(CODES)
