"""Pure rules of the provider's adjustment log (friere faglighet, the trust model).

Inside the decision's bounds the provider adjusts frequency, time and content of a measure
without asking; every adjustment is logged with its reason. The bounds:

- the district's organisation model lets the provider adjust: trust model or more
  professional freedom. In purchaser-provider districts every change needs a change notice
  (a change-of-need report); an order that does not say its model is treated the same (the
  body with decision authority wins, so freedom is never assumed);
- the service is one the order holds (granted or partly granted);
- the measure is one the order holds, unless the provider adds a new one (a content change);
- the service's planned hours per month (each measure's frequency x minutes, where minutes
  are known) stay within the decided frame [min, max], or at most the decided hours per month
  for any other scope. An adjustment that moves the plan *towards* the bounds is allowed even
  when the plan was outside them before (the decision's own measures may not add up).

The order's content is read defensively: fields may be missing, Decimals travel as strings.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from enum import StrEnum
from fractions import Fraction
from itertools import pairwise
from typing import Any


class OrganisationModel(StrEnum):
    purchaser_provider = "purchaser_provider"
    trust_model = "trust_model"
    professional_freedom = "professional_freedom"


# Where the provider decides frequency, time and content within the decision.
FREE_MODELS = frozenset({OrganisationModel.trust_model, OrganisationModel.professional_freedom})


class Per(StrEnum):
    day = "day"
    week = "week"
    month = "month"
    quarter = "quarter"
    year = "year"


# Occurrences per month of once per `per`: an average month is 365.25 / 12 days.
_MONTH_DAYS = Fraction(36525, 1200)
PER_MONTH: dict[str, Fraction] = {
    Per.day: _MONTH_DAYS,
    Per.week: _MONTH_DAYS / 7,
    Per.month: Fraction(1),
    Per.quarter: Fraction(1, 3),
    Per.year: Fraction(1, 12),
}


class Status(StrEnum):
    in_force = "in_force"
    overruled = "overruled"


class EscalationLevel(StrEnum):
    """Who may decide a disagreement, lowest first (DOMAIN § 2: unit head -> head of services)."""

    case_office = "case_office"
    unit_head = "unit_head"
    head_of_services = "head_of_services"


LEVELS = list(EscalationLevel)

# Outcomes under which the provider holds a service.
HELD_OUTCOMES = frozenset({"granted", "partly_granted"})


@dataclass(frozen=True)
class Plan:
    times: int
    per: str
    minutes: int | None = None

    def hours_per_month(self) -> Fraction | None:
        if self.minutes is None or self.per not in PER_MONTH:
            return None
        return self.times * PER_MONTH[self.per] * self.minutes / 60


@dataclass(frozen=True)
class Measure:
    code: str | None
    description: str
    plan: Plan

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "description": self.description,
            "times": self.plan.times,
            "per": self.plan.per,
            "minutes": self.plan.minutes,
        }


@dataclass(frozen=True)
class Service:
    service_type: str | None
    service_code: str | None
    scope_kind: str
    outcome: str
    hours_per_month: Decimal | None
    frame_min_hours: Decimal | None
    frame_max_hours: Decimal | None
    measures: tuple[Measure, ...]

    def matches(self, key: str) -> bool:
        return key in (self.service_type, self.service_code)


# --- reading the order's content ----------------------------------------------------------


def _decimal(value: Any) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        out = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return out if out.is_finite() else None


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def _str(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def measure_from(raw: Any) -> Measure | None:
    if not isinstance(raw, Mapping):
        return None
    description = _str(raw.get("description")) or _str(raw.get("code"))
    times = _int(raw.get("times"))
    per = _str(raw.get("per"))
    if description is None or times is None or per is None:
        return None
    return Measure(
        code=_str(raw.get("code")),
        description=description,
        plan=Plan(times=times, per=per, minutes=_int(raw.get("minutes"))),
    )


def services_from(content: Mapping[str, Any] | None) -> list[Service]:
    out = []
    for raw in (content or {}).get("services") or []:
        if not isinstance(raw, Mapping):
            continue
        measures = tuple(m for m in (measure_from(r) for r in raw.get("measures") or []) if m is not None)
        out.append(
            Service(
                service_type=_str(raw.get("service_type")),
                service_code=_str(raw.get("service_code")),
                scope_kind=_str(raw.get("scope_kind")) or "hours_per_month",
                outcome=_str(raw.get("outcome")) or "granted",
                hours_per_month=_decimal(raw.get("hours_per_month")),
                frame_min_hours=_decimal(raw.get("frame_min_hours")),
                frame_max_hours=_decimal(raw.get("frame_max_hours")),
                measures=measures,
            )
        )
    return out


def organisation_model(content: Mapping[str, Any] | None) -> OrganisationModel | None:
    raw = (content or {}).get("organisation_model")
    try:
        return OrganisationModel(raw) if isinstance(raw, str) else None
    except ValueError:
        return None


# --- the plan in force ----------------------------------------------------------------------


def _norm(text: str | None) -> str:
    return " ".join((text or "").split()).casefold()


def same_measure(measure: Measure, code: str | None, description: str | None) -> bool:
    """A measure is named by its catalogue code, or (uncoded) by its description."""
    if code and measure.code:
        return _norm(code) == _norm(measure.code)
    if description:
        return _norm(description) == _norm(measure.description)
    return False


def find_measure(measures: Iterable[Measure], code: str | None, description: str | None) -> Measure | None:
    return next((m for m in measures if same_measure(m, code, description)), None)


def in_force(ordered: Sequence[Measure], adjustments: Iterable[Measure]) -> list[Measure]:
    """The service's measures as the provider runs them: the order's, each replaced by the
    newest adjustment still in force (oldest first in `adjustments`), new ones appended."""
    out = list(ordered)
    for after in adjustments:
        for i, m in enumerate(out):
            if same_measure(m, after.code, after.description):
                out[i] = after
                break
        else:
            out.append(after)
    return out


def planned_hours(measures: Iterable[Measure]) -> Fraction | None:
    """Planned hours per month of the measures whose minutes are known; None if none are."""
    known = [h for h in (m.plan.hours_per_month() for m in measures) if h is not None]
    return sum(known, Fraction(0)) if known else None


def hours(value: Fraction | None) -> Decimal | None:
    if value is None:
        return None
    return (Decimal(value.numerator) / Decimal(value.denominator)).quantize(
        Decimal("0.01"), rounding=ROUND_HALF_UP
    )


# --- the verdict ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Proposal:
    """What the provider asks to change: one measure's frequency, minutes and/or content."""

    service_type: str
    measure_code: str | None
    measure_description: str | None
    new_measure: bool = False
    times: int | None = None
    per: str | None = None
    minutes: int | None = None
    content: str | None = None
    # What the provider believes the measure runs at now (checked when given).
    times_from: int | None = None
    per_from: str | None = None
    minutes_from: int | None = None


