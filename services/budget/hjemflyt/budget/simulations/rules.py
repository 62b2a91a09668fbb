"""What a rule set gives each person, a simulation of one rule set against another, and the
persons near each band edge (the cliffs). Pure: no IO.

The amount per person ("funding") is what the part of the rule set that finances the
person's unit gives the person for a year:

- levels: the annual amount of the band the person's *weighted* decided hours fall in
  (skill-mix weights apply); focus funding above the top band needs actual hours and is
  not part of a simulation on decided hours;
- hourly: decided hours * 12 * the price per hour (the model's price for the IPLOS code,
  else the unit's contract price for it); hours without a known price count 0 and the
  person is flagged `unpriced`;
- frame: the unit's frame split over its persons in proportion to their decided hours
  (largest remainder, to the øre); a unit without a frame gets 0, flagged;
- activity: 0, flagged: it pays delivered measures, which decided hours do not give;
- a unit no part applies to: 0, flagged.
"""

from __future__ import annotations

import itertools
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from operator import attrgetter

from hjemflyt.budget.financing.rules import (
    MONTHS,
    ActivityModel,
    Band,
    FrameModel,
    HourlyModel,
    LevelsModel,
    Part,
    RuleSetBody,
    annual_ore,
    apportion,
    ore,
    weighted_hours,
)
from hjemflyt.budget.hours.rules import PersonAtUnit

ZERO = Decimal(0)
# Why a person's amount is 0 or short (a flag, not an error: the rest of the figures stand).
NO_PART = "no part of the rule set applies to this unit"
UNPRICED = "unpriced: no price per hour is known for some of the hours"
NO_FRAME = "no frame for this unit"
ACTIVITY = "activity model: pays delivered measures, which decided hours do not give"

UnitPrices = Mapping[str, Mapping[str, int]]  # provider_org -> IPLOS code -> øre per hour


@dataclass(frozen=True, slots=True)
class Funding:
    """What one rule set gives one person at one unit for a year. Under levels, everyone in a
    band shares one Funding object (a city's population is funded without an object each)."""

    model: str  # levels | hourly | frame | activity | none
    annual_ore: int
    level: str | None = None
    note: str | None = None


def person_hours(person: PersonAtUnit, weights: Mapping[str, Decimal]) -> Decimal:
    """The person's decided hours weighted by skill mix (without weights: a plain sum)."""
    if not weights:
        return sum(person.hours_by_code.values(), ZERO)
    return weighted_hours(person.hours_by_code, weights)


class _Levels:
    """A levels model with each band's amount worked out once, and bands found by bisection
    on their upper edges (hours < to_hours), not per person."""

    def __init__(self, model: LevelsModel) -> None:
        self.weights = model.skill_mix_weights
        # Validated bands: every band but the last has an upper edge.
        self.edges = [band.to_hours for band in model.bands[:-1] if band.to_hours is not None]
        self.fundings = [Funding("levels", annual_ore(model, band), band.level) for band in model.bands]

    def fund(self, person: PersonAtUnit) -> Funding:
        return self.fundings[bisect_right(self.edges, person_hours(person, self.weights))]


def weighted_for(body: RuleSetBody, person: PersonAtUnit) -> Decimal | None:
    """The hours the rule set places the person in a band by; None if not under levels."""
    part = body.part_for(person.provider_org, person.kind)
    if part is None or not isinstance(part.financing, LevelsModel):
        return None
    return person_hours(person, part.financing.skill_mix_weights)


def prices_by_code(prices: Mapping[str, int], codes_of_type: Mapping[str, set[str]]) -> dict[str, int]:
    """A unit's contract prices, which agreements key by service type, keyed by IPLOS code
    (decided hours count by code). A key that is no known type is taken as a code. A code two
    types with different prices share is left out: its hours are flagged unpriced rather
    than priced at a guess."""
    by_code: dict[str, int] = {}
    ambiguous: set[str] = set()
    for key, price in sorted(prices.items()):
        for code in codes_of_type.get(key) or {key}:
            if by_code.setdefault(code, price) != price:
                ambiguous.add(code)
    return {code: price for code, price in by_code.items() if code not in ambiguous}


