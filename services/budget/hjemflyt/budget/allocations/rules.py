"""Allocating a year's frame among provider units, and keeping it right through the year.
Pure: no IO (DOMAIN § 6, the levels model).

- `allocate`: at the budgeting date each unit's *need* from its financing part (levels:
  persons per band * the band's annual amount; hourly: decided hours * 12 * price; frame:
  its fixed frame; activity: 0, income follows delivered measures), the general part and
  the buffer as shares of the frame. What is left after the needs goes to the buffer; if
  the needs outgrow what is left, the units are scaled (largest remainder) and the
  shortfall is reported.
- `recompute`: at a tertial, the growth of each unit's need for the rest of the year, and
  the focus users' funding above the top band for the tertial just ended, paid from the
  buffer. Units whose need fell keep their amount.
- `propose`: when growth outran the buffer, lower the base band's amount per user just
  enough to cover the unfunded growth, moving money between units.

Invariant of every step: the unit lines, the general part and the buffer add up to the
frame exactly, to the øre.
"""

from __future__ import annotations

import bisect
import math
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from fractions import Fraction

from hjemflyt.budget.financing.rules import (
    ActivityModel,
    FinancingModel,
    FrameModel,
    HourlyModel,
    LevelsModel,
    Part,
    RuleSetBody,
    activity_ore,
    annual_ore,
    apportion,
    focus_extra_ore,
    ore,
    weighted_hours,
)
from hjemflyt.budget.hours.rules import PersonAtUnit

MONTHS = 12
ZERO = Decimal(0)
# (first month, last month) of each tertial.
TERTIALS: dict[int, tuple[int, int]] = {1: (1, 4), 2: (5, 8), 3: (9, 12)}

Prices = Mapping[str, Mapping[str, int]]  # provider_org -> service type or IPLOS code -> øre/hour
ActualHours = Mapping[tuple[uuid.UUID, str], Mapping[int, Decimal]]  # (person, unit) -> month -> hours


def tertial_start(year: int, tertial: int) -> date:
    return date(year, TERTIALS[tertial][0], 1)


def tertial_months(tertial: int) -> list[int]:
    first, last = TERTIALS[tertial]
    return list(range(first, last + 1))


def remaining_months(tertial: int) -> int:
    """Months of the year from the tertial's first month to December."""
    return MONTHS - TERTIALS[tertial][0] + 1


def share_of(frame_ore: int, share: Decimal) -> int:
    return ore(Decimal(frame_ore) * share)


# --- needs -----------------------------------------------------------------------------


@dataclass
class UnitNeed:
    """What one provider unit needs for a whole year under its financing part."""

    provider_org: str
    kind: str
    model: str  # levels | hourly | frame | activity | none
    need_ore: int = 0
    persons: int = 0
    persons_per_level: dict[str, int] = field(default_factory=dict)
    focus_persons: int = 0  # decided hours above the focus threshold (funded from actual hours)
    notes: list[str] = field(default_factory=list)


class _Bands:
    """Band lookup by bisect over the lower edges (the bands partition [0, ∞))."""

    def __init__(self, model: LevelsModel) -> None:
        self.model = model
        self.edges = [b.from_hours for b in model.bands]
        self.amounts = [annual_ore(model, b) for b in model.bands]
        self.levels = [b.level for b in model.bands]

    def index(self, hours: Decimal) -> int:
        return bisect.bisect_right(self.edges, hours) - 1


