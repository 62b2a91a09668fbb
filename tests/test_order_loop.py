"""The loop between the case office and the provider, closed at both ends (issue 12).

The four services and the gateway run as processes; the provider is the reference client
(a webhook receiver that checks every signature, and the API client). For each organisation
model a case officer makes a decision with coded measures, and the provider's webhook gets an
order holding every decided field. The provider adjusts inside the trust model's frame (logged)
and outside it (refused, pointed to a change-of-need report); the case office overrules the
adjustment and the provider is told. Visits above the decision show against it and reach the
case office's worklist; a detrimental edit is refused; a decision becomes active on its start
date and expires after its end date by the services' clock, each time with the provider told.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime, time, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from hjemflyt_provider import ApiError, ProviderClient

from hjemflyt.shared.devstack import DevStack
from hjemflyt.shared.identity import synthetic_identity_numbers
from hjemflyt.shared.platform.auth import Role
from hjemflyt.shared.platform.clock import OSLO
from hjemflyt.shared.testing import eventually
from tests.conftest import fresh_stack
from tests.system import (
    PROVIDER_A,
    Actor,
    advance_days,
    configure_municipality,
    credentials,
    legal_today,
    next_message,
    received,
    webhook_receiver,
)

pytestmark = [pytest.mark.system, pytest.mark.calendar]

# One district per organisation model (DOMAIN § 2); frogner comes from configure_municipality.
DISTRICTS = {
    "purchaser_provider": ("gamle-oslo", "Bydel Gamle Oslo", "Tildelingskontoret Gamle Oslo"),
    "trust_model": ("frogner", "Bydel Frogner", "Forvaltning Frogner"),
    "professional_freedom": ("stovner", "Bydel Stovner", "Helse- og omsorgskontoret Stovner"),
}

# What each model writes: minutes per measure (norms from the catalogue where not given), a
# frame with minutes the provider plans by, hours per month.
SERVICES: dict[str, dict[str, Any]] = {
    "purchaser_provider": {
        "service_type": "home-nursing",
        "scope_kind": "minutes_per_measure",
        "measures": [
            {"code": "wound-care", "times": 3, "per": "week"},
            {
                "code": "give-medicines",
                "description": "Oppfølging av faste medisiner",
                "times": 1,
                "per": "day",
                "minutes": 10,
            },
        ],
    },
    "trust_model": {
        "service_type": "home-nursing",
        "scope_kind": "frame",
        "frame_min_hours": "10",
        "frame_max_hours": "20",
        "measures": [
            {"code": "wound-care", "times": 3, "per": "week", "minutes": 20},
            {"code": "shower", "times": 1, "per": "day", "minutes": 30},
        ],
    },
    "professional_freedom": {
        "service_type": "home-nursing",
        "hours_per_month": "4",
        "measures": [
            {"code": "supervision-visit", "times": 2, "per": "week"},
            {"description": "Samtale om hverdagen og målene dine", "times": 1, "per": "month"},
        ],
    },
}


@pytest.fixture(scope="module")
def stack() -> Iterator[DevStack]:
    # The decision sweep runs every second here (60 s by default), so activation and expiry
    # follow a moved clock within the test's patience.
    stack = fresh_stack("test_order_loop")
    stack.extra_env["HJEMFLYT_DECISION_SWEEP_SECONDS"] = "1"
    with stack as running:
        yield running


async def configure(integration: httpx.AsyncClient) -> None:
    await configure_municipality(integration)
    for model, (code, name, office) in DISTRICTS.items():
        r = await integration.put(
            f"/assessment/v1/districts/{code}",
            json={"name": name, "organisation_model": model, "case_office": office},
        )
        assert r.status_code == 200, r.text
    districts = sorted(code for code, _, _ in DISTRICTS.values())
    r = await integration.put(
        f"/notifications/v1/providers/{PROVIDER_A}",
        json={
            "name": "Omsorgspartner Demo AS",
            "kind": "private",
            "service_codes": ["1", "15"],
            "districts": districts,
        },
    )
    assert r.status_code in (200, 201), r.text

    async def serves_all() -> None:
        r = await integration.get("/assessment/v1/providers")
        (a,) = [p for p in r.json() if p["provider_org"] == PROVIDER_A]
        assert sorted(a["districts"]) == districts, a

    await eventually(serves_all, seconds=30)


def _hours(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def assert_order_is_the_decision(order: dict[str, Any], decision: dict[str, Any], office: str) -> None:
    """Every field the provider needs, as decided."""
    assert order["basis"] == "decision"
    assert order["decision_id"] == decision["id"]
    assert order["decision_version"] == decision["version"]
    for term in ("organisation_model", "decision_date", "start_date", "end_date", "evaluation_date"):
        assert order[term] == decision[term], term
    for term in ("purpose", "user_goal"):
        assert order[term], term
        assert order[term] == decision[term], term
    assert order["case_office_contact"] == office
    assert "routines" in order
    assert "pathway" in order
    decided = [
        s for s in decision["services"] if s["provider_org"] == PROVIDER_A and s["outcome"] != "refused"
    ]
    assert len(order["services"]) == len(decided)
    for sent, service in zip(order["services"], decided, strict=True):
        for field in ("service_type", "service_code", "outcome", "scope_kind"):
            assert sent[field] == service[field], field
        for field in ("hours_per_month", "frame_min_hours", "frame_max_hours"):
            assert _hours(sent[field]) == _hours(service[field]), field
        assert [
            (m["code"], m["description"], m["times"], m["per"], m["minutes"]) for m in sent["measures"]
        ] == [(m["code"], m["description"], m["times"], m["per"], m["minutes"]) for m in service["measures"]]


async def test_the_decision_reaches_the_provider_whole_and_the_work_comes_back(stack: DevStack) -> None:
    notifications = stack.base_url + "/notifications"
    districts = [code for code, _, _ in DISTRICTS.values()]
    async with (
        Actor(stack, Role.integration) as integration,
        Actor(stack, Role.case_officer, districts=districts) as officer,
        Actor(stack, Role.manager) as manager,
        webhook_receiver() as (receiver, hook_url),
    ):
        await configure(integration)
        r = await integration.put(f"/notifications/v1/providers/{PROVIDER_A}/webhook", json={"url": hook_url})
        assert r.status_code in (200, 201), r.text
        receiver.set_secrets([r.json()["secret"]])
        client_id, secret = await credentials(integration, PROVIDER_A)
        today = await legal_today(officer)
        numbers = iter(synthetic_identity_numbers(3, seed=1212))

        async with ProviderClient(notifications, client_id=client_id, client_secret=secret) as provider:
            # 1. A decision in each organisation model: the webhook's order is the decision.
            persons: dict[str, str] = {}
            decisions: dict[str, dict[str, Any]] = {}
            orders: dict[str, dict[str, Any]] = {}
            for model, (district, _, office) in DISTRICTS.items():
                r = await officer.post(
                    "/assessment/v1/persons",
                    json={
                        "identity_number": next(numbers),
                        "name": f"Person {model}",
                        "address": "Testveien 12",
                        "district": district,
                    },
                )
                assert r.status_code == 201, r.text
                person_id = persons[model] = r.json()["id"]
                r = await officer.post(
                    "/assessment/v1/decisions",
                    json={
                        "person_id": person_id,
                        "make": True,
                        "justification": "Du trenger hjelp for å bo trygt hjemme etter sykehusoppholdet.",
                        "purpose": "Tjenesten skal gjøre deg mest mulig selvhjulpen i hverdagen.",
                        "user_goal": "Du sa at det er viktig for deg å klare dusjen selv igjen.",
                        "start_date": today.isoformat(),
                        "end_date": (today + timedelta(days=30)).isoformat()
                        if model == "trust_model"
                        else None,
                        "evaluation_date": (today + timedelta(days=21)).isoformat(),
                        "services": [{**SERVICES[model], "provider_org": PROVIDER_A}],
                    },
                )
                assert r.status_code == 201, r.text
                decisions[model] = r.json()
                message = await next_message(receiver, person_id, "order.new")
                assert message["ack"]["required"] is True
                assert_order_is_the_decision(message["data"], decisions[model], office)
                orders[model] = message
                await provider.acknowledge(message["id"], accepted=True)
            # Minutes from the catalogue's norm where the purchaser-provider decision gave none.
            (pp,) = orders["purchaser_provider"]["data"]["services"]
            assert [m["minutes"] for m in pp["measures"]] == [20, 10]

            # 2. Adjustments: inside the frame logged, outside refused (to a change-of-need report).
            trust_order = orders["trust_model"]["order_id"]
            inside = await provider.log_adjustment(
                trust_order,
                adjustment_id="adj-1",
                service_type="home-nursing",
                measure={"code": "wound-care"},
                from_={"times": 3, "per": "week"},
                to={"times": 2},
                reason="Såret gror godt; to besøk i uka holder.",
            )
            assert inside["status"] == "in_force"
            assert Decimal(inside["planned_hours_after"]) < Decimal(inside["planned_hours_before"])
            again = await provider.log_adjustment(
                trust_order,
                adjustment_id="adj-1",
                service_type="home-nursing",
                measure={"code": "wound-care"},
                from_={"times": 3, "per": "week"},
                to={"times": 2},
                reason="Såret gror godt; to besøk i uka holder.",
            )
            assert again["id"] == inside["id"]
            with pytest.raises(ApiError) as refused:
                await provider.log_adjustment(
                    trust_order,
                    service_type="home-nursing",
                    measure={"code": "shower"},
                    to={"times": 2},
                    reason="Ønsker dusj morgen og kveld.",
                )
            assert refused.value.status == 422
            assert refused.value.problem["type"].endswith("adjustment-outside-decision"), (
                refused.value.problem
            )
            assert "change-of-need" in str(refused.value.problem)
            with pytest.raises(ApiError) as refused:
                await provider.log_adjustment(
                    orders["purchaser_provider"]["order_id"],
                    service_type="home-nursing",
                    measure={"code": "wound-care"},
                    to={"times": 2},
                    reason="Færre besøk.",
                )
            assert refused.value.problem["type"].endswith("change-notice-required"), refused.value.problem
            assert len((await provider.adjustments(trust_order))["items"]) == 1

            # The case office sees the log and overrules: the body with decision authority wins.
            r = await officer.get(
                "/notifications/v1/adjustments", params={"person_id": persons["trust_model"]}
            )
            assert r.status_code == 200, r.text
            (logged,) = r.json()["items"]
            assert logged["reason"] == "Såret gror godt; to besøk i uka holder."
            r = await officer.post(
                f"/notifications/v1/adjustments/{logged['id']}/overrule",
                json={
                    "reason": "Såret må følges tre ganger i uka til evalueringen.",
                    "decided_by": "unit_head",
                    "escalation_path": ["case_office", "unit_head"],
                },
            )
            assert r.status_code == 200, r.text
            overruled = await next_message(receiver, persons["trust_model"], "adjustment.overruled")
            assert overruled["data"]["reason"] == "Såret må følges tre ganger i uka til evalueringen."
            r = await officer.post(
                f"/notifications/v1/adjustments/{logged['id']}/overrule", json={"reason": "igjen"}
            )
            assert r.status_code == 409, r.text

            async def on_the_timeline() -> None:
                r = await officer.get(f"/pathway/v1/persons/{persons['trust_model']}/timeline")
                kinds = {e["kind"] for e in r.json()["entries"]}
                assert {"order-adjusted", "adjustment-overruled"} <= kinds, kinds

            await eventually(on_the_timeline, seconds=30)

            # 3. A detrimental edit of a running decision is refused; nothing changes.
            trust = (await officer.get(f"/assessment/v1/decisions/{decisions['trust_model']['id']}")).json()
            lower = {**SERVICES["trust_model"], "frame_min_hours": "5", "provider_org": PROVIDER_A}
            r = await officer.patch(
                f"/assessment/v1/decisions/{trust['id']}",
                json={"services": [lower]},
                headers={"If-Match": f'"{trust["version"]}"'},
            )
            assert r.status_code == 409, r.text
            assert r.json()["type"].endswith("reduction-requires-new-decision")
            assert any("frame_min_hours" in d or "minimum" in d for d in r.json()["detriments"]), r.json()
            r = await officer.get(f"/assessment/v1/decisions/{trust['id']}")
            assert r.json()["version"] == trust["version"]

            # 4. The letters go out; on the start date (today) the sweep activates each decision
            # and the provider hears that its order has started.
            for model, decision in decisions.items():
                current = (await officer.get(f"/assessment/v1/decisions/{decision['id']}")).json()
                r = await officer.post(
                    f"/assessment/v1/decisions/{decision['id']}/send",
                    headers={"If-Match": f'"{current["version"]}"'},
                )
                assert r.status_code == 200, r.text
                await next_message(receiver, persons[model], "order.started")

                async def active(decision_id: str = decision["id"]) -> None:
                    r = await officer.get(f"/assessment/v1/decisions/{decision_id}")
                    assert r.json()["status"] == "active", r.json()["status"]

                await eventually(active, seconds=30)

            # 5. Visits above the decision: six hours in a day against four hours a month.
            freedom_order = orders["professional_freedom"]["order_id"]
            await advance_days(integration, 2)
            day = datetime.combine(today + timedelta(days=1), time(8, 0), OSLO)
            visits = [
                {
                    "visit_id": f"pf-{i}",
                    "order_id": freedom_order,
                    "planned_start": (day + timedelta(hours=i)).isoformat(),
                    "planned_end": (day + timedelta(hours=i, minutes=60)).isoformat(),
                    "actual_start": (day + timedelta(hours=i)).isoformat(),
                    "actual_end": (day + timedelta(hours=i, minutes=60)).isoformat(),
                    "staff_id": "emp-3",
                    "measures_done": ["supervision-visit"],
                    "cancelled": False,
                }
                for i in range(6)
            ]
            await provider.upload_visits(str(uuid.uuid4()), visits)
            month = (today + timedelta(days=1)).strftime("%Y-%m")

            async def against_the_decision() -> dict[str, Any]:
                r = await manager.get(
                    "/budget/v1/decided-vs-delivered", params={"month": month, "district": "stovner"}
                )
                assert r.status_code == 200, r.text
                body = r.json()
                rows = body
                (row,) = [x for x in rows if x["person_id"] == persons["professional_freedom"]]
                assert Decimal(str(row["delivered_hours"])) == 6, row
                return dict(row)

            row = await eventually(against_the_decision, seconds=30)
            assert Decimal(str(row["decided_hours"])) <= 4
            assert "above_hours" in row["flags"], row
            done = {m["code"]: m for m in row["measures"]}
            assert done["supervision-visit"]["done_times"] == 6

            # 6. Time passes beyond the trust decision's end and the visits' month (and its days
            # of grace for late reports): the decision expires and the provider is told; the
            # month is judged and the flag is on the case office's worklist.
            await advance_days(integration, 40)
            ended = await next_message(receiver, persons["trust_model"], "order.ended")
            assert ended["data"]["end_reason"] == "expired", ended["data"]
            assert ended["data"]["end_date"] == (today + timedelta(days=30)).isoformat()

            async def expired() -> None:
                r = await officer.get(f"/assessment/v1/decisions/{decisions['trust_model']['id']}")
                assert (r.json()["status"], r.json()["end_reason"]) == ("ended", "expired"), r.json()

            await eventually(expired, seconds=30)

            async def flagged() -> None:
                r = await officer.get(
                    "/pathway/v1/worklists/districts/stovner", params={"kind": "delivery_flagged"}
                )
                assert r.status_code == 200, r.text
                body = r.json()
                items = body["items"]
                assert [i for i in items if i["person_id"] == persons["professional_freedom"]], items

            await eventually(flagged, seconds=45)

            # Every message to the provider came once, in order.
            for model in ("purchaser_provider", "professional_freedom"):
                kinds = [m["kind"] for m in received(receiver, persons[model])]
                assert kinds == ["order.new", "order.started"], (model, kinds)
            trust_kinds = [m["kind"] for m in received(receiver, persons["trust_model"])]
            assert trust_kinds == ["order.new", "adjustment.overruled", "order.started", "order.ended"], (
                trust_kinds
            )