def prices_needed(*bodies: RuleSetBody) -> bool:
    """Whether any part is hourly purchase (else the contract prices need not be read)."""
    return any(isinstance(p.financing, HourlyModel) for body in bodies for p in body.parts)


def _hourly(model: HourlyModel, person: PersonAtUnit, unit_prices: UnitPrices) -> Funding:
    prices = unit_prices.get(person.provider_org, {})
    total, unpriced = ZERO, False
    for code, hours in person.hours_by_code.items():
        price = model.prices_ore_per_hour.get(code, prices.get(code))
        if price is None:
            unpriced = True
            continue
        total += hours * price
    return Funding("hourly", ore(total * MONTHS), note=UNPRICED if unpriced else None)


def plain_hours(population: Sequence[PersonAtUnit]) -> list[Decimal]:
    """Each person's decided hours, unweighted (worked out once for both rule sets)."""
    return [sum(p.hours_by_code.values(), ZERO) for p in population]


def fund(
    body: RuleSetBody,
    population: Sequence[PersonAtUnit],
    unit_prices: UnitPrices | None = None,
    unweighted: Sequence[Decimal] | None = None,
) -> list[Funding]:
    """What `body` gives each person of `population`, in the same order. `unweighted`:
    `plain_hours(population)` if the caller has it."""
    prices = unit_prices or {}
    out: list[Funding | None] = [None] * len(population)
    # The persons of each (unit, kind), so each part and model is found once, not per person.
    groups: dict[tuple[str, str], list[int]] = {}
    for i, person in enumerate(population):
        groups.setdefault((person.provider_org, person.kind), []).append(i)
    levels: dict[int, _Levels] = {}
    framed: dict[tuple[int, str], list[int]] = {}  # (part, unit) -> indexes of its persons
    for (org, kind), rows in groups.items():
        part = body.part_for(org, kind)
        if part is None:
            for i in rows:
                out[i] = Funding("none", 0, note=NO_PART)
            continue
        model = part.financing
        if isinstance(model, LevelsModel):
            engine = levels.get(id(part))
            if engine is None:
                engine = levels[id(part)] = _Levels(model)
            _fund_on_levels(engine, rows, population, unweighted, out)
        elif isinstance(model, HourlyModel):
            for i in rows:
                out[i] = _hourly(model, population[i], prices)
        elif isinstance(model, FrameModel):
            framed.setdefault((id(part), org), []).extend(rows)
        else:
            assert isinstance(model, ActivityModel)
            for i in rows:
                out[i] = Funding("activity", 0, note=ACTIVITY)
    _fund_frames(body, framed, population, out)
    assert all(f is not None for f in out)
    return out  # type: ignore[return-value]


def _fund_on_levels(
    engine: _Levels,
    rows: list[int],
    population: Sequence[PersonAtUnit],
    unweighted: Sequence[Decimal] | None,
    out: list[Funding | None],
) -> None:
    """The persons `rows` of one levels part: by their plain hours when the part weighs no skill mix."""
    if unweighted is not None and not engine.weights:
        edges, fundings = engine.edges, engine.fundings
        for i in rows:
            out[i] = fundings[bisect_right(edges, unweighted[i])]
    else:
        for i in rows:
            out[i] = engine.fund(population[i])


def _fund_frames(
    body: RuleSetBody,
    framed: dict[tuple[int, str], list[int]],
    population: Sequence[PersonAtUnit],
    out: list[Funding | None],
) -> None:
    """Each framed unit's frame shared among its persons by their hours (none set: 0 each)."""
    by_id = {id(p): p for p in body.parts}
    for (part_id, org), members in framed.items():
        frame_model = by_id[part_id].financing
        assert isinstance(frame_model, FrameModel)
        frame = frame_model.frames_ore.get(org)
        if frame is None:
            for i in members:
                out[i] = Funding("frame", 0, note=NO_FRAME)
            continue
        shares = apportion(frame, {i: population[i].hours for i in members})
        for i in members:
            out[i] = Funding("frame", shares[i])


