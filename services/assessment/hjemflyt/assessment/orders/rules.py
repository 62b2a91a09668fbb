"""The one structured order (issue 12): what a decision says, turned into what each provider
receives. Pure (no IO): decisions, the bulk import and anything else that sends orders build
them here, so an order reads the same however its decision came in.

Per provider with granted services (outcome not refused): the services with their outcome,
scope kind and scope (hours per month, a min-max frame, minutes per measure), each measure
with its frequency and minutes; the decision's terms (decision date, start, end, evaluation
date, purpose, the person's goal, organisation model); the case office to contact; and, for
kind `ended`, why it ends.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel

from hjemflyt.assessment.decisions.schemas import DecisionOut
from hjemflyt.shared.contracts.events import (
    ORDER_ISSUED,
    DecidedService,
    OrderedMeasure,
    OrderIssued,
    OrderRecipient,
)
from hjemflyt.shared.contracts.registry import EventType

Event = tuple[EventType[Any], BaseModel, str]

# Why a provider's order ends while the decision runs on (kind `ended`, `end_reason`).
PROVIDER_CHANGED = "provider_changed"  # the person chose another provider for its services
SERVICE_ENDED = "service_ended"  # the decision no longer grants the provider's services


def ordered_measure(measure: Any) -> OrderedMeasure:
    """A decision's measure as the order carries it; `code` where the decision has one."""
    return OrderedMeasure(
        code=getattr(measure, "code", None),
        description=measure.description,
        times=measure.times,
        per=measure.per,
        minutes=measure.minutes,
    )


def decided_services(out: DecisionOut) -> list[DecidedService]:
    """Every service the decision answers (refused ones included), with scope and measures:
    the services of `decision.made`, `decision.amended` and, filtered, of each order."""
    return [
        DecidedService(
            service_code=s.service_code,
            service_name=s.service_name,
            hours_per_month=s.hours_per_month,
            provider_org=s.provider_org,
            service_type=s.service_type,
            outcome=s.outcome.value,
            scope_kind=s.scope_kind.value,
            frame_min_hours=s.frame_min_hours,
            frame_max_hours=s.frame_max_hours,
            measures=[ordered_measure(m) for m in s.measures],
        )
        for s in out.services
    ]


def granted_by_provider(services: Iterable[DecidedService]) -> dict[str, list[DecidedService]]:
    """The granted services with a chosen provider, per provider (sorted by organisation number)."""
    by_provider: dict[str, list[DecidedService]] = {}
    for s in services:
        if s.provider_org and s.outcome != "refused":
            by_provider.setdefault(s.provider_org, []).append(s)
    return dict(sorted(by_provider.items()))


def recipient(identity_number: str, name: str, address: str, phone: str | None) -> OrderRecipient:
    return OrderRecipient(identity_number=identity_number, name=name, address=address, phone=phone)


def order(
    out: DecisionOut,
    to: OrderRecipient,
    *,
    kind: str,
    provider_org: str,
    services: Sequence[DecidedService],
    case_office: str | None,
    issued_at: datetime,
    end_date: date | None = None,
    end_reason: str | None = None,
) -> Event:
    """One `order.issued` (type, data, subject) for `provider_org` with `services`.

    `end_date` overrides the decision's (a provider that leaves a running decision stops
    earlier); `end_reason` is the decision's for kind `ended` unless given."""
    assert out.start_date is not None, "an order needs the decision's start date"
    if kind == "ended" and end_reason is None:
        end_reason = out.end_reason
    return (
        ORDER_ISSUED,
        OrderIssued(
            kind=kind,
            decision_id=out.id,
            decision_version=out.version,
            person_id=out.person_id,
            district=out.district,
            provider_org=provider_org,
            recipient=to,
            services=list(services),
            start_date=out.start_date,
            end_date=end_date if end_date is not None else out.end_date,
            case_office_contact=case_office,
            issued_at=issued_at,
            basis="decision",
            organisation_model=out.organisation_model,
            decision_date=out.decision_date,
            evaluation_date=out.evaluation_date,
            purpose=out.purpose,
            user_goal=out.user_goal,
            end_reason=end_reason if kind == "ended" else None,
        ),
        f"{out.id}/{provider_org}",
    )


def orders(
    out: DecisionOut,
    to: OrderRecipient,
    *,
    kind: str,
    case_office: str | None,
    issued_at: datetime,
    providers: set[str] | None = None,
    decided: Sequence[DecidedService] | None = None,
) -> list[Event]:
    """One order of `kind` per provider with granted services (only `providers`, if given).
    `decided`: `decided_services(out)` if the caller built them already (for `decision.made`);
    building them is a good part of a bulk import's CPU."""
    return [
        order(
            out,
            to,
            kind=kind,
            provider_org=org,
            services=services,
            case_office=case_office,
            issued_at=issued_at,
        )
        for org, services in granted_by_provider(
            decided if decided is not None else decided_services(out)
        ).items()
        if providers is None or org in providers
    ]


def dropped_orders(
    before: DecisionOut,
    out: DecisionOut,
    to: OrderRecipient,
    *,
    end_date: date,
    case_office: str | None,
    issued_at: datetime,
) -> list[Event]:
    """An `ended` order (at `out`'s version, ending on `end_date`) for each provider that had
    granted services in `before` and has none in `out`: it must stop delivering. The reason
    is `provider_changed` when another provider now has one of its services, else
    `service_ended`."""
    now = granted_by_provider(decided_services(out))
    still_granted = {s.service_type for services in now.values() for s in services}
    ended: list[Event] = []
    for org, services in granted_by_provider(decided_services(before)).items():
        if org in now:
            continue
        moved = any(s.service_type in still_granted for s in services)
        ended.append(
            order(
                out,
                to,
                kind="ended",
                provider_org=org,
                services=services,
                case_office=case_office,
                issued_at=issued_at,
                end_date=end_date,
                end_reason=PROVIDER_CHANGED if moved else SERVICE_ENDED,
            )
        )
    return ended


def amended_orders(
    before: DecisionOut,
    out: DecisionOut,
    to: OrderRecipient,
    *,
    end_date: date,
    case_office: str | None,
    issued_at: datetime,
) -> list[Event]:
    """What an amendment sends: `changed` to each provider that had granted services before
    and still has, `new` to one that came in, `ended` to one that left (`dropped_orders`)."""
    had = set(granted_by_provider(decided_services(before)))
    sent = [
        order(
            out,
            to,
            kind="changed" if org in had else "new",
            provider_org=org,
            services=services,
            case_office=case_office,
            issued_at=issued_at,
        )
        for org, services in granted_by_provider(decided_services(out)).items()
    ]
    return sent + dropped_orders(
        before, out, to, end_date=end_date, case_office=case_office, issued_at=issued_at
    )
