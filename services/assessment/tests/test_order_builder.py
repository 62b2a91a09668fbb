"""The structured order's builder (orders.rules): pure, no IO."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from hjemflyt.assessment.decisions.rules import Outcome, ScopeKind, Status
from hjemflyt.assessment.decisions.schemas import DecisionOut, MeasureOut, ServiceOut
from hjemflyt.assessment.orders import rules as orders
from hjemflyt.shared.contracts.events import OrderIssued

A, B = "320000009", "812345672"
AT = datetime(2026, 12, 1, 9, tzinfo=UTC)
TO = orders.recipient("29824849968", "Kari Nordmann", "Gata 1", None)


def service(
    service_type: str, provider: str | None, outcome: Outcome = Outcome.granted, **fields: Any
) -> ServiceOut:
    values: dict[str, Any] = {
        "service_type": service_type,
        "service_name": service_type,
        "service_code": "15" if service_type == "home-nursing" else "1",
        "outcome": outcome,
        "scope_kind": ScopeKind.frame,
        "hours_per_month": Decimal("16.00"),
        "frame_min_hours": Decimal("8.00"),
        "frame_max_hours": Decimal("16.00"),
        "refusal_reason": None,
        "provider_org": provider,
        "measures": [MeasureOut(description="Sårstell", times=3, per="week", minutes=None)],
        **fields,
    }
    return ServiceOut(**values)


def decision(*services: ServiceOut, **fields: Any) -> DecisionOut:
    values: dict[str, Any] = {
        "id": uuid.uuid4(),
        "version": 2,
        "status": Status.made,
        "person_id": uuid.uuid4(),
        "district": "gamle-oslo",
        "organisation_model": "trust_model",
        "application_id": None,
        "assessment_id": None,
        "supersedes_id": None,
        "justification": "j",
        "purpose": "p",
        "user_goal": "g",
        "legal_basis": [],
        "start_date": date(2026, 12, 8),
        "end_date": None,
        "evaluation_date": date(2027, 2, 1),
        "household_income_g": None,
        "appeal_text": None,
        "appeal_deadline": None,
        "decision_date": date(2026, 12, 1),
        "made_by": "x",
        "made_at": AT,
        "sent_at": None,
        "activated_at": None,
        "ended_at": None,
        "end_reason": None,
        "services": list(services),
        **fields,
    }
    return DecisionOut(**values)


def data(event: tuple[Any, Any, str]) -> OrderIssued:
    assert isinstance(event[1], OrderIssued)
    return event[1]


def test_one_order_per_provider_with_granted_services_and_every_decided_field():
    out = decision(
        service("home-nursing", A),
        service("practical-help", B, Outcome.refused),
        service("personal-care", None),
    )
    [event] = orders.orders(out, TO, kind="new", case_office="Forvaltning", issued_at=AT)
    order = data(event)
    assert event[2] == f"{out.id}/{A}"
    [s] = order.services
    assert (s.service_type, s.scope_kind, s.frame_min_hours, s.frame_max_hours) == (
        "home-nursing",
        "frame",
        Decimal("8.00"),
        Decimal("16.00"),
    )
    assert [(m.code, m.description, m.times, m.per, m.minutes) for m in s.measures] == [
        (None, "Sårstell", 3, "week", None)
    ]
    assert (order.organisation_model, order.decision_date, order.evaluation_date) == (
        "trust_model",
        date(2026, 12, 1),
        date(2027, 2, 1),
    )
    assert (order.purpose, order.user_goal, order.basis, order.end_reason) == ("p", "g", "decision", None)
    assert order.case_office_contact == "Forvaltning"
    # decision.made carries every service, refused ones included.
    assert [s.service_type for s in orders.decided_services(out)] == [
        "home-nursing",
        "practical-help",
        "personal-care",
    ]


def test_a_measure_code_is_carried_when_the_decision_has_one():
    class Coded:
        code = "HS-01"
        description = "Sårstell"
        times = 3
        per = "week"
        minutes = 20

    assert orders.ordered_measure(Coded()).code == "HS-01"
    assert orders.ordered_measure(MeasureOut(description="x", times=1, per="day", minutes=None)).code is None


def test_an_ended_decision_says_why():
    out = decision(
        service("home-nursing", A), status=Status.ended, end_reason="deceased", end_date=date(2027, 1, 1)
    )
    [event] = orders.orders(out, TO, kind="ended", case_office=None, issued_at=AT)
    assert (data(event).end_reason, data(event).end_date) == ("deceased", date(2027, 1, 1))


def test_an_amendment_tells_each_provider_what_it_is_to_them():
    before = decision(service("home-nursing", A), service("practical-help", B))
    moved = decision(service("home-nursing", B), service("practical-help", B), id=before.id, version=3)
    sent = orders.amended_orders(
        before, moved, TO, end_date=date(2026, 12, 5), case_office=None, issued_at=AT
    )
    assert [(data(e).provider_org, data(e).kind, data(e).end_reason) for e in sent] == [
        (B, "changed", None),
        (A, "ended", orders.PROVIDER_CHANGED),
    ]
    ended = data(sent[1])
    assert (ended.decision_version, ended.end_date) == (3, date(2026, 12, 5))
    assert [s.service_type for s in ended.services] == ["home-nursing"]  # what it delivered

    dropped = decision(service("practical-help", B), id=before.id, version=3)
    [gone] = orders.dropped_orders(
        before, dropped, TO, end_date=date(2026, 12, 5), case_office=None, issued_at=AT
    )
    assert (data(gone).provider_org, data(gone).end_reason) == (A, orders.SERVICE_ENDED)
    new_provider = orders.amended_orders(
        decision(service("home-nursing", None)),
        decision(service("home-nursing", A)),
        TO,
        end_date=date(2026, 12, 5),
        case_office=None,
        issued_at=AT,
    )
    assert [(data(e).provider_org, data(e).kind) for e in new_provider] == [(A, "new")]
