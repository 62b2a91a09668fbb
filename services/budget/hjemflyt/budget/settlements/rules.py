"""Pure rules of provider settlement: the price of a visit, the amount of a line, and the
lines of a monthly statement. No IO: the repository hands in plain facts.

Money is integer øre. A line's amount is its exact duration times the price per hour,
rounded half up to the øre per line; a statement's total is the sum of its lines.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date, datetime

from hjemflyt.budget.delivered.rules import Limit, Timed, beyond_decision
from hjemflyt.budget.deliveries.rules import SECONDS_PER_HOUR

# Why a line has no price (it stays on the statement so the provider sees it).
NO_SERVICE_TYPE = "no-service-type"
NO_CONTRACT_PRICE = "no-contract-price"
OUTSIDE_AGREEMENT = "outside-agreement"
CANCELLED = "cancelled"

VISIT, CORRECTION, ADJUSTMENT = "visit", "correction", "adjustment"


@dataclass(frozen=True)
class Agreement:
    """The provider's framework agreement as the registry last described it."""

    prices_ore_per_hour: dict[str, int]
    valid_from: date | None
    valid_to: date | None


@dataclass(frozen=True)
class Visit:
    visit_id: str
    visit_date: date
    planned_start: datetime
    order_id: uuid.UUID
    person_id: uuid.UUID
    service_type: str | None
    planned_seconds: int
    actual_seconds: int
    cancelled: bool


@dataclass(frozen=True)
class Correction:
    """A visit of a closed month reported again (or late): its new content, what was settled
    for the visit before (øre, 0 if never), and the month it corrects."""

    id: uuid.UUID
    visit: Visit
    corrects_month: str
    previously_settled_ore: int


@dataclass(frozen=True)
class AcceptedDispute:
    id: uuid.UUID
    created_at: datetime
    adjustment_ore: int
    month: str  # of the statement whose line was disputed
    visit_id: str | None
    visit_date: date | None
    order_id: uuid.UUID | None
    person_id: uuid.UUID | None
    service_type: str | None


@dataclass(frozen=True)
class Line:
    line_no: int
    kind: str
    visit_id: str | None
    visit_date: date | None
    order_id: uuid.UUID | None
    person_id: uuid.UUID | None
    service_type: str | None
    planned_seconds: int
    actual_seconds: int
    price_ore_per_hour: int | None
    amount_ore: int
    unpriced_reason: str | None = None
    corrects_month: str | None = None
    previously_settled_ore: int | None = None
    correction_id: uuid.UUID | None = None
    dispute_id: uuid.UUID | None = None
    beyond_decision_seconds: int = 0
    beyond_decision_ore: int = 0
    beyond_decision_approved: bool = False


def amount_ore(seconds: int, price_ore_per_hour: int) -> int:
    """seconds * price / 3600, rounded half up to the øre (exact in integers)."""
    if seconds < 0 or price_ore_per_hour < 0:
        raise ValueError("durations and prices are not negative")
    return (2 * seconds * price_ore_per_hour + SECONDS_PER_HOUR) // (2 * SECONDS_PER_HOUR)


def price(agreement: Agreement, service_type: str | None, on: date) -> tuple[int | None, str | None]:
    """(price per hour in øre, None), or (None, why there is none) for a visit on `on`."""
    if service_type is None:
        return None, NO_SERVICE_TYPE
    if (agreement.valid_from and on < agreement.valid_from) or (
        agreement.valid_to and on > agreement.valid_to
    ):
        return None, OUTSIDE_AGREEMENT
    found = agreement.prices_ore_per_hour.get(service_type)
    if found is None:
        return None, NO_CONTRACT_PRICE
    return found, None


def _priced(agreement: Agreement, v: Visit) -> tuple[int | None, int, str | None]:
    """(price, amount, unpriced reason) of a visit: cancelled visits earn nothing."""
    if v.cancelled:
        return None, 0, CANCELLED
    p, reason = price(agreement, v.service_type, v.visit_date)
    return p, (amount_ore(v.actual_seconds, p) if p is not None else 0), reason