# --- simulation -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PersonOutcome:
    person: PersonAtUnit
    before: Funding
    after: Funding

    @property
    def difference_ore(self) -> int:
        return self.after.annual_ore - self.before.annual_ore


@dataclass(slots=True)
class UnitOutcome:
    provider_org: str
    kind: str
    persons: int = 0
    before_ore: int = 0
    after_ore: int = 0

    @property
    def difference_ore(self) -> int:
        return self.after_ore - self.before_ore


@dataclass
class Simulation:
    """Both rule sets' amounts for every person; gainers and losers are kept as positions in
    the population, and outcome objects are made only for what is read (a page)."""

    population: Sequence[PersonAtUnit]
    before: list[Funding]
    after: list[Funding]
    units: list[UnitOutcome]
    levels_before: dict[str, int]
    levels_after: dict[str, int]
    gainer_rows: list[int]  # biggest gain first
    loser_rows: list[int]  # biggest loss first
    gained_ore: int
    lost_ore: int  # negative
    flagged: dict[str, int] = field(default_factory=dict)  # persons per note, before or after

    def outcome(self, row: int) -> PersonOutcome:
        return PersonOutcome(self.population[row], self.before[row], self.after[row])

    @property
    def persons(self) -> list[PersonOutcome]:
        return [self.outcome(i) for i in range(len(self.population))]

    @property
    def gainers(self) -> list[PersonOutcome]:
        return [self.outcome(i) for i in self.gainer_rows]

    @property
    def losers(self) -> list[PersonOutcome]:
        return [self.outcome(i) for i in self.loser_rows]

    @property
    def unchanged(self) -> int:
        return len(self.population) - len(self.gainer_rows) - len(self.loser_rows)

    @property
    def before_ore(self) -> int:
        return sum(u.before_ore for u in self.units)

    @property
    def after_ore(self) -> int:
        return sum(u.after_ore for u in self.units)


def _level_order(body: RuleSetBody) -> list[str]:
    return [b.level for p in body.parts if isinstance(p.financing, LevelsModel) for b in p.financing.bands]


def level_counts(body: RuleSetBody, fundings: Sequence[Funding]) -> dict[str, int]:
    """Persons per level (persons at units financed by a levels part), in band order; every
    level of the rule set is listed, also those no one is in."""
    counts = dict.fromkeys(_level_order(body), 0)
    for level, n in Counter(f.level for f in fundings).items():
        if level is not None:
            counts[level] = counts.get(level, 0) + n
    return counts


def simulate(
    baseline: RuleSetBody,
    alternative: RuleSetBody,
    population: Sequence[PersonAtUnit],
    unit_prices: UnitPrices | None = None,
) -> Simulation:
    """Both rule sets over the same population: per person, per unit, per level."""
    unweighted = plain_hours(population)
    before = fund(baseline, population, unit_prices, unweighted)
    after = fund(alternative, population, unit_prices, unweighted)
    diffs = [a.annual_ore - b.annual_ore for b, a in zip(before, after, strict=True)]
    units: dict[str, UnitOutcome] = {}
    flagged: Counter[str] = Counter()
    for person, b, a in zip(population, before, after, strict=True):
        unit = units.get(person.provider_org)
        if unit is None:
            unit = units[person.provider_org] = UnitOutcome(person.provider_org, person.kind)
        unit.persons += 1
        unit.before_ore += b.annual_ore
        unit.after_ore += a.annual_ore
        if b.note is not None or a.note is not None:
            flagged.update({b.note, a.note} - {None})  # type: ignore[arg-type]
    # Equal differences keep the population's order (unit, then person id): a stable sort,
    # so pages do not shuffle between two runs on the same data.
    gainers = [i for i, d in enumerate(diffs) if d > 0]
    gainers.sort(key=diffs.__getitem__, reverse=True)
    losers = [i for i, d in enumerate(diffs) if d < 0]
    losers.sort(key=diffs.__getitem__)
    return Simulation(
        population=population,
        before=before,
        after=after,
        units=sorted(units.values(), key=lambda u: u.provider_org),
        levels_before=level_counts(baseline, before),
        levels_after=level_counts(alternative, after),
        gainer_rows=gainers,
        loser_rows=losers,
        gained_ore=sum(diffs[i] for i in gainers),
        lost_ore=sum(diffs[i] for i in losers),
        flagged=dict(flagged),
    )


