"""KOSTRA figures from the population and what the rule set in force gives. Pure: no IO.

Cost here is what the rule set in force gives per person for a year, not the accounts:

- levels: the annual amount of the person's band (weighted decided hours);
- hourly: decided hours * 12 * the contract price per hour; 0, flagged, when no price is known;
- frame: the unit's frame split over its persons in proportion to their decided hours;
- activity, or a unit no part applies to: 0, flagged.

(`hjemflyt.budget.simulations.rules.fund` works these out.) A person's cost is split over
the KOSTRA functions of their services in proportion to the decided hours of each (to the
øre). Users are persons with decided hours at a chosen provider on the date; a person at two
units is one user of each unit and one user of the municipality.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from hjemflyt.budget.financing.rules import apportion
from hjemflyt.budget.hours.rules import PersonAtUnit
from hjemflyt.budget.simulations.rules import Funding

AGE_BANDS = ("0-66", "67-79", "80+")
UNKNOWN_AGE = "unknown"
UNMAPPED = "unmapped"

# DOMAIN § 6: 254 care at home (practical help, training, BPA, home nursing, respite outside
# institutions, care allowance), 234 activation and services (day activity, meals, safety
# alarm, support contact), 253 care in institutions.
DEFAULT_FUNCTIONS: dict[str, str] = {
    "1": "254",
    "2": "254",
    "3": "254",
    "7": "254",
    "11": "254",
    "15": "254",
    "4": "234",
    "5": "234",
    "6": "234",
    "9": "234",
    "21": "253",
}


def per_user(cost_ore: int, users: int) -> int | None:
    return None if users == 0 else int((Decimal(cost_ore) / users).quantize(Decimal(1), ROUND_HALF_UP))


def per_thousand(users: int, inhabitants: int) -> Decimal | None:
    if inhabitants == 0:
        return None
    return (Decimal(users) * 1000 / inhabitants).quantize(Decimal("0.01"), ROUND_HALF_UP)


@dataclass
class Tally:
    cost_ore: int = 0
    users: set[uuid.UUID] = field(default_factory=set)


@dataclass
class UnitFigures:
    provider_org: str
    kind: str
    total: Tally = field(default_factory=Tally)
    functions: dict[str, Tally] = field(default_factory=dict)


@dataclass
class DistrictFigures:
    district: str
    total: Tally = field(default_factory=Tally)
    users_by_age_band: dict[str, set[uuid.UUID]] = field(default_factory=dict)


@dataclass
class Figures:
    functions: dict[str, Tally]
    units: list[UnitFigures]
    districts: list[DistrictFigures]
    total: Tally
    users_by_age_band: dict[str, set[uuid.UUID]]
    flagged: dict[str, int]


def figures(
    population: Sequence[PersonAtUnit],
    fundings: Sequence[Funding],
    functions: Mapping[str, str],
    age_bands: Mapping[uuid.UUID, str | None],
) -> Figures:
    """Cost and users per KOSTRA function, per unit, per district and for the municipality."""
    by_function: dict[str, Tally] = {}
    units: dict[str, UnitFigures] = {}
    districts: dict[str, DistrictFigures] = {}
    total = Tally()
    by_band: dict[str, set[uuid.UUID]] = {}
    flagged: dict[str, int] = {}
    for person, funding in zip(population, fundings, strict=True):
        pid = person.person_id
        hours_per_function: dict[str, Decimal] = {}
        for code, hours in person.hours_by_code.items():
            fn = functions.get(code, UNMAPPED)
            hours_per_function[fn] = hours_per_function.get(fn, Decimal(0)) + hours
        split = apportion(funding.annual_ore, hours_per_function)
        unit = units.get(person.provider_org)
        if unit is None:
            unit = units[person.provider_org] = UnitFigures(person.provider_org, person.kind)
        district = districts.get(person.district)
        if district is None:
            district = districts[person.district] = DistrictFigures(person.district)
        for fn, cost in split.items():
            for tally in (by_function.setdefault(fn, Tally()), unit.functions.setdefault(fn, Tally())):
                tally.cost_ore += cost
                tally.users.add(pid)
        for tally in (unit.total, district.total, total):
            tally.cost_ore += funding.annual_ore
            tally.users.add(pid)
        band = age_bands.get(pid) or UNKNOWN_AGE
        by_band.setdefault(band, set()).add(pid)
        district.users_by_age_band.setdefault(band, set()).add(pid)
        if funding.note:
            flagged[funding.note] = flagged.get(funding.note, 0) + 1
    return Figures(
        functions=dict(sorted(by_function.items())),
        units=sorted(units.values(), key=lambda u: u.provider_org),
        districts=sorted(districts.values(), key=lambda d: d.district),
        total=total,
        users_by_age_band=by_band,
        flagged=flagged,
    )
