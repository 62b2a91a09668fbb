"""Pure rules of the decision (no IO): completeness, scope by organisation model, the
lifecycle, and what counts as a change to the person's detriment (forvaltningsloven § 35).

Every check returns all broken rules at once, so a case officer fixes them in one go.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Any

# A month has at most 31 days of 24 hours.
MAX_HOURS_PER_MONTH = Decimal(744)

# Average occurrences per month of "times per <period>".
PER_MONTH = {
    "day": Decimal("30.4375"),
    "week": Decimal("4.348214"),
    "month": Decimal(1),
    "quarter": Decimal(1) / Decimal(3),
    "year": Decimal(1) / Decimal(12),
}


class Status(StrEnum):
    draft = "draft"
    made = "made"
    sent = "sent"
    active = "active"
    ended = "ended"


class Outcome(StrEnum):
    granted = "granted"
    partly_granted = "partly_granted"
    refused = "refused"


class ScopeKind(StrEnum):
    hours_per_month = "hours_per_month"
    frame = "frame"
    minutes_per_measure = "minutes_per_measure"


class EndReason(StrEnum):
    ended = "ended"  # generic: a decision's natural end, never an early one
    superseded = "superseded"
    expired = "expired"  # the sweep's, the day after the end date; never from callers
    deceased = "deceased"
    moved = "moved"
    person_wish = "person_wish"
    masters_daily_life = "masters_daily_life"
    nursing_home = "nursing_home"  # a move to a nursing home is a move


# Why a running decision may end before its own end date (or at all, when it runs
# indefinitely) without a new decision: the reasons the law allows.
EARLY_END_REASONS = frozenset(
    {
        EndReason.deceased,
        EndReason.moved,
        EndReason.person_wish,
        EndReason.masters_daily_life,
        EndReason.superseded,
        EndReason.nursing_home,
    }
)
# What a caller may give at all (`expired` is the sweep's own reason).
CALLER_END_REASONS = EARLY_END_REASONS | {EndReason.ended}


def end_reason_allowed(reason: EndReason, end_date: date, decided_end: date | None) -> bool:
    """May a caller end a decision on `end_date` for `reason`? On or after the decision's own
    end date it is its natural end (any caller reason); before it, or when the decision runs
    indefinitely, only a reason the law allows (forvaltningsloven § 35)."""
    if reason not in CALLER_END_REASONS:
        return False
    if decided_end is not None and end_date >= decided_end:
        return True
    return reason in EARLY_END_REASONS


TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.draft: frozenset({Status.made}),
    Status.made: frozenset({Status.sent, Status.ended}),
    Status.sent: frozenset({Status.active, Status.ended}),
    Status.active: frozenset({Status.ended}),
    Status.ended: frozenset(),
}
RUNNING = frozenset({Status.made, Status.sent, Status.active})

# Which scopes each organisation model (DOMAIN § 2) writes.
SCOPES_FOR_MODEL: dict[str, frozenset[ScopeKind]] = {
    "purchaser_provider": frozenset({ScopeKind.minutes_per_measure}),
    "trust_model": frozenset({ScopeKind.hours_per_month, ScopeKind.frame}),
    "professional_freedom": frozenset({ScopeKind.hours_per_month, ScopeKind.frame}),
}


DEFAULT_SCOPE: dict[str, ScopeKind] = {
    "purchaser_provider": ScopeKind.minutes_per_measure,
    "trust_model": ScopeKind.hours_per_month,
    "professional_freedom": ScopeKind.hours_per_month,
}


def can_move(current: Status, target: Status) -> bool:
    return target in TRANSITIONS[current]


@dataclass(frozen=True)
class MeasureFacts:
    description: str
    times: int
    per: str
    minutes: int | None = None
    code: str | None = None  # of the measure catalogue; None: free text only


@dataclass(frozen=True)
class ServiceFacts:
    service_type: str
    outcome: Outcome
    scope_kind: ScopeKind
    hours_per_month: Decimal | None = None
    frame_min_hours: Decimal | None = None
    frame_max_hours: Decimal | None = None
    refusal_reason: str | None = None
    provider_org: str | None = None
    measures: Sequence[MeasureFacts] = ()
    # What the person pays for this service per month, in øre (None: not known, not compared).
    copayment_ore: int | None = None


@dataclass(frozen=True)
class DecisionFacts:
    organisation_model: str
    justification: str | None
    purpose: str | None
    user_goal: str | None
    legal_basis: Sequence[str]
    start_date: date | None
    end_date: date | None
    evaluation_date: date | None
    services: Sequence[ServiceFacts] = field(default_factory=tuple)


@dataclass(frozen=True)
class CatalogueFacts:
    """What the configuration and the provider registry say, for the checks."""

    service_types: Mapping[str, str]  # code -> IPLOS code, active services only
    legal_basis: frozenset[str]
    # provider_org -> (IPLOS codes it may deliver, districts it serves)
    providers: Mapping[str, tuple[frozenset[str], frozenset[str]]]
    district: str
    # measure code -> the service type it belongs to (None: any), active codes only
    measures: Mapping[str, str | None] = field(default_factory=dict)


@dataclass(frozen=True)
class Violation:
    rule: str
    message: str
    field: str | None = None


def measure_hours_per_month(measures: Sequence[MeasureFacts]) -> Decimal:
    """Hours per month from minutes per measure and frequency (purchaser-provider scope)."""
    total = sum(
        (Decimal(m.minutes or 0) * m.times * PER_MONTH[m.per] for m in measures),
        start=Decimal(0),
    )
    return (total / 60).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def decided_hours(service: ServiceFacts) -> Decimal:
    """The hours per month the service is budgeted at: the frame's maximum for a frame."""
    if service.outcome == Outcome.refused:
        return Decimal(0)
    if service.scope_kind == ScopeKind.minutes_per_measure:
        return measure_hours_per_month(service.measures)
    if service.scope_kind == ScopeKind.frame:
        return service.frame_max_hours or Decimal(0)
    return service.hours_per_month or Decimal(0)


