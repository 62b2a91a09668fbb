"""Issue 14's list of inputs that reached a 500 or were accepted although absurd: each is now
a 4xx problem+json naming the rule, on the services in-process, with the error's location.
The whole list, the gateway's items included, goes through the gateway and the services as
processes in test_issue_14_gateway.py."""

from __future__ import annotations

import uuid

from hjemflyt.assessment.main import create_app as assessment_app
from hjemflyt.budget.main import create_app as budget_app
from hjemflyt.notifications.main import create_app as notifications_app
from hjemflyt.shared.platform.auth import Role
from hjemflyt.shared.testing import auth, running_service, suite_today

PROBLEMS = "https://hjemflyt.no/problems/"


def refused(response, status: int, slug: str, location: list | None = None) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["type"] == PROBLEMS + slug, body.get("errors", body)
    if location is not None:
        assert [e["location"] for e in body["errors"]] == [location], body


async def test_budget_year_beyond_32_bits_and_a_population_without_inhabitants(settings, issuer):
    manager = auth(issuer, Role.manager)
    async with running_service(budget_app, settings) as client:
        r = await client.get("/v1/allocations?year=2147483648", headers=manager)
        refused(r, 422, "date-out-of-range", ["query", "year"])
        r = await client.get("/v1/decided-vs-delivered?month=0000-01", headers=manager)
        refused(r, 422, "validation-error")
        r = await client.put(
            f"/v1/population/{suite_today().year}",
            json={"districts": [{"district": "Sentrum", "inhabitants": {}}]},
            headers=manager,
        )
        refused(r, 422, "validation-error")


async def test_assessment_absurd_dates_and_amounts(settings, issuer):
    integration = auth(issuer, Role.integration)
    async with running_service(assessment_app, settings) as client:
        person = str(uuid.uuid4())
        r = await client.post(
            "/v1/decisions", json={"person_id": person, "start_date": "0001-01-01"}, headers=integration
        )
        refused(r, 422, "date-out-of-range", ["body", "start_date"])
        r = await client.post(
            "/v1/decisions",
            json={"person_id": person, "start_date": str(suite_today()), "evaluation_date": "9999-12-31"},
            headers=integration,
        )
        refused(r, 422, "date-out-of-range", ["body", "evaluation_date"])
        r = await client.put(
            "/v1/config/copayment-bands",
            json=[
                {
                    "valid_from": "2026-01-01",
                    "income_min_g": "0",
                    "hourly_price_ore": 10**40,
                    "max_per_month_ore": 0,
                }
            ],
            headers=integration,
        )
        refused(r, 422, "amount-out-of-range", ["body", 0, "hourly_price_ore"])
        r = await client.post(
            "/v1/decisions",
            json={"person_id": person, "justification": "bell\u0007"},
            headers=integration,
        )
        refused(r, 422, "control-character", ["body", "justification"])


async def test_notifications_position_beyond_64_bits(settings, issuer):
    provider = auth(issuer, Role.provider, provider_org="999999999")
    async with running_service(notifications_app, settings) as client:
        r = await client.get("/v1/inbox?after=9223372036854775808", headers=provider)
        refused(r, 422, "number-out-of-range", ["query", "after"])


async def test_what_the_schema_states_and_no_more(settings, issuer):
    """What schemathesis's `unsupported_method` and `negative_data_rejection` checks ask:
    a literal path beside a template answers an undeclared method with 405 and `Allow`, an
    id that is no UUID is named, and no lax reading of what the schema does not allow."""
    integration = auth(issuer, Role.integration)
    async with running_service(assessment_app, settings) as client:
        r = await client.get("/v1/persons/lookup", headers=integration)
        refused(r, 405, "method-not-allowed")
        assert r.headers["allow"] == "POST"
        r = await client.get("/v1/persons/not-a-uuid", headers=integration)
        refused(r, 422, "validation-error", ["path", "person_id"])
        body = {"person_id": str(uuid.uuid4()), "start_date": 0}
        r = await client.post("/v1/decisions", json=body, headers=integration)
        refused(r, 422, "validation-error", ["body", "start_date"])
    async with running_service(notifications_app, settings) as client:
        r = await client.get("/v1/adjustments?since=0.5", headers=integration)
        refused(r, 422, "validation-error", ["query", "since"])
        r = await client.get("/v1/adjustments?since=2026-01-31T12:00:00%2B01:00", headers=integration)
        assert r.status_code == 200, r.text