def statement_lines(
    agreement: Agreement,
    visits: list[Visit],
    corrections: list[Correction],
    disputes: list[AcceptedDispute],
    limits: Mapping[uuid.UUID, Limit] | None = None,
    approved: Collection[uuid.UUID] = (),
) -> list[Line]:
    """The month's lines: its delivered visits (cancelled ones are not delivered and are
    left out), then corrections of closed months, then accepted disputes.

    `limits` (person -> hours the decisions allow at most in the month at this provider, in
    all and per service, `delivered.rules.Limit`): a person's visits count against them in
    delivery order (`delivered.rules.beyond_decision`); the part of a visit beyond is marked
    (`beyond_decision_*`) and its money left out of the line's amount unless the person is
    in `approved`. Persons without a limit (no decision known, e.g. a pathway assignment
    before the decision) are paid as delivered."""
    limits = limits or {}
    delivered = sorted(
        (v for v in visits if not v.cancelled), key=lambda v: (v.visit_date, v.planned_start, v.visit_id)
    )
    beyond: dict[object, int] = {}
    for person_id, limit in limits.items():
        mine = [
            (Timed(v.visit_id, v.actual_seconds), v.service_type)
            for v in delivered
            if v.person_id == person_id
        ]
        beyond |= beyond_decision(mine, limit)
    lines: list[Line] = []
    for v in delivered:
        p, amount, reason = _priced(agreement, v)
        over = beyond.get(v.visit_id, 0)
        over_ore = amount - amount_ore(v.actual_seconds - over, p) if over and p is not None else 0
        ok = over > 0 and v.person_id in approved
        lines.append(
            Line(
                len(lines) + 1,
                VISIT,
                v.visit_id,
                v.visit_date,
                v.order_id,
                v.person_id,
                v.service_type,
                v.planned_seconds,
                v.actual_seconds,
                p,
                amount if ok else amount - over_ore,
                reason,
                beyond_decision_seconds=over,
                beyond_decision_ore=over_ore,
                beyond_decision_approved=ok,
            )
        )
    for c in sorted(corrections, key=lambda c: (c.corrects_month, c.visit.visit_date, c.visit.visit_id)):
        v = c.visit
        p, amount, reason = _priced(agreement, v)
        lines.append(
            Line(
                len(lines) + 1,
                CORRECTION,
                v.visit_id,
                v.visit_date,
                v.order_id,
                v.person_id,
                v.service_type,
                v.planned_seconds,
                0 if v.cancelled else v.actual_seconds,
                p,
                # The difference to what the provider was paid for the visit before.
                amount - c.previously_settled_ore,
                reason,
                corrects_month=c.corrects_month,
                previously_settled_ore=c.previously_settled_ore,
                correction_id=c.id,
            )
        )
    for d in sorted(disputes, key=lambda d: (d.created_at, d.id)):
        lines.append(
            Line(
                len(lines) + 1,
                ADJUSTMENT,
                d.visit_id,
                d.visit_date,
                d.order_id,
                d.person_id,
                d.service_type,
                0,
                0,
                None,
                d.adjustment_ore,
                corrects_month=d.month,
                dispute_id=d.id,
            )
        )
    return lines


def total_ore(lines: list[Line]) -> int:
    """What is paid: the lines' amounts (beyond-decision parts not approved are not in them)."""
    return sum(line.amount_ore for line in lines)


def withheld_ore(lines: list[Line]) -> int:
    """The beyond-decision parts not approved: left out of the total."""
    return sum(line.beyond_decision_ore for line in lines if not line.beyond_decision_approved)


def month_ended(month: str, today: date) -> bool:
    """A month can be closed only once it is over."""
    return month < f"{today.year:04d}-{today.month:02d}"


def month_started(month: str, today: date) -> bool:
    """A statement can be drafted from the month's first day (to follow it as it runs)."""
    return month <= f"{today.year:04d}-{today.month:02d}"
