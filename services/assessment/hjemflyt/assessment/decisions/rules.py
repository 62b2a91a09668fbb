"""Pure rules for making a decision (no IO): what makes a request complete and consistent.

Returns every broken rule at once, so a case officer fixes them in one go.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from hjemflyt.shared.contracts.codes import IPLOS_SERVICES

# A month has at most 31 days of 24 hours; more cannot be decided.
MAX_HOURS_PER_MONTH = Decimal(744)


@dataclass(frozen=True)
class RequestedService:
    service_code: str
    hours_per_month: Decimal
    provider_org: str


@dataclass(frozen=True)
class ProviderFacts:
    service_codes: frozenset[str]
    districts: frozenset[str]


@dataclass(frozen=True)
class Violation:
    rule: str
    message: str
    field: str | None = None


def check_decision(
    *,
    district: str,
    start_date: date,
    end_date: date | None,
    evaluation_date: date | None,
    services: Sequence[RequestedService],
    providers: Mapping[str, ProviderFacts],
) -> list[Violation]:
    problems: list[Violation] = []
    if not services:
        problems.append(Violation("no-services", "A decision grants at least one service.", "services"))
    if end_date is not None and end_date < start_date:
        problems.append(Violation("end-before-start", "The end date is before the start date.", "end_date"))
    if evaluation_date is not None:
        if evaluation_date < start_date:
            problems.append(
                Violation(
                    "evaluation-before-start", "The evaluation date is before the start.", "evaluation_date"
                )
            )
        if end_date is not None and evaluation_date > end_date:
            problems.append(
                Violation("evaluation-after-end", "The evaluation date is after the end.", "evaluation_date")
            )
    seen: set[str] = set()
    for i, service in enumerate(services):
        where = f"services[{i}]"
        if service.service_code in seen:
            problems.append(
                Violation("duplicate-service", f"Service {service.service_code} is granted twice.", where)
            )
        seen.add(service.service_code)
        if service.service_code not in IPLOS_SERVICES:
            problems.append(
                Violation("unknown-service", f"Unknown IPLOS service code {service.service_code!r}.", where)
            )
        if not (Decimal(0) < service.hours_per_month <= MAX_HOURS_PER_MONTH):
            problems.append(
                Violation("hours-out-of-range", "Hours per month must be above 0 and at most 744.", where)
            )
        provider = providers.get(service.provider_org)
        if provider is None:
            problems.append(
                Violation("unknown-provider", f"Provider {service.provider_org} is not approved.", where)
            )
            continue
        if service.service_code not in provider.service_codes:
            problems.append(
                Violation(
                    "provider-not-approved-for-service",
                    f"Provider {service.provider_org} may not deliver service {service.service_code}.",
                    where,
                )
            )
        if district not in provider.districts:
            problems.append(
                Violation(
                    "provider-not-approved-for-district",
                    f"Provider {service.provider_org} does not serve district {district}.",
                    where,
                )
            )
    return problems