# --- cliffs -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NearEdge:
    person: PersonAtUnit
    weighted_hours: Decimal


@dataclass(frozen=True)
class EdgeExposure:
    """The persons within N (weighted) hours below and above one band edge."""

    from_level: str
    to_level: str
    edge_hours: Decimal
    step_ore: int  # the upper band's annual amount minus the lower one's
    below: list[NearEdge]  # in [edge - N, edge): would gain the step by crossing it
    above: list[NearEdge]  # in [edge, edge + N): would lose the step by falling below it

    @property
    def at_stake_below_ore(self) -> int:
        return len(self.below) * self.step_ore

    @property
    def at_stake_above_ore(self) -> int:
        return len(self.above) * self.step_ore

    @property
    def at_stake_ore(self) -> int:
        return self.at_stake_below_ore + self.at_stake_above_ore


@dataclass(frozen=True)
class LevelsExposure:
    """One levels model of a rule set (parts with equal models are taken together)."""

    applies_to: list[str]
    model: LevelsModel
    persons: int
    edges: list[EdgeExposure]


def _edge_exposure(
    model: LevelsModel,
    lower: Band,
    upper: Band,
    people: list[NearEdge],
    hours: list[Decimal],
    within: Decimal,
) -> EdgeExposure:
    """`people` sorted by hours (`hours` their hours, for bisection): each side is a slice."""
    edge = upper.from_hours
    start, middle, end = (bisect_left(hours, h) for h in (edge - within, edge, edge + within))
    below = people[start:middle][::-1]  # nearest the edge first
    above = people[middle:end]
    step = annual_ore(model, upper) - annual_ore(model, lower)
    return EdgeExposure(lower.level, upper.level, edge, step, below, above)


def cliff_exposure(
    body: RuleSetBody, population: Sequence[PersonAtUnit], within: Decimal
) -> list[LevelsExposure]:
    """For each band edge of each levels model of `body`: who is within `within` weighted
    hours of it, on either side, and the money at stake (persons * the step)."""
    if within < 0:
        raise ValueError("within must be 0 or more hours")
    groups: list[tuple[LevelsModel, list[str], list[NearEdge]]] = []
    group_of: dict[int, int] = {}  # id(part) -> index in groups
    for part in body.parts:
        if not isinstance(part.financing, LevelsModel):
            continue
        label = part.applies_to if isinstance(part.applies_to, list) else [part.applies_to]
        same = next((i for i, g in enumerate(groups) if g[0] == part.financing), None)
        if same is None:
            same = len(groups)
            groups.append((part.financing, [], []))
        groups[same][1].extend(label)
        group_of[id(part)] = same
    parts: dict[tuple[str, str], Part | None] = {}
    for person in population:
        key = (person.provider_org, person.kind)
        if key not in parts:
            parts[key] = body.part_for(*key)
        found = parts[key]
        if found is None or id(found) not in group_of:
            continue
        model, _, people = groups[group_of[id(found)]]
        people.append(NearEdge(person, person_hours(person, model.skill_mix_weights)))
    out = []
    for model, labels, people in groups:
        people.sort(key=attrgetter("weighted_hours"))  # stable: equal hours keep unit, person order
        hours = [n.weighted_hours for n in people]
        edges = [
            _edge_exposure(model, lower, upper, people, hours, within)
            for lower, upper in itertools.pairwise(model.bands)
        ]
        out.append(LevelsExposure(applies_to=labels, model=model, persons=len(people), edges=edges))
    return out