def needs(
    body: RuleSetBody,
    population: Iterable[PersonAtUnit],
    prices: Prices | None = None,
    units: Mapping[str, str] | None = None,
    measures: Mapping[str, Mapping[str, int]] | None = None,
    ordered: Mapping[str, Mapping[str, Decimal]] | None = None,
) -> dict[str, UnitNeed]:
    """Each unit's annual need. `units` (provider_org -> kind) adds registered units that
    have no persons now, so that frame-model units and emptied units keep a line.
    `measures` (provider_org -> measure code -> times done in the past 12 months) is what
    activity-model units paid on delivered measures are estimated from; `ordered`
    (provider_org -> measure code -> times the running decisions order in the coming 12
    months) is what those paid on ordered measures get."""
    prices = prices or {}
    measures = measures or {}
    ordered = ordered or {}
    out: dict[str, UnitNeed] = {}
    bands: dict[int, _Bands] = {}
    hourly_hours: dict[str, dict[str, Decimal]] = {}

    def unit(org: str, kind: str) -> UnitNeed:
        found = out.get(org)
        if found is None:
            found = out[org] = _new_unit(org, kind, body.part_for(org, kind), measures, ordered)
        return found

    for org, kind in sorted((units or {}).items()):
        unit(org, kind)
    # Per unit once, not per person: its line, its financing and (levels) its bands.
    seen: dict[str, tuple[UnitNeed, FinancingModel | None, _Bands | None]] = {}
    for person in population:
        org = person.provider_org
        at = seen.get(org)
        if at is None:
            part = body.part_for(org, person.kind)
            financing = None if part is None else part.financing
            at = seen[org] = (unit(org, person.kind), financing, _bands_of(financing, bands))
        u, financing, b = at
        u.persons += 1
        if b is not None:
            _count_on_levels(u, b, person)
        elif isinstance(financing, HourlyModel):
            per_code = hourly_hours.setdefault(org, {})
            for code, h in person.hours_by_code.items():
                per_code[code] = per_code.get(code, ZERO) + h
    for org, per_code in hourly_hours.items():
        u = out[org]
        part = body.part_for(org, u.kind)
        assert part is not None
        assert isinstance(part.financing, HourlyModel)
        _price_hours(u, part.financing, prices.get(org, {}), per_code)
    return out


def _new_unit(
    org: str,
    kind: str,
    part: Part | None,
    measures: Mapping[str, Mapping[str, int]],
    ordered: Mapping[str, Mapping[str, Decimal]],
) -> UnitNeed:
    """A unit's line before its persons are counted: what its financing model gives at once."""
    found = UnitNeed(org, kind, "none" if part is None else part.financing.model)
    if part is None:
        found.notes.append("no part of the rule set applies to this unit: nothing allocated")
    elif isinstance(part.financing, LevelsModel):
        found.persons_per_level = {b.level: 0 for b in part.financing.bands}
    elif isinstance(part.financing, FrameModel):
        found.need_ore = part.financing.frames_ore.get(org, 0)
        if org not in part.financing.frames_ore:
            found.notes.append("frame model, but no frame is set for this unit")
    elif isinstance(part.financing, HourlyModel) and part.financing.basis == "delivered":
        found.notes.append(
            "hourly purchase is paid on delivered hours (settlement); allocated here from "
            "decided hours * 12 * price"
        )
    elif isinstance(part.financing, ActivityModel) and part.financing.basis == "ordered":
        wanted = ordered.get(org, {})
        found.need_ore = activity_ore(part.financing, wanted)
        found.notes.append(
            "activity model on ordered measures: the coded measures the running decisions "
            "order for the 12 months from the date (frequency * norm minutes * rate)"
            + ("" if wanted else "; none are ordered, so nothing is allocated")
        )
    elif isinstance(part.financing, ActivityModel):
        done = measures.get(org, {})
        found.need_ore = activity_ore(part.financing, done)
        found.notes.append(
            "activity model: estimated from the measures delivered in the 12 months before "
            "the date, at the time norms" + ("" if done else "; none were delivered, so nothing is allocated")
        )
    return found


def _bands_of(financing: FinancingModel | None, bands: dict[int, _Bands]) -> _Bands | None:
    """The band lookup of a levels model, built once per model; None for other models."""
    if not isinstance(financing, LevelsModel):
        return None
    b = bands.get(id(financing))
    if b is None:
        b = bands[id(financing)] = _Bands(financing)
    return b


def _count_on_levels(u: UnitNeed, b: _Bands, person: PersonAtUnit) -> None:
    """One person on a levels unit: their band's amount, and whether they are a focus user."""
    weights = b.model.skill_mix_weights
    by_code = person.hours_by_code
    hours = weighted_hours(by_code, weights) if weights else sum(by_code.values(), ZERO)
    i = b.index(hours)
    u.persons_per_level[b.levels[i]] += 1
    u.need_ore += b.amounts[i]
    if hours > b.model.focus_threshold_hours:
        u.focus_persons += 1