@dataclass(frozen=True)
class Refusal:
    slug: str
    detail: str
    status: int = 422
    # Refusals that a change-of-need report (not a correction of the request) resolves.
    change_of_need: bool = True


@dataclass(frozen=True)
class Accepted:
    service: Service
    before: Measure | None  # None: a new measure
    after: Measure
    planned_before: Fraction | None
    planned_after: Fraction | None
    bounds: dict[str, Any]


def bounds_of(service: Service) -> dict[str, Any]:
    if service.scope_kind == "frame":
        top = service.frame_max_hours if service.frame_max_hours is not None else service.hours_per_month
        return {"scope_kind": "frame", "min_hours": service.frame_min_hours, "max_hours": top}
    return {"scope_kind": service.scope_kind, "min_hours": None, "max_hours": service.hours_per_month}


def _outside(bounds: Mapping[str, Any], before: Fraction | None, after: Fraction | None) -> str | None:
    """Why `after` breaks the bounds, or None. Moving towards the bounds is allowed."""
    if after is None:
        return None
    was = before if before is not None else Fraction(0)
    top, bottom = bounds.get("max_hours"), bounds.get("min_hours")
    if top is not None and after > Fraction(top) and after > was:
        kind = "the frame's maximum" if bounds["scope_kind"] == "frame" else "the decided hours per month"
        return f"The plan would be {hours(after)} hours a month, above {kind} ({top})."
    if bottom is not None and after < Fraction(bottom) and after < was:
        return f"The plan would be {hours(after)} hours a month, below the frame's minimum ({bottom})."
    return None


