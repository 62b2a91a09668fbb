"""Financing models held as data, and the amounts they give. Pure: no IO.

A rule set is dated (`valid_from`) and versioned; it holds one or more *parts*, each a
financing model applied to a group of provider units (the municipality's own units, the
private providers, or named units), so a municipality can run levels for its own units and
hourly purchase for private providers at once (DOMAIN § 6).

Money is integer øre; hours are Decimal. Rounding is half up, once, at the end of each
amount, so the Stavanger 2022 amounts come out exactly (base 3.56 h * 799 kr * 12 =
34 133.28 kr; level 1 30 h * 799 kr * 12 = 287 640 kr).
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from collections.abc import Hashable, Iterable, Mapping
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Annotated, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, model_validator

K = TypeVar("K", bound=Hashable)
MONTHS = 12
ZERO = Decimal(0)
ONE = Decimal(1)

Share = Annotated[Decimal, Field(ge=0, le=1, description="A share of the frame, 0-1 (0.26 = 26 %)")]
Hours = Annotated[Decimal, Field(ge=0, max_digits=8, decimal_places=2)]
Ore = Annotated[int, Field(ge=0, description="øre")]


def ore(amount: Decimal) -> int:
    """An amount in øre, rounded half up."""
    return int(amount.quantize(ONE, rounding=ROUND_HALF_UP))


# --- the models ------------------------------------------------------------------------


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Band(_Strict):
    """Persons whose (weighted) decided hours per month are in [from_hours, to_hours)."""

    level: str = Field(min_length=1, max_length=40, description='"base", "1", "2", ...')
    from_hours: Hours
    to_hours: Hours | None = Field(description="Exclusive; null for the last band (open-ended)")
    funded_hours: Hours = Field(description="Funded hours per month for everyone in the band")


class LevelsModel(_Strict):
    """The levels model (Stavanger 2020-): users * level from decided hours at the budgeting
    date, a general share, a buffer, focus users funded from actual received hours."""

    model: Literal["levels"] = "levels"
    general_share: Share
    buffer_share: Share
    rate_ore_per_hour: Ore = Field(description="Rate per funded hour, øre (79 900 = 799 kr)")
    bands: list[Band] = Field(min_length=1)
    focus_threshold_hours: Hours = Field(
        description="A person who actually received more than this in a calendar month is a focus user"
    )
    focus_rule: Literal["actual_hours_per_month_in_tertial"] = Field(
        default="actual_hours_per_month_in_tertial",
        description="Focus users are funded for their actual hours from the first month in the tertial "
        "in which they received more than the threshold",
    )
    pause_rule: Literal["above_top_band_stops"] = Field(
        default="above_top_band_stops",
        description="During a pause (admission) only the funding above the top band stops",
    )
    skill_mix_weights: dict[str, Decimal] = Field(
        default_factory=dict,
        description="Weight per IPLOS service code on decided hours (missing codes weigh 1)",
    )

    @model_validator(mode="after")
    def _check(self) -> LevelsModel:
        reasons = band_problems(self.bands)
        if self.general_share + self.buffer_share >= 1:
            reasons.append("general_share and buffer_share together must leave a user-directed part (< 1)")
        if any(w < 0 for w in self.skill_mix_weights.values()):
            reasons.append("skill-mix weights cannot be negative")
        if self.bands and self.bands[-1].from_hours > self.focus_threshold_hours:
            reasons.append("the focus threshold lies below the last band")
        if reasons:
            raise ValueError("; ".join(reasons))
        return self

    @property
    def top(self) -> Band:
        return self.bands[-1]


class ActivityModel(_Strict):
    """Activity-based income (ABI): time norm per measure * rate, on delivered measures or on
    the measures the decisions order (DOMAIN § 6: "per ordered/delivered measure")."""

    model: Literal["activity"] = "activity"
    basis: Literal["delivered", "ordered"] = Field(
        default="delivered",
        description="delivered: measures done on visits; ordered: the decisions' coded measures times "
        "their frequency in the period",
    )
    rate_ore_per_hour: Ore
    norms_minutes: dict[str, Annotated[int, Field(ge=0, le=24 * 60)]] = Field(
        min_length=1, description="Time norm in minutes per measure code"
    )


class HourlyModel(_Strict):
    """Hourly purchase: contract price per hour per service type * decided or delivered hours."""

    model: Literal["hourly"] = "hourly"
    basis: Literal["decided", "delivered"] = "delivered"
    prices_ore_per_hour: dict[str, Ore] = Field(
        default_factory=dict,
        description="Price per hour by service type; a unit's own contract prices apply where missing",
    )


class FrameModel(_Strict):
    """Fixed frames per unit or team; every adjustment happens inside the frame."""

    model: Literal["frame"] = "frame"
    frames_ore: dict[str, Ore] = Field(min_length=1, description="Annual frame per unit (provider_org)")


FinancingModel = Annotated[
    LevelsModel | ActivityModel | HourlyModel | FrameModel, Field(discriminator="model")
]


class Part(_Strict):
    """One model for one group of units: `municipal`, `private`, or the units named."""

    applies_to: Literal["municipal", "private"] | list[Annotated[str, Field(pattern=r"^\d{9}$")]]
    financing: FinancingModel


class RuleSetBody(_Strict):
    """A dated set of financing rules; what the API stores as a new version."""

    name: str = Field(min_length=1, max_length=200)
    valid_from: date
    parts: list[Part] = Field(min_length=1)

    @model_validator(mode="after")
    def _parts_do_not_overlap(self) -> RuleSetBody:
        kinds = [p.applies_to for p in self.parts if isinstance(p.applies_to, str)]
        named = [org for p in self.parts if isinstance(p.applies_to, list) for org in p.applies_to]
        reasons = []
        if len(kinds) != len(set(kinds)):
            reasons.append("two parts apply to the same kind of unit")
        if len(named) != len(set(named)):
            reasons.append("a unit is named in two parts")
        if reasons:
            raise ValueError("; ".join(reasons))
        return self

    def part_for(self, provider_org: str, kind: str) -> Part | None:
        """The part that finances a unit: a part naming it wins over one for its kind."""
        for part in self.parts:
            if isinstance(part.applies_to, list) and provider_org in part.applies_to:
                return part
        for part in self.parts:
            if part.applies_to == kind:
                return part
        return None

    def levels(self) -> LevelsModel | None:
        return next((p.financing for p in self.parts if isinstance(p.financing, LevelsModel)), None)


def band_problems(bands: list[Band]) -> list[str]:
    """Why a list of bands is not a partition of [0, ∞) in order; empty if it is."""
    reasons: list[str] = []
    if not bands:
        return ["at least one band is needed"]
    if bands[0].from_hours != 0:
        reasons.append(
            f"the first band starts at {bands[0].from_hours} h, not 0: hours below it have no band"
        )
    levels = [b.level for b in bands]
    if len(levels) != len(set(levels)):
        reasons.append("two bands have the same level name")
    for band in bands:
        if band.to_hours is not None and band.to_hours <= band.from_hours:
            reasons.append(f"band {band.level} ends ({band.to_hours} h) where or before it starts")
    for before, after in itertools.pairwise(bands):
        if before.to_hours is None:
            reasons.append(f"band {before.level} is open-ended but band {after.level} follows it")
        elif after.from_hours > before.to_hours:
            reasons.append(
                f"gap between band {before.level} and band {after.level}: "
                f"{before.to_hours}-{after.from_hours} h"
            )
        elif after.from_hours < before.to_hours:
            reasons.append(
                f"band {after.level} overlaps band {before.level}: {after.from_hours}-{before.to_hours} h"
            )
    if bands[-1].to_hours is not None:
        reasons.append(f"the last band ends at {bands[-1].to_hours} h: hours above it have no band")
    return reasons


# --- what the models give --------------------------------------------------------------


def weighted_hours(hours_by_code: Mapping[str, Decimal], weights: Mapping[str, Decimal]) -> Decimal:
    """Decided hours per month, each service's hours weighted by its skill-mix weight."""
    return sum((h * weights.get(code, ONE) for code, h in hours_by_code.items()), ZERO)