def _hours_ok(value: Decimal | None) -> bool:
    return value is not None and Decimal(0) < value <= MAX_HOURS_PER_MONTH


def check_complete(decision: DecisionFacts, catalogue: CatalogueFacts) -> list[Violation]:
    """Everything a decision must hold before it is made (DOMAIN § 4)."""
    granting = any(s.outcome != Outcome.refused for s in decision.services)
    problems = [*_content_problems(decision, catalogue, granting), *_date_problems(decision, granting)]
    allowed_scopes = SCOPES_FOR_MODEL.get(decision.organisation_model, frozenset(ScopeKind))
    seen: set[str] = set()
    for i, service in enumerate(decision.services):
        where = f"services[{i}]"
        if service.service_type in seen:
            problems.append(
                Violation("duplicate-service", f"{service.service_type} is answered twice.", where)
            )
        seen.add(service.service_type)
        problems.extend(_service_problems(decision, service, catalogue, allowed_scopes, where))
    return problems


def _content_problems(decision: DecisionFacts, catalogue: CatalogueFacts, granting: bool) -> list[Violation]:
    """What the decision says: its services, justification, purpose, the person's goal, the law."""
    out: list[Violation] = []
    if not decision.services:
        out.append(Violation("no-services", "A decision answers at least one service.", "services"))
    if not (decision.justification or "").strip():
        out.append(
            Violation(
                "justification-missing",
                "The individual justification (rules, facts, considerations) is missing.",
                "justification",
            )
        )
    if not (decision.purpose or "").strip():
        out.append(Violation("purpose-missing", "The purpose of the service is missing.", "purpose"))
    if granting and not (decision.user_goal or "").strip():
        out.append(Violation("user-goal-missing", "The person's own goal is missing.", "user_goal"))
    if not decision.legal_basis:
        out.append(Violation("legal-basis-missing", "At least one legal basis is needed.", "legal_basis"))
    out.extend(
        Violation("unknown-legal-basis", f"Unknown legal basis {code!r}.", "legal_basis")
        for code in decision.legal_basis
        if code not in catalogue.legal_basis
    )
    return out


