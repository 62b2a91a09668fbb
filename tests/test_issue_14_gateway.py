"""Issue 14's list, through `make run`: every request the issue names as having reached a 500
(or been accepted although absurd) is sent through the gateway (Caddy, deploy/Caddyfile) to
the services as processes, and each gets a 4xx problem+json naming the rule.

One row per item of the issue, in the issue's words; this is the one place for the list
through the gateway (test_issue_14_inputs.py checks the same rules in-process, with their
error locations; test_skeleton.py keeps the gateway's own answer for a path it routes nowhere).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import httpx
import pytest

from hjemflyt.shared.demo import decision_body
from hjemflyt.shared.identity import synthetic_identity_numbers
from hjemflyt.shared.platform.auth import Role
from tests.system import PROVIDER_A, Actor, configure_municipality, legal_today

pytestmark = pytest.mark.system

PROBLEMS = "https://hjemflyt.no/problems/"
NUL = "\u0000"


@dataclass
class Case:
    """What the rows need: a client per role (and one without a token), a person, today."""

    clients: dict[str, httpx.AsyncClient]
    base_url: str
    person_id: str
    today: date

    def decision(self, **extra: Any) -> dict[str, Any]:
        return decision_body(self.person_id, [("home-nursing", "10", PROVIDER_A)], start=self.today) | extra


@pytest.fixture(scope="module")
async def case(stack) -> AsyncIterator[Case]:
    actors = {
        "integration": Actor(stack, Role.integration, subject="issue-14-integration"),
        "officer": Actor(stack, Role.case_officer, districts=["frogner"], subject="issue-14-officer"),
        "manager": Actor(stack, Role.manager, subject="issue-14-manager"),
        "provider": Actor(stack, Role.provider, provider_org=PROVIDER_A, subject="issue-14-provider"),
    }
    clients = {name: await actor.__aenter__() for name, actor in actors.items()}
    clients["anonymous"] = httpx.AsyncClient(base_url=stack.base_url, timeout=30.0)
    try:
        await configure_municipality(clients["integration"])
        number = next(iter(synthetic_identity_numbers(1, seed=1402)))
        r = await clients["officer"].post(
            "/assessment/v1/persons",
            json={
                "identity_number": number,
                "name": "Per Grense",
                "address": "Kantgata 1",
                "district": "frogner",
            },
        )
        assert r.status_code == 201, r.text
        yield Case(clients, stack.base_url, r.json()["id"], await legal_today(clients["officer"]))
    finally:
        await clients["anonymous"].aclose()
        for actor in actors.values():
            await actor.__aexit__(None, None, None)


def person(**fields: str) -> dict[str, str]:
    return {"identity_number": "", "name": "Ola", "address": "Demogata 2", "district": "frogner"} | fields


async def ten_megabytes() -> AsyncIterator[bytes]:
    """10 MB with no Content-Length: the client sends it chunked."""
    for _ in range(160):
        yield b" " * 65536


async def errors_on_one_connection(c: Case) -> httpx.Response:
    """Nothing the list sends makes a service answer 500 any more, so the 502 that followed a
    500 is tried as well as it can be: many error answers in a row from every service on one
    kept-alive connection, each a 4xx, and a valid request after them is answered."""
    token = c.clients["integration"].headers["Authorization"]
    async with httpx.AsyncClient(
        base_url=c.base_url,
        headers={"Authorization": token},
        timeout=30.0,
        limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
    ) as one:
        r = await one.post(
            "/assessment/v1/persons", content=ten_megabytes(), headers={"Content-Type": "application/json"}
        )
        assert r.status_code == 413, r.text
        last: httpx.Response | None = None
        for _ in range(10):
            for path in (
                "/assessment/v1/districts%2F..%2Fpersons%3Flimit=1",
                "/budget/v1/rule-sets/%11",
                "/pathway/v1/pathways?district=fro%00gner",
                "/notifications/v1/inbox?after=9223372036854775808",
                "/budget/v1/allocations?year=2147483648",
            ):
                last = await one.get(path)
                assert 400 <= last.status_code < 500, f"{path}: {last.status_code} {last.text[:200]}"
                assert last.headers["content-type"] == "application/problem+json", path
            r = await one.post("/assessment/v1/persons", json=person(name="Ola" + NUL))
            assert r.status_code == 422, r.text
        assert (await one.get("/assessment/v1/persons", params={"limit": 1})).status_code == 200
        assert last is not None
        return last


@dataclass(frozen=True)
class Row:
    item: str  # the issue's words
    send: Callable[[Case], Awaitable[httpx.Response]]
    status: int
    slug: str


ROWS = [
    Row(
        "gateway: a control character in the path (/budget/v1/rule-sets/%11, no token needed)",
        lambda c: c.clients["anonymous"].get("/budget/v1/rule-sets/%11"),
        401,
        "unauthorized",
    ),
    Row(
        "gateway: a control character in the path (/budget/v1/rule-sets/%11), with a token",
        lambda c: c.clients["manager"].get("/budget/v1/rule-sets/%11"),
        422,
        "validation-error",
    ),
    Row(
        "gateway: %2F and %3F decoded, /assessment/v1/districts%2F..%2Fpersons%3Flimit=1 served as "
        "/v1/persons?limit=1",
        lambda c: c.clients["integration"].get("/assessment/v1/districts%2F..%2Fpersons%3Flimit=1"),
        404,
        "not-found",
    ),
    Row(
        "gateway: bodies forwarded chunked, the 1 MB body limit bypassed (10 MB bodies are parsed)",
        lambda c: c.clients["integration"].post(
            "/assessment/v1/persons", content=ten_megabytes(), headers={"Content-Type": "application/json"}
        ),
        413,
        "payload-too-large",
    ),
    Row(
        "gateway: after a service answers 500 the reused connection gives the next, unrelated request a 502",
        errors_on_one_connection,
        422,
        "date-out-of-range",  # the last of the errors: /budget/v1/allocations?year=2147483648
    ),
    Row(
        "input: a null byte in any string (names)",
        lambda c: c.clients["officer"].post(
            "/assessment/v1/persons",
            json=person(
                identity_number=next(iter(synthetic_identity_numbers(1, seed=1403))), name="Ola" + NUL
            ),
        ),
        422,
        "control-character",
    ),
    Row(
        "input: a null byte in any string (titles)",
        lambda c: c.clients["integration"].put(
            "/assessment/v1/config/legal-basis/hol-3-2", json={"title": "Lov" + NUL, "text": "Tekst."}
        ),
        422,
        "control-character",
    ),
    Row(
        "input: a null byte in any string (justifications)",
        lambda c: c.clients["officer"].post(
            "/assessment/v1/decisions", json=c.decision(justification="Behov" + NUL)
        ),
        422,
        "control-character",
    ),
    Row(
        "input: a null byte in any string (query parameters)",
        lambda c: c.clients["officer"].get("/pathway/v1/pathways?district=fro%00gner"),
        400,
        "null-byte",
    ),
    Row(
        "input: integers beyond 64 bits (/notifications/v1/inbox?after=9223372036854775808)",
        lambda c: c.clients["provider"].get("/notifications/v1/inbox?after=9223372036854775808"),
        422,
        "number-out-of-range",
    ),
    Row(
        "input: integers beyond 64 bits (/budget/v1/allocations?year=2147483648)",
        lambda c: c.clients["manager"].get("/budget/v1/allocations?year=2147483648"),
        422,
        "date-out-of-range",
    ),
    Row(
        "input: a decision naming an application that does not exist (foreign key)",
        lambda c: c.clients["officer"].post(
            "/assessment/v1/decisions", json=c.decision(application_id="00000000-0000-4000-8000-000000000014")
        ),
        422,
        "reference-not-found",
    ),
    Row(
        "input: a decision naming an assessment that does not exist (foreign key)",
        lambda c: c.clients["officer"].post(
            "/assessment/v1/decisions", json=c.decision(assessment_id="00000000-0000-4000-8000-000000000014")
        ),
        422,
        "reference-not-found",
    ),
    Row(
        "input: a population with no inhabitants",
        lambda c: c.clients["manager"].put(
            f"/budget/v1/population/{c.today.year}",
            json={"districts": [{"district": "frogner", "inhabitants": {}}]},
        ),
        422,
        "validation-error",
    ),
    Row(
        "absurd: a decision starting 0001-01-01",
        lambda c: c.clients["officer"].post(
            "/assessment/v1/decisions", json=c.decision(start_date="0001-01-01")
        ),
        422,
        "date-out-of-range",
    ),
    Row(
        "absurd: an evaluation date 9999-12-31",
        lambda c: c.clients["officer"].post(
            "/assessment/v1/decisions", json=c.decision(evaluation_date="9999-12-31")
        ),
        422,
        "date-out-of-range",
    ),
    Row(
        "absurd: a price of 10^40 øre",
        lambda c: c.clients["integration"].put(
            "/assessment/v1/config/copayment-bands",
            json=[
                {
                    "valid_from": "2026-01-01",
                    "income_min_g": "0",
                    "hourly_price_ore": 10**40,
                    "max_per_month_ore": 0,
                }
            ],
        ),
        422,
        "amount-out-of-range",
    ),
    Row(
        "absurd: a birth number whose birth date lies in the future (04022886822, born 2028)",
        lambda c: c.clients["officer"].post(
            "/assessment/v1/persons", json=person(identity_number="04022886822")
        ),
        422,
        "invalid-identity-number",
    ),
]


@pytest.mark.parametrize("row", ROWS, ids=[row.item for row in ROWS])
async def test_the_issues_request_gets_a_4xx_problem_through_the_gateway(case: Case, row: Row) -> None:
    r = await row.send(case)
    assert r.status_code == row.status, r.text[:500]
    assert r.headers["content-type"] == "application/problem+json", r.headers
    assert r.json()["type"] == PROBLEMS + row.slug, r.json()
