"""Published by assignments: the provider's order (`order.issued` with basis "assignment",
personal details included, for notifications only) and the pseudonymous
`assignment.issued` / `assignment.ended` for every other service (pathway's timeline and
its day-14 rule)."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from pydantic import BaseModel

from hjemflyt.assessment.assignments.models import Assignment
from hjemflyt.assessment.persons.schemas import PersonOut
from hjemflyt.shared.contracts.assignments import (
    ASSIGNMENT_ENDED,
    ASSIGNMENT_ISSUED,
    AssignmentEnded,
    AssignmentIssued,
)
from hjemflyt.shared.contracts.events import (
    ORDER_ISSUED,
    DecidedService,
    OrderedMeasure,
    OrderIssued,
    OrderRecipient,
)
from hjemflyt.shared.contracts.registry import EventType
from hjemflyt.shared.platform.context import ServiceContext

Event = tuple[EventType[Any], BaseModel, str]


def decided_services(a: Assignment, name: Callable[[str], str]) -> list[DecidedService]:
    """The assignment's services as the order carries them: granted, hours per month from
    the measures' minutes where given (else 0), every measure with its frequency."""
    return [
        DecidedService(
            service_code=s["service_code"],
            service_name=name(s["service_type"]),
            hours_per_month=Decimal(s["hours_per_month"]),
            provider_org=a.provider_org,
            service_type=s["service_type"],
            outcome="granted",
            scope_kind="hours_per_month",
            measures=[OrderedMeasure(**m) for m in s["measures"]],
        )
        for s in a.services
    ]


def order_event(
    ctx: ServiceContext,
    a: Assignment,
    person: PersonOut,
    services: list[DecidedService],
    *,
    kind: str,
    case_office: str | None,
    organisation_model: str | None,
) -> Event:
    return (
        ORDER_ISSUED,
        OrderIssued(
            kind=kind,
            decision_id=a.id,
            decision_version=a.version,
            person_id=a.person_id,
            district=a.district,
            provider_org=a.provider_org,
            recipient=OrderRecipient(
                identity_number=person.identity_number,
                name=person.name,
                address=person.address,
                phone=person.phone,
            ),
            services=services,
            start_date=a.start_date,
            end_date=a.end_date,
            case_office_contact=case_office,
            issued_at=ctx.clock.now(),
            basis="assignment",
            organisation_model=organisation_model,
            purpose=a.purpose,
            user_goal=a.user_goal,
            end_reason=a.end_reason if kind == "ended" else None,
        ),
        f"{a.id}/{a.provider_org}",
    )


def issued_event(a: Assignment, services: list[DecidedService]) -> Event:
    return (
        ASSIGNMENT_ISSUED,
        AssignmentIssued(
            assignment_id=a.id,
            person_id=a.person_id,
            district=a.district,
            provider_org=a.provider_org,
            pathway_id=a.pathway_id,
            start_date=a.start_date,
            end_date=a.end_date,
            services=services,
            issued_at=a.created_at,
        ),
        str(a.id),
    )


def ended_event(a: Assignment) -> Event:
    assert a.end_reason is not None
    assert a.ended_at is not None
    return (
        ASSIGNMENT_ENDED,
        AssignmentEnded(
            assignment_id=a.id,
            person_id=a.person_id,
            district=a.district,
            provider_org=a.provider_org,
            pathway_id=a.pathway_id,
            start_date=a.start_date,
            end_date=a.end_date,
            reason=a.end_reason,
            superseded_by=a.superseded_by,
            ended_at=a.ended_at,
        ),
        str(a.id),
    )
