"""One case through the whole assessment service, as the municipality works it, with the
other services watching: a GP's referral, the application, the home visit, the decision,
the provider choice, an appeal upheld by the municipality and forwarded to
Statsforvalteren, and finally a reduction made as a new decision that supersedes the old.

Every step must reach the person's timeline in the pathway service as an event, and the
decided hours in budget must follow the decisions.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from hjemflyt.shared.demo import decision_body
from hjemflyt.shared.identity import synthetic_identity_numbers
from hjemflyt.shared.platform.auth import Role
from hjemflyt.shared.testing import eventually
from tests.system import PROVIDER_A, Actor, all_orders, configure_municipality, legal_today

pytestmark = pytest.mark.system


async def test_referral_to_appeal_and_amendment_seen_by_every_service(stack):
    async with (
        Actor(stack, Role.integration) as integration,
        Actor(stack, Role.case_officer, districts=["frogner"], subject="saksbehandler-frogner") as officer,
        Actor(stack, Role.manager) as manager,
        Actor(stack, Role.provider, provider_org=PROVIDER_A) as provider,
    ):
        await configure_municipality(integration)
        number = next(iter(synthetic_identity_numbers(1, seed=99)))
        r = await officer.post(
            "/assessment/v1/persons",
            json={
                "identity_number": number,
                "name": "Astrid Hansen",
                "address": "Demogata 3, 0268 Oslo",
                "district": "frogner",
            },
        )
        assert r.status_code == 201, r.text
        person_id = r.json()["id"]

        # 1. The GP refers; the case officer registers an application from it.
        r = await officer.post(
            "/assessment/v1/referrals",
            json={
                "source": "gp",
                "person_id": person_id,
                "summary": "Trenger hjelp med medisiner etter fall.",
                "requested_services": ["home-nursing"],
                "sender_name": "Fastlege Demo",
            },
        )
        assert r.status_code == 201, r.text
        referral_id = r.json()["id"]
        r = await officer.post(
            "/assessment/v1/applications",
            json={
                "person_id": person_id,
                "referral_id": referral_id,
                "description": "Søknad om hjemmesykepleie.",
            },
        )
        assert r.status_code == 201, r.text
        application = r.json()

        # 2. The home visit: every IPLOS variable scored, and what matters to her.
        variables = (await officer.get("/assessment/v1/iplos/function-variables")).json()["variables"]
        today = await legal_today(officer)
        r = await officer.post(
            "/assessment/v1/assessments",
            json={
                "person_id": person_id,
                "application_id": application["id"],
                "visit_date": today.isoformat(),
                "participants": [{"role": "person"}, {"role": "nurse", "name": "Sykepleier Demo"}],
                "home_situation": "Bor alene i 3. etasje uten heis.",
                "what_matters": "Å klare meg selv og gå tur hver dag.",
                "goals": [
                    {
                        "text": "Gå tur til butikken selv",
                        "follow_up_date": (today + timedelta(days=60)).isoformat(),
                    }
                ],
                "scores": {v["key"]: 2 for v in variables},
            },
        )
        assert r.status_code == 201, r.text
        assessment = r.json()
        r = await officer.post(f"/assessment/v1/assessments/{assessment['id']}/complete")
        assert r.status_code == 200, r.text

        # 3. The decision, made and sent; the provider is chosen afterwards (brukervalg).
        start = today + timedelta(days=1)
        body = decision_body(
            person_id,
            [("home-nursing", "20", None)],
            start=start,
            application_id=application["id"],
            assessment_id=assessment["id"],
        )
        r = await officer.post("/assessment/v1/decisions", json=body)
        assert r.status_code == 201, r.text
        decision = r.json()
        r = await officer.post(f"/assessment/v1/decisions/{decision['id']}/send")
        assert r.status_code == 200, r.text
        assert (await officer.get(f"/assessment/v1/applications/{application['id']}")).json()[
            "status"
        ] == "decided"
        r = await officer.post(
            f"/assessment/v1/decisions/{decision['id']}/provider-choices",
            json={
                "service_type": "home-nursing",
                "informed_date": today.isoformat(),
                "provider_org": PROVIDER_A,
                "chosen_by": "person",
            },
        )
        assert r.status_code == 200, r.text
        letter = await officer.get(f"/assessment/v1/decisions/{decision['id']}/letter")
        assert letter.status_code == 200
        assert "Astrid Hansen" in letter.text

        # 4. She appeals; the municipality upholds and forwards; Statsforvalteren upholds.
        r = await officer.post(
            "/assessment/v1/appeals", json={"decision_id": decision["id"], "grounds": "For lite hjelp."}
        )
        assert r.status_code == 201, r.text
        appeal = r.json()
        assert appeal["late"] is False
        assert (await officer.post(f"/assessment/v1/appeals/{appeal['id']}/reassess")).status_code == 200
        r = await officer.post(
            f"/assessment/v1/appeals/{appeal['id']}/municipality-decision",
            json={"outcome": "upheld", "reasoning": "Behovet er dekket.", "decided_date": today.isoformat()},
        )
        assert r.status_code == 200, r.text
        assert r.json()["status"] == "forwarded"
        r = await officer.post(
            f"/assessment/v1/appeals/{appeal['id']}/final-outcome",
            json={"outcome": "upheld", "decided_date": today.isoformat()},
        )
        assert r.status_code == 200, r.text

        # 5. Her need falls: a reduction cannot be an edit (§ 35) ...
        current = (await officer.get(f"/assessment/v1/decisions/{decision['id']}")).json()
        fewer = decision_body(person_id, [("home-nursing", "12", PROVIDER_A)], start=start)["services"]
        r = await officer.patch(
            f"/assessment/v1/decisions/{decision['id']}",
            json={"services": fewer},
            headers={"If-Match": f'"{current["version"]}"'},
        )
        assert r.status_code == 409, r.text
        # ... so it is a new decision that supersedes the old one.
        new_body = decision_body(
            person_id,
            [("home-nursing", "12", PROVIDER_A)],
            start=start + timedelta(days=30),
            supersedes_id=decision["id"],
        )
        r = await officer.post("/assessment/v1/decisions", json=new_body)
        assert r.status_code == 201, r.text
        new_decision = r.json()
        old = (await officer.get(f"/assessment/v1/decisions/{decision['id']}")).json()
        assert old["status"] == "ended"
        assert old["end_reason"] == "superseded"

        # Every step reached the pathway service as an event.
        expected = {
            "referral-received": 1,
            "application-registered": 1,
            "assessment-completed": 1,
            "decision-made": 2,
            "provider-chosen": 1,
            "appeal-received": 1,
            "appeal-decided": 2,
            "decision-ended": 1,
        }

        async def on_timeline():
            r = await officer.get(f"/pathway/v1/persons/{person_id}/timeline")
            assert r.status_code == 200
            kinds = [e["kind"] for e in r.json()["entries"]]
            assert {k: kinds.count(k) for k in expected} == expected
            assert kinds.count("order-created") >= 2

        await eventually(on_timeline, seconds=45)

        # Budget counts the new decision's 12 hours, not the superseded 20.
        async def in_budget():
            r = await manager.get(f"/budget/v1/persons/{person_id}/hours")
            assert r.status_code == 200
            assert [(h["decision_id"], h["hours_per_month"]) for h in r.json()] == [
                (new_decision["id"], "12.00")
            ]

        await eventually(in_budget, seconds=45)

        # The provider got an order for each decision, and an ended order for the superseded one.
        async def ordered():
            kinds = sorted(
                (o["decision_id"] == decision["id"], o["kind"]) for o in await all_orders(provider)
            )
            assert (True, "new") in kinds
            assert (True, "ended") in kinds
            assert (False, "new") in kinds

        await eventually(ordered, seconds=45)
