"""The bounds every input keeps (contracts.bounds) and the problem answers every operation
declares, on a small service of the platform: no database, no bus (the lifespan never runs)."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from typing import Annotated

import httpx
import pytest
from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel
from sqlalchemy import MetaData

from hjemflyt.shared.contracts.bounds import breaches
from hjemflyt.shared.platform.app import ServiceSpec, create_service_app
from hjemflyt.shared.platform.auth import Principal
from hjemflyt.shared.platform.deps import get_principal
from hjemflyt.shared.platform.settings import Settings
from hjemflyt.shared.platform.tables import define_platform_tables


class Line(BaseModel):
    text: str
    price_ore: int


class Body(BaseModel):
    start_date: date
    evaluation_date: date | None = None
    hours: Decimal | None = None
    lines: list[Line] = []


router = APIRouter()


@router.get("/v1/things")
async def things(year: Annotated[int, Query()], on: Annotated[date | None, Query()] = None) -> dict[str, int]:
    return {"year": year}


@router.put("/v1/things", status_code=204)
async def replace_things() -> None:
    return None


@router.post("/v1/things/{thing_id}", status_code=201)
async def put_thing(
    thing_id: uuid.UUID, body: Body, _: Annotated[Principal, Depends(get_principal)]
) -> dict[str, str]:
    return {"id": str(thing_id)}


@router.post("/v1/open")
async def open_thing(body: Body) -> dict[str, str]:
    return {"start": str(body.start_date)}


@pytest.fixture
async def client(tmp_path):
    spec = ServiceSpec(
        name="toy",
        title="toy",
        description="toy",
        tables=define_platform_tables(MetaData(schema="toy")),
        routers=[router],
    )
    jwks = tmp_path / "jwks.json"
    jwks.write_text('{"keys": []}')
    app = create_service_app(
        spec, Settings(database_url="postgresql+asyncpg://x/y", nats_url="nats://x", jwt_jwks_file=jwks)
    )
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://toy") as c:
        yield c


def test_breaches_name_the_rule_and_the_field():
    found = list(
        breaches(
            Body(
                start_date=date(1, 1, 1),
                evaluation_date=date(9999, 12, 31),
                lines=[Line(text="a\x00", price_ore=10**40)],
            ),
            ("body",),
        )
    )
    assert [(b.location, b.rule) for b in found] == [
        (("body", "start_date"), "date-out-of-range"),
        (("body", "evaluation_date"), "date-out-of-range"),
        (("body", "lines", 0, "text"), "control-character"),
        (("body", "lines", 0, "price_ore"), "amount-out-of-range"),
    ]
    ok = Body(start_date=date(1900, 1, 1), evaluation_date=date(2100, 12, 31), hours=Decimal("7.5"))
    assert list(breaches(ok, ("body",))) == []
    assert list(breaches("tab\tand\nnewline\r", ())) == []
    assert [b.rule for b in breaches(2**63, ("query", "after"))] == ["number-out-of-range"]
    assert [b.rule for b in breaches(2147483648, ("query", "year"))] == ["date-out-of-range"]
    assert [b.rule for b in breaches(Decimal("1e40"), ("body", "hours"))] == ["number-out-of-range"]
    assert [b.rule for b in breaches(float("nan"), ("body", "hours"))] == ["number-out-of-range"]
    assert [b.rule for b in breaches({"k\x1f": 1}, ("body",))] == ["control-character"]


@pytest.mark.parametrize(
    ("request_args", "slug", "location"),
    [
        (("GET", "/v1/things?year=2147483648"), "date-out-of-range", ["query", "year"]),
        (("GET", "/v1/things?year=2026&on=0001-01-01"), "date-out-of-range", ["query", "on"]),
        (("POST", "/v1/open", {"start_date": "0001-01-01"}), "date-out-of-range", ["body", "start_date"]),
        (
            ("POST", "/v1/open", {"start_date": "2026-01-01", "evaluation_date": "9999-12-31"}),
            "date-out-of-range",
            ["body", "evaluation_date"],
        ),
        (
            ("POST", "/v1/open", {"start_date": "2026-01-01", "lines": [{"text": "x", "price_ore": 10**40}]}),
            "amount-out-of-range",
            ["body", "lines", 0, "price_ore"],
        ),
        (
            (
                "POST",
                "/v1/open",
                {"start_date": "2026-01-01", "lines": [{"text": "a\u0007b", "price_ore": 1}]},
            ),
            "control-character",
            ["body", "lines", 0, "text"],
        ),
    ],
)
async def test_a_breach_is_a_422_problem_naming_the_rule(client, request_args, slug, location):
    method, url, *body = request_args
    response = await client.request(method, url, json=body[0] if body else None)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["type"] == f"https://hjemflyt.no/problems/{slug}"
    assert problem["errors"][0]["location"] == location
    assert (await client.get("/v1/things?year=2026&on=2026-12-07")).status_code == 200


async def test_every_operation_declares_its_problems(client):
    spec = (await client.get("/openapi.json")).json()
    assert spec["components"]["schemas"]["Problem"]["required"] == ["type", "title", "status"]
    assert "HTTPValidationError" not in spec["components"]["schemas"]
    problem = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    codes = {}
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            errors = {c: r for c, r in operation["responses"].items() if int(c) >= 400}
            assert all(r["content"] == problem and r["description"] for r in errors.values()), (path, method)
            codes[f"{method.upper()} {path}"] = sorted(int(c) for c in errors)
    # Authenticated: 401/403/503; parameters or a body: 404/409/422; a body: 413; a write: 409/422.
    assert codes["POST /v1/things/{thing_id}"] == [400, 401, 403, 404, 409, 413, 422, 503]
    assert codes["GET /v1/things"] == [400, 404, 409, 422]
    assert codes["POST /v1/open"] == [400, 404, 409, 413, 422]
    assert codes["GET /healthz"] == [400]


async def test_a_405_allows_every_method_of_the_resource(client):
    response = await client.delete("/v1/things")
    assert response.status_code == 405
    assert response.headers["content-type"] == "application/problem+json"
    # Two routes of one resource: both methods, not only the first route's.
    assert response.headers["allow"] == "GET, PUT"