def band_for(model: LevelsModel, hours: Decimal) -> Band:
    for band in model.bands:
        if band.from_hours <= hours and (band.to_hours is None or hours < band.to_hours):
            return band
    raise ValueError(f"no band for {hours} h")  # cannot happen for a validated model


def annual_ore(model: LevelsModel, band: Band) -> int:
    """A year's funding for one person in a band: funded hours * rate * 12."""
    return ore(band.funded_hours * model.rate_ore_per_hour * MONTHS)


def monthly_ore(model: LevelsModel, band: Band) -> int:
    return ore(band.funded_hours * model.rate_ore_per_hour)


def focus_months(
    actual_hours: Mapping[int, Decimal], threshold: Decimal, tertial: Iterable[int]
) -> list[int]:
    """The months of a tertial a focus user is funded for: from the first calendar month in
    which they actually received more than the threshold, to the tertial's end."""
    months = sorted(tertial)
    for i, month in enumerate(months):
        if actual_hours.get(month, ZERO) > threshold:
            return months[i:]
    return []


def focus_extra_ore(
    model: LevelsModel,
    actual_hours: Mapping[int, Decimal],
    tertial: Iterable[int],
    paused_months: Iterable[int] = (),
) -> int:
    """Funding above the top band for a focus user over one tertial: actual hours above the
    top band's funded hours * rate, for each funded month not in a pause."""
    paused = set(paused_months)
    total = ZERO
    for month in focus_months(actual_hours, model.focus_threshold_hours, tertial):
        if month in paused:
            continue
        total += max(ZERO, actual_hours.get(month, ZERO) - model.top.funded_hours) * model.rate_ore_per_hour
    return ore(total)


