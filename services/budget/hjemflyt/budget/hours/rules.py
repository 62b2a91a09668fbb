"""Pure rules: which decided services count towards the budget, and under which key."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from hjemflyt.shared.contracts.events import DecidedService

COUNTING_OUTCOMES = frozenset({"granted", "partly_granted"})


@dataclass(frozen=True)
class CountedService:
    key: str
    service_code: str
    service_type: str | None
    outcome: str
    scope_kind: str
    hours_per_month: Decimal
    provider_org: str | None
    # The structured order's scope (issue 12); empty from decisions that do not give them.
    frame_min_hours: Decimal | None = None
    frame_max_hours: Decimal | None = None
    measures: tuple[dict[str, Any], ...] = ()


@dataclass
class PersonAtUnit:
    """One person's decided hours per month at one provider unit, per IPLOS service code:
    what every financing model is applied to."""

    person_id: uuid.UUID
    provider_org: str
    kind: str  # municipal | private | unknown (the unit is not registered yet)
    district: str
    hours_by_code: dict[str, Decimal]

    @property
    def hours(self) -> Decimal:
        return sum(self.hours_by_code.values(), Decimal(0))


def unpack_hours(packed: str) -> dict[str, Decimal]:
    """'15<US>5.00<RS>1<US>3.20' -> {'15': 5.00, '1': 3.20} (ASCII unit and record
    separators, as the population read packs them); a code in two decisions is summed."""
    hours: dict[str, Decimal] = {}
    for item in packed.split("\x1e"):
        code, h = item.split("\x1f")
        hours[code] = hours[code] + Decimal(h) if code in hours else Decimal(h)
    return hours


def service_key(service_type: str | None, service_code: str) -> str:
    """A service's identity within its decision: the catalogue type, else the IPLOS code.

    A decision answers each catalogue type once, but two types may share an IPLOS code.
    """
    return service_type or service_code


def same_service(service_type: str | None, service_code: str, chosen_type: str, chosen_code: str) -> bool:
    """Whether a provider choice (which names both) is for this decided service."""
    return service_type == chosen_type if service_type else service_code == chosen_code


def counted_services(services: Iterable[DecidedService]) -> list[CountedService]:
    """The services whose hours count: granted or partly granted, with hours above 0.

    Should a version name a key twice, its hours are added up (the first provider named wins).
    """
    counted: dict[str, CountedService] = {}
    for s in services:
        if s.outcome not in COUNTING_OUTCOMES or s.hours_per_month <= 0:
            continue
        key = service_key(s.service_type, s.service_code)
        seen = counted.get(key)
        if seen is None:
            counted[key] = CountedService(
                key=key,
                service_code=s.service_code,
                service_type=s.service_type,
                outcome=s.outcome,
                scope_kind=s.scope_kind,
                hours_per_month=s.hours_per_month,
                provider_org=s.provider_org,
                frame_min_hours=s.frame_min_hours,
                frame_max_hours=s.frame_max_hours,
                measures=tuple(m.model_dump(mode="json") for m in s.measures),
            )
        else:
            counted[key] = replace(
                seen,
                hours_per_month=seen.hours_per_month + s.hours_per_month,
                provider_org=seen.provider_org or s.provider_org,
                frame_min_hours=_add(seen.frame_min_hours, s.frame_min_hours),
                frame_max_hours=_add(seen.frame_max_hours, s.frame_max_hours),
                measures=seen.measures + tuple(m.model_dump(mode="json") for m in s.measures),
            )
    return list(counted.values())


def _add(a: Decimal | None, b: Decimal | None) -> Decimal | None:
    return b if a is None else a if b is None else a + b