def _price_hours(
    u: UnitNeed, model: HourlyModel, org_prices: Mapping[str, int], per_code: dict[str, Decimal]
) -> None:
    """An hourly unit's need: its decided hours per month at its prices, for a year."""
    total = Decimal(0)
    for code, h in sorted(per_code.items()):
        price = model.prices_ore_per_hour.get(code, org_prices.get(code))
        if price is None:
            u.notes.append(f"no price per hour for service {code}: its {h} h/month are not funded")
            continue
        total += h * price
    # Decided hours per month * 12: a year's purchase (delivered hours are settled monthly).
    u.need_ore = ore(total * MONTHS)


# --- the allocation at the budgeting date ------------------------------------------------


@dataclass
class Allocation:
    frame_ore: int
    general_ore: int
    buffer_ore: int
    amounts: dict[str, int]  # provider_org -> øre
    needs: dict[str, UnitNeed]
    shortfall_ore: int

    def total(self) -> int:
        return sum(self.amounts.values()) + self.general_ore + self.buffer_ore


def shares(body: RuleSetBody) -> tuple[Decimal, Decimal]:
    """The general and buffer shares: the levels part's (the model that defines them), else none."""
    levels = body.levels()
    return (levels.general_share, levels.buffer_share) if levels else (Decimal(0), Decimal(0))


def allocate(
    frame_ore: int,
    body: RuleSetBody,
    population: Iterable[PersonAtUnit],
    prices: Prices | None = None,
    units: Mapping[str, str] | None = None,
    measures: Mapping[str, Mapping[str, int]] | None = None,
    ordered: Mapping[str, Mapping[str, Decimal]] | None = None,
) -> Allocation:
    if frame_ore <= 0:
        raise ValueError("the frame must be above 0")
    unit_needs = needs(body, population, prices, units, measures, ordered)
    general_share, buffer_share = shares(body)
    general = share_of(frame_ore, general_share)
    buffer = share_of(frame_ore, buffer_share)
    left = frame_ore - general - buffer  # >= 0: the shares add up to less than 1
    wanted = {org: u.need_ore for org, u in unit_needs.items()}
    total_need = sum(wanted.values())
    if total_need <= left:
        amounts = dict(wanted)
        buffer += left - total_need  # money no unit needs now waits in the buffer
        shortfall = 0
    else:
        amounts = apportion(left, wanted)
        shortfall = total_need - left
    return Allocation(frame_ore, general, buffer, amounts, unit_needs, shortfall)


# --- tertial recomputation --------------------------------------------------------------


@dataclass(frozen=True)
class UnitState:
    """A unit's line as it stands: the annual need it is funded for and its amount."""

    provider_org: str
    need_ore: int
    amount_ore: int
    unfunded_ore: int = 0


@dataclass
class Growth:
    provider_org: str
    need_before_ore: int
    need_after_ore: int
    levels_growth_ore: int  # the need's growth for the rest of the year (pro rata)
    focus_ore: int  # funding above the top band for the tertial just ended
    paid_ore: int = 0
    unfunded_ore: int = 0

    @property
    def growth_ore(self) -> int:
        return self.levels_growth_ore + self.focus_ore


@dataclass
class Recomputation:
    tertial: int
    growth: dict[str, Growth]
    paid_ore: int
    deficit_ore: int  # growth the buffer could not pay (this recomputation)
    buffer_after_ore: int


def focus_extra_by_unit(
    body: RuleSetBody,
    kinds: Mapping[str, str],
    actual: ActualHours,
    paused: Mapping[uuid.UUID, Iterable[int]],
    months: Iterable[int],
) -> dict[str, int]:
    """Funding above the top band, per unit, for focus users' actual hours in `months`;
    a paused month stops it (DOMAIN § 6)."""
    months = list(months)
    out: dict[str, int] = {}
    for (person_id, org), by_month in sorted(actual.items(), key=lambda kv: (kv[0][1], str(kv[0][0]))):
        part = body.part_for(org, kinds.get(org, "unknown"))
        if part is None or not isinstance(part.financing, LevelsModel):
            continue
        extra = focus_extra_ore(part.financing, by_month, months, paused.get(person_id, ()))
        if extra:
            out[org] = out.get(org, 0) + extra
    return out


