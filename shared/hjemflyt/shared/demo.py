"""A synthetic demo municipality loaded through the public API, as a case system would.

Oslo-like: four districts, the municipal home-care units, two private providers under
framework agreements, and a few hundred persons with decisions. Nearly every person has a
completed assessment (home visit, IPLOS function scores, a goal) from before their decision,
so the year's IPLOS report has something to say about function; a few have none (the
completeness report shows them), and two decisions are appealed (one answered, one open).
Every identity number is a synthetic (Tenor, month + 80) number and every organisation
number starts with 3, a range Brønnøysund does not issue, so nothing here can be a real
person or company.
Deterministic for a given seed, and safe to run twice (it stops if persons exist).
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import httpx

from hjemflyt.shared.contracts.iplos import code_list
from hjemflyt.shared.identity import synthetic_identity_numbers
from hjemflyt.shared.platform.auth import Role
from hjemflyt.shared.platform.clock import OSLO
from hjemflyt.shared.platform.devissuer import DevIssuer

log = logging.getLogger(__name__)

DISTRICTS = {
    "gamle-oslo": ("Bydel Gamle Oslo", "trust_model"),
    "grunerlokka": ("Bydel Grünerløkka", "trust_model"),
    "frogner": ("Bydel Frogner", "purchaser_provider"),
    "nordstrand": ("Bydel Nordstrand", "professional_freedom"),
}


def _org(prefix: str) -> str:
    """A valid organisation number (mod 11) from an 8-digit body starting with 3."""
    weights = (3, 2, 7, 6, 5, 4, 3, 2)
    for tail in range(100):
        body = f"{prefix}{tail:02d}"[:8]
        rest = 11 - sum(int(d) * w for d, w in zip(body, weights, strict=True)) % 11
        if rest == 11:
            return body + "0"
        if rest != 10:
            return body + str(rest)
    raise ValueError(prefix)


@dataclass(frozen=True)
class DemoProvider:
    org: str
    name: str
    kind: str
    services: tuple[str, ...]
    districts: tuple[str, ...]


PROVIDERS = (
    DemoProvider(_org("310000"), "Hjemmetjenesten Gamle Oslo og Grünerløkka", "municipal",
                 ("1", "2", "6", "15"), ("gamle-oslo", "grunerlokka")),
    DemoProvider(_org("310001"), "Hjemmetjenesten Frogner og Nordstrand", "municipal",
                 ("1", "2", "6", "15"), ("frogner", "nordstrand")),
    DemoProvider(_org("320000"), "Omsorgspartner Demo AS", "private", ("1", "15"), tuple(DISTRICTS)),
    DemoProvider(_org("320001"), "Hjemmehjelp Eksempel AS", "private", ("1",), ("gamle-oslo", "frogner")),
)  # fmt: skip

CASE_OFFICERS = {d: f"saksbehandler-{d}" for d in DISTRICTS}

FIRST = ("Kari", "Ola", "Ingrid", "Per", "Astrid", "Knut", "Solveig", "Arne", "Randi", "Bjørn", "Liv", "Odd",
         "Marit", "Terje", "Aud", "Svein", "Gunn", "Rolf", "Berit", "Nils")  # fmt: skip
LAST = ("Nordmann", "Hansen", "Johansen", "Olsen", "Larsen", "Andersen", "Pedersen", "Nilsen", "Kristiansen",
        "Jensen", "Karlsen", "Berg", "Haugen", "Hagen", "Bakke", "Dahl")  # fmt: skip
STREETS = ("Eksempelveien", "Demogata", "Testbakken", "Prøvestien", "Fiktivgata", "Modellveien")


def _hours(rng: random.Random) -> Decimal:
    """Decided hours per month shaped like Stavanger 2021: most users under 20 h."""
    roll = rng.random()
    if roll < 0.85:
        return Decimal(rng.randint(2, 19))
    if roll < 0.95:
        return Decimal(rng.randint(20, 39))
    if roll < 0.99:
        return Decimal(rng.randint(40, 99))
    return Decimal(rng.randint(100, 160))


MEASURES = {
    "home-nursing": [("Oppfølging av faste medisiner", 2, "day", 10), ("Sårstell", 2, "week", 20)],
    "practical-help": [("Rengjøring av bolig", 1, "week", 90), ("Handlehjelp", 1, "week", 45)],
    "personal-care": [("Hjelp til dusj", 2, "week", 30)],
}


# The share of persons the demo gives a completed assessment (IPLOS function scores).
ASSESSED_SHARE = 0.95
APPEALS = 2  # the first decisions of the load are appealed: one answered, one still open


def assessment_body(person_id: str, scores: dict[str, int], *, visit: date) -> dict[str, object]:
    """A complete assessment as a case system sends it: the home visit, who took part, what
    matters to the person, a goal with a follow-up date, a score for every variable."""
    return {
        "person_id": person_id,
        "visit_date": visit.isoformat(),
        "participants": [{"role": "person"}, {"role": "case_officer"}],
        "what_matters": "Å kunne bo hjemme og klare morgenstellet selv.",
        "goals": [
            {"text": "Gå tur til butikken", "follow_up_date": (visit + timedelta(weeks=8)).isoformat()}
        ],
        "scores": scores,
    }


def decision_body(
    person_id: str,
    services: Sequence[tuple[str, str | Decimal, str | None]],
    *,
    start: date,
    make: bool = True,
    organisation_model: str = "trust_model",
    evaluation_days: int = 60,
    **extra: object,
) -> dict[str, object]:
    """A complete decision as a case system sends it: (service type, hours per month, provider)."""
    minutes = organisation_model == "purchaser_provider"
    return {
        "person_id": person_id,
        "make": make,
        "justification": "Du har etter hjemmebesøket behov for hjelp for å klare deg trygt hjemme "
        "(helse- og omsorgstjenesteloven § 3-2). Vi har lagt vekt på det du selv sa om hverdagen din.",
        "user_goal": "Du sa at det er viktig for deg å kunne bo hjemme og gå tur med hunden.",
        "start_date": start.isoformat(),
        "evaluation_date": (start + timedelta(days=evaluation_days)).isoformat(),
        "services": [
            {
                "service_type": service_type,
                "scope_kind": "minutes_per_measure" if minutes else "hours_per_month",
                **({} if minutes else {"hours_per_month": str(hours)}),
                "provider_org": provider,
                "measures": [
                    {"description": d, "times": t, "per": p, **({"minutes": m} if minutes else {})}
                    for d, t, p, m in MEASURES.get(service_type, [("Oppfølging", 1, "week", 30)])
                ],
            }
            for service_type, hours, provider in services
        ],
        **extra,
    }


async def _system_today(client: httpx.AsyncClient) -> date:
    """The services' legal date: their (possibly shifted) clock where development clock control
    shows it, else the system clock, in Oslo either way."""
    r = await client.get("/assessment/_dev/clock")
    now = datetime.fromisoformat(r.json()["now"]) if r.status_code == 200 else datetime.now(UTC)  # noqa: TID251 - a stack without clock control
    return now.astimezone(OSLO).date()


async def load_demo(
    base_url: str, issuer: DevIssuer, *, persons: int = 300, seed: int = 2026
) -> dict[str, int]:
    rng = random.Random(seed)
    integration = {"Authorization": f"Bearer {issuer.token(role=Role.integration, subject='demo-loader')}"}
    async with httpx.AsyncClient(base_url=base_url, timeout=30.0, headers=integration) as client:
        existing = await client.get("/assessment/v1/persons", params={"limit": 1})
        existing.raise_for_status()
        if existing.json()["items"]:
            log.info("demo data already present; not loading again")
            return {"persons": 0, "decisions": 0}

        r = await client.post("/assessment/v1/config/presets/oslo")
        r.raise_for_status()
        # Districts of one city organise differently: the preset's trust model, changed for two.
        for code, (name, model) in DISTRICTS.items():
            r = await client.put(
                f"/assessment/v1/districts/{code}",
                json={
                    "name": name,
                    "organisation_model": model,
                    "case_office": f"Tildelingskontoret, {name}",
                },
            )
            r.raise_for_status()
        for p in PROVIDERS:
            r = await client.put(
                f"/notifications/v1/providers/{p.org}",
                json={
                    "name": p.name,
                    "kind": p.kind,
                    "service_codes": list(p.services),
                    "districts": list(p.districts),
                },
            )
            r.raise_for_status()
        # The provider registry reaches assessment as events: wait until it knows them all.
        for _ in range(300):
            known = {p["provider_org"] for p in (await client.get("/assessment/v1/providers")).json()}
            if known >= {p.org for p in PROVIDERS}:
                break
            await asyncio.sleep(0.1)
        else:
            raise RuntimeError("assessment never learned of the demo providers")

        numbers = synthetic_identity_numbers(persons, seed=seed)
        semaphore = asyncio.Semaphore(16)
        today = await _system_today(client)

        decisions: dict[int, str] = {}

        async def one(i: int, number: str) -> None:
            district = rng.choice(list(DISTRICTS))
            body = {
                "identity_number": number,
                "name": f"{rng.choice(FIRST)} {rng.choice(LAST)}",
                "address": f"{rng.choice(STREETS)} {rng.randint(1, 120)}, 0{rng.randint(150, 199)} Oslo",
                "phone": f"4{rng.randint(1000000, 9999999)}",
                "district": district,
            }
            choices = [p for p in PROVIDERS if district in p.districts]
            services = []
            for service_type in rng.sample(["home-nursing", "practical-help"], k=rng.choice([1, 1, 2])):
                iplos = "15" if service_type == "home-nursing" else "1"
                provider = rng.choice([p for p in choices if iplos in p.services]).org
                services.append((service_type, _hours(rng), provider))
            start = today - timedelta(days=rng.randint(0, 300))
            # The home visit comes before the services start (drawn here, before any await, so
            # the load stays deterministic for its seed).
            assessed = rng.random() < ASSESSED_SHARE
            visit = start - timedelta(days=rng.randint(1, 21))
            scores = {k: rng.choice([1, 1, 2, 2, 3, 3, 4, 5, 9]) for k in code_list().keys}
            decision = decision_body(
                "", services, start=start, organisation_model=DISTRICTS[district][1],
                evaluation_days=rng.choice([60, 180, 365]),
            )  # fmt: skip
            async with semaphore:
                r = await client.post(
                    "/assessment/v1/persons", json=body, headers={"Idempotency-Key": f"demo-person-{i}"}
                )
                r.raise_for_status()
                decision["person_id"] = person_id = r.json()["id"]
                if assessed:
                    r = await client.post(
                        "/assessment/v1/assessments",
                        json=assessment_body(person_id, scores, visit=visit),
                        headers={"Idempotency-Key": f"demo-assessment-{i}"},
                    )
                    r.raise_for_status()
                    decision["assessment_id"] = assessment_id = r.json()["id"]
                    r = await client.post(
                        f"/assessment/v1/assessments/{assessment_id}/complete",
                        headers={"Idempotency-Key": f"demo-assessment-complete-{i}"},
                    )
                    r.raise_for_status()
                r = await client.post(
                    "/assessment/v1/decisions",
                    json=decision,
                    headers={"Idempotency-Key": f"demo-decision-{i}"},
                )
                r.raise_for_status()
                decision_id = decisions[i] = r.json()["id"]
                # Most letters have gone out and the services have started; a few are just made.
                if rng.random() < 0.9:
                    (await client.post(f"/assessment/v1/decisions/{decision_id}/send")).raise_for_status()
                    (await client.post(f"/assessment/v1/decisions/{decision_id}/activate")).raise_for_status()

        await asyncio.gather(*(one(i, n) for i, n in enumerate(numbers)))
        appeals = await _appeals(client, [decisions[i] for i in sorted(decisions)][:APPEALS], today)
    return {"persons": persons, "decisions": persons, "appeals": appeals}


async def _appeals(client: httpx.AsyncClient, decision_ids: Sequence[str], today: date) -> int:
    """The first decision's appeal is upheld by the municipality and by the appeal body (answered
    today); the second is received and waits to be re-assessed."""
    for n, decision_id in enumerate(decision_ids):
        r = await client.post(
            "/assessment/v1/appeals",
            json={
                "decision_id": decision_id,
                "received_date": today.isoformat(),
                "grounds": "Jeg trenger mer hjelp enn vedtaket gir, særlig om morgenen.",
            },
            headers={"Idempotency-Key": f"demo-appeal-{n}"},
        )
        r.raise_for_status()
        if n % 2:
            continue
        appeal_id = r.json()["id"]
        (await client.post(f"/assessment/v1/appeals/{appeal_id}/reassess")).raise_for_status()
        r = await client.post(
            f"/assessment/v1/appeals/{appeal_id}/municipality-decision",
            json={
                "outcome": "upheld",
                "reasoning": "Vedtaket gir den hjelpen behovet tilsier.",
                "decided_date": today.isoformat(),
            },
        )
        r.raise_for_status()
        r = await client.post(
            f"/assessment/v1/appeals/{appeal_id}/final-outcome",
            json={"outcome": "upheld", "decided_date": today.isoformat()},
        )
        r.raise_for_status()
    return len(decision_ids)