def cliffs(model: LevelsModel) -> list[tuple[str, str, int, Decimal | None]]:
    """Each band edge: (from level, to level, annual step in øre, step in % of the lower amount)."""
    out = []
    for lower, upper in itertools.pairwise(model.bands):
        a, b = annual_ore(model, lower), annual_ore(model, upper)
        pct = (Decimal(b - a) * 100 / a).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP) if a else None
        out.append((lower.level, upper.level, b - a, pct))
    return out


def activity_ore(
    model: ActivityModel, measures: Iterable[str] | Mapping[str, int] | Mapping[str, Decimal]
) -> int:
    """Income for measures (codes, or code -> times: done, or ordered in the period, which
    may be a fraction, e.g. a weekly measure over 30 days): sum of norm minutes * times *
    rate / 60, rounded once; measures without a norm earn 0."""
    counts: Mapping[str, int | Decimal] = measures if isinstance(measures, Mapping) else Counter(measures)
    minutes = sum((model.norms_minutes.get(m, 0) * Decimal(n) for m, n in counts.items()), ZERO)
    return ore(Decimal(minutes) * model.rate_ore_per_hour / 60)


def hourly_ore(hours: Decimal, price_ore_per_hour: int) -> int:
    return ore(hours * price_ore_per_hour)


def apportion(total: int, weights: Mapping[K, int | Decimal]) -> dict[K, int]:
    """Split `total` øre in proportion to `weights`, to the øre: the largest-remainder method.

    Every share is its floor plus at most one øre; the shares add up to `total` exactly.
    Ties go to the larger weight, then the smaller key (deterministic). All weights 0: equal
    shares.
    """
    if total < 0:
        raise ValueError("cannot apportion a negative amount")
    if any(w < 0 for w in weights.values()):
        raise ValueError("weights cannot be negative")
    if not weights:
        if total:
            raise ValueError("nothing to apportion to")
        return {}
    keys = sorted(weights, key=repr)
    # Fractions, not Decimals: a rounded quotient could floor to one øre too many.
    raw = {k: Fraction(weights[k]) for k in keys}
    whole = sum(raw.values(), Fraction(0))
    if whole == 0:
        raw = dict.fromkeys(keys, Fraction(1))
        whole = Fraction(len(keys))
    exact = {k: total * raw[k] / whole for k in keys}
    shares = {k: math.floor(exact[k]) for k in keys}
    left = total - sum(shares.values())
    order = sorted(keys, key=lambda k: (-(exact[k] - shares[k]), -raw[k], repr(k)))
    for k in order[:left]:
        shares[k] += 1
    return shares