def recompute(
    tertial: int,
    states: Mapping[str, UnitState],
    new_needs: Mapping[str, UnitNeed],
    buffer_ore: int,
    focus_ore: Mapping[str, int] | None = None,
) -> Recomputation:
    """Growth since the last recomputation, paid from the buffer.

    A unit whose annual need grew gets the growth for the months left of the year
    (`remaining_months(tertial)` / 12), plus its focus users' funding. A unit whose need
    fell keeps its amount and the annual need it is funded for (so it is not funded twice
    should the need come back). If the buffer cannot pay all, it is split in proportion to
    the growth and the rest is the deficit a redistribution may cover.
    """
    if tertial not in (2, 3):
        raise ValueError("tertials 2 and 3 are recomputed; tertial 1 is the budgeting date")
    focus_ore = focus_ore or {}
    months_left = remaining_months(tertial)
    growth: dict[str, Growth] = {}
    for org in sorted(set(states) | set(new_needs) | set(focus_ore)):
        before = states[org].need_ore if org in states else 0
        after = new_needs[org].need_ore if org in new_needs else 0
        up = max(0, after - before)
        levels_growth = ore(Decimal(up) * months_left / MONTHS) if up else 0
        focus = focus_ore.get(org, 0)
        growth[org] = Growth(org, before, max(before, after), levels_growth, focus)
    wanted = {org: g.growth_ore for org, g in growth.items() if g.growth_ore}
    total = sum(wanted.values())
    paid = wanted if total <= buffer_ore else apportion(buffer_ore, wanted)
    for org, g in growth.items():
        g.paid_ore = paid.get(org, 0)
        g.unfunded_ore = g.growth_ore - g.paid_ore
    paid_total = sum(paid.values())
    return Recomputation(tertial, growth, paid_total, total - paid_total, buffer_ore - paid_total)


# --- redistribution ----------------------------------------------------------------------


@dataclass(frozen=True)
class UnitMove:
    provider_org: str
    base_persons: int
    taken_ore: int  # from its base users
    given_ore: int  # its unfunded growth

    @property
    def change_ore(self) -> int:
        return self.given_ore - self.taken_ore


@dataclass(frozen=True)
class Proposal:
    deficit_ore: int
    base_persons: int
    cut_per_base_person_ore: int  # taken from each base user's amount for this year
    base_amount_before_ore: int  # a base user's annual amount
    base_amount_after_ore: int
    moved_ore: int  # taken from base users in all
    to_buffer_ore: int  # what the whole-øre cut frees beyond the deficit
    units: list[UnitMove]


class CannotRedistribute(ValueError):
    pass


def propose(
    unfunded: Mapping[str, int],
    base_persons: Mapping[str, int],
    amounts: Mapping[str, int],
    base_amount_ore: int,
    tertial: int,
) -> Proposal:
    """Lower every base user's amount for the year by the smallest whole øre that covers
    the unfunded growth: cut = ceil(deficit / base users). Only the months left of the year
    can be cut (`tertial`'s first month to December), and no unit may go below zero."""
    deficit = sum(unfunded.values())
    if deficit <= 0:
        raise CannotRedistribute("there is no unfunded growth to cover")
    persons = sum(base_persons.values())
    if persons == 0:
        raise CannotRedistribute("there are no base users whose amount could be lowered")
    cut = math.ceil(Fraction(deficit, persons))
    can_cut = ore(Decimal(base_amount_ore) * remaining_months(tertial) / MONTHS)
    if cut > can_cut:
        raise CannotRedistribute(
            f"the deficit needs {cut} øre per base user, more than the {can_cut} øre left of "
            f"a base user's amount this year"
        )
    moves = []
    for org in sorted(set(unfunded) | set(base_persons)):
        taken = cut * base_persons.get(org, 0)
        given = unfunded.get(org, 0)
        if amounts.get(org, 0) + given - taken < 0:
            raise CannotRedistribute(f"unit {org} would be left with less than nothing")
        if taken or given:
            moves.append(UnitMove(org, base_persons.get(org, 0), taken, given))
    moved = cut * persons
    return Proposal(
        deficit_ore=deficit,
        base_persons=persons,
        cut_per_base_person_ore=cut,
        base_amount_before_ore=base_amount_ore,
        base_amount_after_ore=base_amount_ore - cut,
        moved_ore=moved,
        to_buffer_ore=moved - deficit,
        units=moves,
    )