def _date_problems(decision: DecisionFacts, granting: bool) -> list[Violation]:
    """A start; an end after it; for a grant, an evaluation between the two."""
    start, end, evaluation = decision.start_date, decision.end_date, decision.evaluation_date
    out: list[Violation] = []
    if start is None:
        out.append(Violation("start-date-missing", "The start date is missing.", "start_date"))
    if start and end and end < start:
        out.append(Violation("end-before-start", "The end date is before the start date.", "end_date"))
    if granting and evaluation is None:
        out.append(
            Violation(
                "evaluation-date-missing", "A granted service needs an evaluation date.", "evaluation_date"
            )
        )
    if evaluation and start and evaluation < start:
        out.append(
            Violation(
                "evaluation-before-start", "The evaluation date is before the start.", "evaluation_date"
            )
        )
    if evaluation and end and evaluation > end:
        out.append(
            Violation("evaluation-after-end", "The evaluation date is after the end.", "evaluation_date")
        )
    return out


def _service_problems(
    decision: DecisionFacts,
    service: ServiceFacts,
    catalogue: CatalogueFacts,
    allowed_scopes: frozenset[ScopeKind],
    where: str,
) -> list[Violation]:
    """One answered service: known, a refusal explained and empty, a grant with measures,
    a scope its district writes and a provider that may deliver it."""
    out: list[Violation] = []
    iplos = catalogue.service_types.get(service.service_type)
    if iplos is None:
        out.append(
            Violation("unknown-service", f"{service.service_type!r} is not in the service catalogue.", where)
        )
    if service.outcome != Outcome.granted and not (service.refusal_reason or "").strip():
        out.append(Violation("refusal-reason-missing", "What is refused, and why, must be stated.", where))
    if service.outcome == Outcome.refused:
        if service.measures or service.hours_per_month:
            out.append(Violation("refused-with-scope", "A refused service has no measures or hours.", where))
        return out
    if service.scope_kind not in allowed_scopes:
        kinds = ", ".join(sorted(allowed_scopes))
        out.append(
            Violation(
                "scope-kind-not-for-district",
                f"District organised as {decision.organisation_model} writes scope as {kinds}.",
                where,
            )
        )
    if not service.measures:
        out.append(
            Violation(
                "measures-missing", "Say what the service means for the person: at least one measure.", where
            )
        )
    for j, measure in enumerate(service.measures):
        out.extend(_measure_problems(service, measure, catalogue, f"{where}.measures[{j}]"))
    out.extend(_scope_problems(service, where))
    if service.provider_org is not None:
        out.extend(_provider_problems(service, service.provider_org, iplos, catalogue, where))
    return out


def _measure_problems(
    service: ServiceFacts, measure: MeasureFacts, catalogue: CatalogueFacts, where: str
) -> list[Violation]:
    out: list[Violation] = []
    if not measure.description.strip() or measure.times < 1 or measure.per not in PER_MONTH:
        out.append(
            Violation("measure-incomplete", "Each measure needs a description and a frequency.", where)
        )
    if measure.code is not None:
        if measure.code not in catalogue.measures:
            out.append(
                Violation(
                    "unknown-measure-code",
                    f"{measure.code!r} is not an active code of the measure catalogue.",
                    f"{where}.code",
                )
            )
        elif (belongs := catalogue.measures[measure.code]) not in (None, service.service_type):
            out.append(
                Violation(
                    "measure-not-for-service",
                    f"The measure {measure.code!r} belongs to {belongs}, not {service.service_type}.",
                    f"{where}.code",
                )
            )
    if service.scope_kind == ScopeKind.minutes_per_measure and not measure.minutes:
        out.append(
            Violation("minutes-missing", "Purchaser-provider scope gives minutes for each measure.", where)
        )
    return out


