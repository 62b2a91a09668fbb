"""Pure rules of pathway assignments (DOMAIN §§ 2, 5; Stavanger's flow step 3). No IO.

In pathway 1 the case office sends the provider the assignment before any decision: none
is needed for 14 days, so an assignment runs at most 14 days, both ends included; measures
that run longer need a decision. The provider must be approved for the service and the
person's district, and each service says what is to be done: at least one measure, by a
code of the measure catalogue (known, and for that service), free text, or both.

Every check returns all broken rules at once, so a case officer fixes them in one go.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum

from hjemflyt.assessment.decisions.rules import PER_MONTH, MeasureFacts, measure_hours_per_month

# Without a decision measures may run 14 days: the start day and 13 more.
MAX_DAYS = 14
# An assignment may be registered a few days after the provider started (a weekend's
# discharge), not back-dated further.
MAX_DAYS_BACK = 3


class Status(StrEnum):
    issued = "issued"
    ended = "ended"
    # Never stored: an issued assignment past its end date (it ran out; nothing to send).
    expired = "expired"


class EndReason(StrEnum):
    ended = "ended"
    masters_daily_life = "masters_daily_life"
    deceased = "deceased"
    moved = "moved"
    nursing_home = "nursing_home"
    own_wish = "own_wish"
    # Set only when a decision for the same provider replaces it.
    superseded = "superseded"


@dataclass(frozen=True)
class ServiceFacts:
    service_type: str
    measures: Sequence[MeasureFacts]


@dataclass(frozen=True)
class AssignmentFacts:
    provider_org: str
    district: str
    start_date: date
    end_date: date
    services: Sequence[ServiceFacts]


@dataclass(frozen=True)
class CatalogueFacts:
    service_types: Mapping[str, str]  # code -> IPLOS code, active services only
    # provider_org -> (IPLOS codes it may deliver, districts it serves)
    providers: Mapping[str, tuple[frozenset[str], frozenset[str]]]
    # active measure codes -> the service type they belong to (None: any)
    measures: Mapping[str, str | None] = field(default_factory=dict)


@dataclass(frozen=True)
class Violation:
    rule: str
    message: str
    field: str | None = None


def last_allowed_day(start: date) -> date:
    return start + timedelta(days=MAX_DAYS - 1)


def check(a: AssignmentFacts, catalogue: CatalogueFacts, today: date) -> list[Violation]:
    """Everything an assignment must satisfy before it is sent."""
    problems: list[Violation] = []

    def broken(rule: str, message: str, where: str | None = None) -> None:
        problems.append(Violation(rule, message, where))

    problems.extend(_period_problems(a, today))
    if not a.services:
        broken("no-services", "An assignment names at least one service.", "services")
    provider = catalogue.providers.get(a.provider_org)
    if provider is None:
        broken("unknown-provider", f"Provider {a.provider_org} is not approved.", "provider_org")
    elif a.district not in provider[1]:
        broken(
            "provider-not-approved-for-district",
            f"Provider {a.provider_org} does not serve {a.district}.",
            "provider_org",
        )
    seen: set[str] = set()
    for i, service in enumerate(a.services):
        where = f"services[{i}]"
        if service.service_type in seen:
            broken("duplicate-service", f"{service.service_type} is named twice.", where)
        seen.add(service.service_type)
        iplos = catalogue.service_types.get(service.service_type)
        if iplos is None:
            broken("unknown-service", f"{service.service_type!r} is not in the service catalogue.", where)
        elif provider is not None and iplos not in provider[0]:
            broken(
                "provider-not-approved-for-service",
                f"Provider {a.provider_org} may not deliver {service.service_type}.",
                where,
            )
        if not service.measures:
            broken("measures-missing", "Say what is to be done: at least one measure.", where)
        problems.extend(_measure_problems(service, where, catalogue))
    return problems


def _period_problems(a: AssignmentFacts, today: date) -> list[Violation]:
    """The start not too far back; the end after the start and within MAX_DAYS."""
    problems: list[Violation] = []
    if a.start_date < today - timedelta(days=MAX_DAYS_BACK):
        problems.append(
            Violation(
                "start-too-far-back",
                f"An assignment starts at most {MAX_DAYS_BACK} days back; what ran before needs a decision.",
                "start_date",
            )
        )
    if a.end_date < a.start_date:
        problems.append(Violation("end-before-start", "The end date is before the start date.", "end_date"))
    elif a.end_date > last_allowed_day(a.start_date):
        problems.append(
            Violation(
                "assignment-too-long",
                f"Without a decision measures run at most {MAX_DAYS} days "
                f"(to {last_allowed_day(a.start_date)}); longer needs a decision.",
                "end_date",
            )
        )
    return problems


def _measure_problems(service: ServiceFacts, where: str, catalogue: CatalogueFacts) -> list[Violation]:
    """Each measure of one service: complete, and a code from the catalogue that fits the service."""
    problems: list[Violation] = []
    for j, m in enumerate(service.measures):
        at = f"{where}.measures[{j}]"
        if not m.description.strip() or m.times < 1 or m.per not in PER_MONTH:
            problems.append(
                Violation("measure-incomplete", "Each measure needs a description and a frequency.", at)
            )
        if m.code is None:
            continue
        if m.code not in catalogue.measures:
            problems.append(
                Violation(
                    "unknown-measure-code",
                    f"{m.code!r} is not an active code of the measure catalogue.",
                    f"{at}.code",
                )
            )
        elif (belongs := catalogue.measures[m.code]) not in (None, service.service_type):
            problems.append(
                Violation(
                    "measure-not-for-service",
                    f"The measure {m.code!r} belongs to {belongs}, not {service.service_type}.",
                    f"{at}.code",
                )
            )
    return problems


def refusal_slug(violations: Sequence[Violation]) -> str:
    """The problem's slug: the one rule broken, else `assignment-invalid`."""
    rules = {v.rule for v in violations}
    return next(iter(rules)) if len(rules) == 1 else "assignment-invalid"


def hours_per_month(measures: Sequence[MeasureFacts]) -> Decimal:
    """The order's hours per month: from minutes x frequency where minutes are given, else 0."""
    return measure_hours_per_month(measures)


def effective_status(stored: Status, end_date: date, today: date) -> Status:
    """What an assignment is today: an issued one past its end date has run out."""
    if stored == Status.issued and end_date < today:
        return Status.expired
    return stored


def check_end(start_date: date, end_date: date, requested: date) -> Violation | None:
    """Ending early: not before the day before it started, not after its own end."""
    if requested < start_date - timedelta(days=1):
        return Violation("end-before-start", "The end date is before the assignment started.", "end_date")
    if requested > end_date:
        return Violation(
            "end-after-assignment",
            f"The assignment ends on {end_date} already; a longer run needs a decision.",
            "end_date",
        )
    return None


def superseded_end(start_date: date, end_date: date, decision_start: date | None, today: date) -> date:
    """The last day of an assignment a decision replaces: the day before the decision starts
    (today's date if it has none), within the assignment's own days."""
    last = (decision_start or today) - timedelta(days=1)
    return max(start_date - timedelta(days=1), min(end_date, last))