def assess(
    content: Mapping[str, Any] | None,
    proposal: Proposal,
    adjusted: Sequence[Measure] = (),
) -> Accepted | Refusal:
    """May the provider make this adjustment without asking? `adjusted` are the afters of
    the adjustments in force on this order version and service, oldest first."""
    model = organisation_model(content)
    if model not in FREE_MODELS:
        named = model.value if model else "not stated on the order"
        return Refusal(
            "change-notice-required",
            f"The district's organisation model ({named}) does not let the provider adjust on its own: "
            "every change needs a change-of-need report.",
        )
    service = next(
        (
            s
            for s in services_from(content)
            if s.matches(proposal.service_type) and s.outcome in HELD_OUTCOMES
        ),
        None,
    )
    if service is None:
        return Refusal("service-not-ordered", f"The order holds no service {proposal.service_type!r}.")
    current = in_force(service.measures, adjusted)
    before = find_measure(current, proposal.measure_code, proposal.measure_description)
    if proposal.new_measure:
        if before is not None:
            return Refusal(
                "measure-already-ordered",
                "The order holds this measure already: adjust it instead.",
                change_of_need=False,
            )
        if proposal.times is None or proposal.per is None:
            return Refusal(
                "new-measure-incomplete", "A new measure needs times and per.", change_of_need=False
            )
        description = proposal.measure_description or proposal.measure_code or ""
        after = Measure(
            proposal.measure_code, description, Plan(proposal.times, proposal.per, proposal.minutes)
        )
    else:
        if before is None:
            return Refusal(
                "measure-not-ordered",
                "The order holds no such measure for this service (name it by code or as the order "
                "describes it, or add it as a new measure).",
            )
        stale = [
            name
            for name, said, now in (
                ("times", proposal.times_from, before.plan.times),
                ("per", proposal.per_from, before.plan.per),
                ("minutes", proposal.minutes_from, before.plan.minutes),
            )
            if said is not None and said != now
        ]
        if stale:
            return Refusal(
                "adjustment-from-mismatch",
                f"The measure does not run as the request's `from` says ({', '.join(stale)}): "
                f"it runs {before.plan.times} per {before.plan.per}"
                + (f", {before.plan.minutes} minutes" if before.plan.minutes else "")
                + ".",
                status=409,
                change_of_need=False,
            )
        plan = Plan(
            times=proposal.times if proposal.times is not None else before.plan.times,
            per=proposal.per if proposal.per is not None else before.plan.per,
            minutes=proposal.minutes if proposal.minutes is not None else before.plan.minutes,
        )
        after = replace(before, plan=plan)
        if plan == before.plan and not proposal.content:
            return Refusal(
                "adjustment-changes-nothing",
                "The adjustment changes neither frequency, minutes nor content.",
                change_of_need=False,
            )
    planned_before = planned_hours(current)
    planned_after = planned_hours(in_force(current, [after]))
    bounds = bounds_of(service)
    why = _outside(bounds, planned_before, planned_after)
    if why is not None:
        return Refusal("adjustment-outside-decision", why + " Report a change of need instead.")
    return Accepted(service, before, after, planned_before, planned_after, bounds)


def escalation_problem(path: Sequence[str]) -> str | None:
    """The escalation path runs upwards, each level once: case office, unit head, head of
    services. None if it does; else why not."""
    try:
        levels = [LEVELS.index(EscalationLevel(p)) for p in path]
    except ValueError:
        return f"Unknown escalation level; use {', '.join(LEVELS)}."
    if not levels:
        return "Name at least the level that decided."
    if any(b <= a for a, b in pairwise(levels)):
        return (
            "The escalation path goes upwards, each level once: case_office -> unit_head -> head_of_services."
        )
    return None