def _scope_problems(service: ServiceFacts, where: str) -> list[Violation]:
    """The granted hours within what a month holds, in the way the scope kind writes them."""
    if service.scope_kind == ScopeKind.hours_per_month and not _hours_ok(service.hours_per_month):
        return [Violation("hours-out-of-range", "Hours per month must be above 0 and at most 744.", where)]
    if service.scope_kind == ScopeKind.frame and not (
        _hours_ok(service.frame_min_hours)
        and _hours_ok(service.frame_max_hours)
        and (service.frame_min_hours or 0) <= (service.frame_max_hours or 0)
    ):
        return [
            Violation("frame-invalid", "A frame needs 0 < minimum ≤ maximum ≤ 744 hours per month.", where)
        ]
    if service.scope_kind == ScopeKind.minutes_per_measure and not (
        Decimal(0) < measure_hours_per_month(service.measures) <= MAX_HOURS_PER_MONTH
    ):
        return [Violation("hours-out-of-range", "The measures add up to more than a month holds.", where)]
    return []


def _provider_problems(
    service: ServiceFacts, provider_org: str, iplos: str | None, catalogue: CatalogueFacts, where: str
) -> list[Violation]:
    provider = catalogue.providers.get(provider_org)
    if provider is None:
        return [Violation("unknown-provider", f"Provider {provider_org} is not approved.", where)]
    codes, districts = provider
    out: list[Violation] = []
    if iplos is not None and iplos not in codes:
        out.append(
            Violation(
                "provider-not-approved-for-service",
                f"Provider {provider_org} may not deliver {service.service_type}.",
                where,
            )
        )
    if catalogue.district not in districts:
        out.append(
            Violation(
                "provider-not-approved-for-district",
                f"Provider {provider_org} does not serve {catalogue.district}.",
                where,
            )
        )
    return out


_OUTCOME_RANK = {Outcome.refused: 0, Outcome.partly_granted: 1, Outcome.granted: 2}


def scope_bounds(service: ServiceFacts) -> tuple[Decimal, Decimal]:
    """The least and the most hours per month the service grants: a fixed number of hours is
    both, a frame its minimum and maximum, minutes per measure the hours the measures add up to."""
    if service.outcome == Outcome.refused:
        return Decimal(0), Decimal(0)
    if service.scope_kind == ScopeKind.frame:
        low = service.frame_min_hours or Decimal(0)
        return low, service.frame_max_hours or low
    hours = decided_hours(service)
    return hours, hours


def per_month(measure: MeasureFacts) -> Decimal:
    return measure.times * PER_MONTH.get(measure.per, Decimal(0))


def _same_measure(old: MeasureFacts, new: MeasureFacts) -> bool:
    """By code when both have one, else by description (a measure without a code, or one
    written before codes existed, tolerated with getattr)."""
    old_code, new_code = getattr(old, "code", None), getattr(new, "code", None)
    if old_code and new_code:
        return bool(old_code == new_code)
    return old.description.strip().lower() == new.description.strip().lower()


def _at_least(new: MeasureFacts, old: MeasureFacts) -> bool:
    """`new` gives at least what `old` gave: as often, and as many minutes where old had any."""
    if per_month(new) < per_month(old):
        return False
    return old.minutes is None or (new.minutes or 0) >= old.minutes


def _match(old: Sequence[MeasureFacts], new: Sequence[MeasureFacts]) -> dict[int, int]:
    """The most old measures each kept by a distinct new measure that gives at least as much
    (a maximum bipartite matching; decisions have a handful of measures)."""
    edges = [[j for j, n in enumerate(new) if _same_measure(o, n) and _at_least(n, o)] for o in old]
    owner: dict[int, int] = {}  # new index -> old index

    def augment(i: int, seen: set[int]) -> bool:
        for j in edges[i]:
            if j in seen:
                continue
            seen.add(j)
            if j not in owner or augment(owner[j], seen):
                owner[j] = i
                return True
        return False

    for i in range(len(old)):
        augment(i, set())
    return {i: j for j, i in owner.items()}


def _measure_detriments(name: str, old: Sequence[MeasureFacts], new: Sequence[MeasureFacts]) -> list[str]:
    kept = _match(old, new)
    used = set(kept.values())
    found: list[str] = []
    for i, measure in enumerate(old):
        if i in kept:
            continue
        label = f"{name}.measure {measure.description!r}"
        candidates = [n for j, n in enumerate(new) if j not in used and _same_measure(measure, n)]
        if not candidates:
            found.append(f"{label} is removed")
            continue
        closest = max(candidates, key=lambda n: (per_month(n), n.minutes or 0))
        if per_month(closest) < per_month(measure):
            found.append(f"{label} is less frequent")
        if measure.minutes is not None and (closest.minutes or 0) < measure.minutes:
            found.append(f"{label} has fewer minutes")
    return found


def detriments(before: DecisionFacts, after: DecisionFacts) -> list[str]:
    """Ways `after` is worse for the person than `before`. A running decision may be amended
    only if this is empty; otherwise a new decision is needed (forvaltningsloven § 35).

    Worse is: a later start or an earlier (or newly set) end; a service no longer granted or
    granted more narrowly; a lower minimum or maximum of hours (a fixed number of hours is
    both; a change of scope kind is worse unless neither bound falls); a measure removed,
    less frequent or with fewer minutes (measures matched by code when both have one, else by
    description); a higher co-payment per month for a service (`copayment_ore`, where both
    sides know it). Pure: the caller prices the co-payments."""
    found: list[str] = []
    if before.start_date and after.start_date and after.start_date > before.start_date:
        found.append("start_date is later")
    if before.start_date and after.start_date is None:
        found.append("start_date is removed")
    if after.end_date is not None and (before.end_date is None or after.end_date < before.end_date):
        found.append("end_date is earlier")
    new_services = {s.service_type: s for s in after.services}
    for old in before.services:
        if old.outcome == Outcome.refused:
            continue
        new = new_services.get(old.service_type)
        name = f"services[{old.service_type}]"
        if new is None or new.outcome == Outcome.refused:
            found.append(f"{name} is no longer granted")
            continue
        if _OUTCOME_RANK[new.outcome] < _OUTCOME_RANK[old.outcome]:
            found.append(f"{name}.outcome is narrower")
        old_min, old_max = scope_bounds(old)
        new_min, new_max = scope_bounds(new)
        if new.scope_kind != old.scope_kind and (new_min < old_min or new_max < old_max):
            found.append(f"{name}.scope_kind {old.scope_kind.value} → {new.scope_kind.value} grants less")
        if new_min < old_min:
            found.append(f"{name} minimum hours is lower ({old_min} → {new_min})")
        if new_max < old_max:
            found.append(f"{name} maximum hours is lower ({old_max} → {new_max})")
        found += _measure_detriments(name, old.measures, new.measures)
        old_pay, new_pay = old.copayment_ore, new.copayment_ore
        if old_pay is not None and new_pay is not None and new_pay > old_pay:
            found.append(f"{name}.copayment is higher ({old_pay} → {new_pay} øre a month)")
    return found


def changes(before: Mapping[str, Any], after: Mapping[str, Any], prefix: str = "") -> list[dict[str, Any]]:
    """Field-level differences between two snapshots, for the version history."""
    out: list[dict[str, Any]] = []
    for key in sorted(set(before) | set(after)):
        old, new = before.get(key), after.get(key)
        path = f"{prefix}{key}"
        if isinstance(old, Mapping) and isinstance(new, Mapping):
            out += changes(old, new, f"{path}.")
        elif old != new:
            out.append({"field": path, "from": old, "to": new})
    return out
