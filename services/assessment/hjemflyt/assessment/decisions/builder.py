"""The one builder of a decision: its content from what a case officer or a case system
said, the decision as it reads (`to_out`, `snapshot`), what making it sets, its version rows,
and the events that tell the others: `decision.made` / `decision.amended` and one
`order.issued` per provider.

Pure (no IO): drafting, making, amending and the bulk import build here, so a decision, its
events and its orders read the same however it came in. What differs between them is only
how they write (the ORM, `write_new`'s one statement, the import's set-based statements).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel

from hjemflyt.assessment.config.rules import copayment
from hjemflyt.assessment.decisions import rules
from hjemflyt.assessment.decisions.catalogue import Catalogue, MunicipalityInfo
from hjemflyt.assessment.decisions.models import Decision, DecisionService, Measure
from hjemflyt.assessment.decisions.rules import Outcome, ScopeKind, Status
from hjemflyt.assessment.decisions.schemas import (
    DecisionContent,
    DecisionOut,
    MeasureOut,
    ServiceIn,
)
from hjemflyt.assessment.orders import rules as orders
from hjemflyt.assessment.persons.schemas import PersonOut
from hjemflyt.shared.contracts.events import (
    DECISION_AMENDED,
    DECISION_MADE,
    AgeBand,
    DecidedService,
    DecisionAmended,
    DecisionMade,
    OrderRecipient,
)
from hjemflyt.shared.contracts.registry import EventType

DEFAULT_PURPOSE = "Tjenesten skal gjøre deg mest mulig selvhjulpen i hverdagen."
Event = tuple[EventType[Any], BaseModel, str]


# --- the content --------------------------------------------------------------------------


def scope(
    body: ServiceIn, organisation_model: str | None, catalogue: Catalogue
) -> tuple[ScopeKind, list[MeasureOut], Decimal]:
    """A service's scope kind (the district's organisation model writes the default), its
    measures as the decision states them, and its decided hours."""
    kind = body.scope_kind or rules.DEFAULT_SCOPE.get(organisation_model or "", ScopeKind.hours_per_month)
    resolved = [catalogue.measure(m, kind) for m in body.measures]
    hours = rules.decided_hours(
        rules.ServiceFacts(
            service_type=body.service_type,
            outcome=body.outcome,
            scope_kind=kind,
            hours_per_month=body.hours_per_month,
            frame_min_hours=body.frame_min_hours,
            frame_max_hours=body.frame_max_hours,
            measures=tuple(
                rules.MeasureFacts(m.description, m.times, m.per, m.minutes, m.code) for m in resolved
            ),
        )
    )
    return kind, resolved, hours


def service_row(
    body: ServiceIn, organisation_model: str | None, catalogue: Catalogue, chosen: str | None
) -> DecisionService:
    """The service row as stated; `chosen`: the provider chosen earlier, kept unless named."""
    kind, resolved, hours = scope(body, organisation_model, catalogue)
    service_type = catalogue.service_types.get(body.service_type)
    return DecisionService(
        service_type=body.service_type,
        service_code=service_type.iplos_code if service_type else "",
        outcome=body.outcome.value,
        scope_kind=kind.value,
        hours_per_month=hours,
        frame_min_hours=body.frame_min_hours,
        frame_max_hours=body.frame_max_hours,
        refusal_reason=body.refusal_reason,
        provider_org=body.provider_org or chosen,
        measures=[
            Measure(
                position=i,
                code=m.code,
                description=m.description,
                times=m.times,
                per=m.per,
                minutes=m.minutes,
            )
            for i, m in enumerate(resolved)
        ],
    )


def legal_basis_of(catalogue: Catalogue, service_types: Iterable[str]) -> list[str]:
    """The legal basis a decision cites when it names none: that of its services."""
    return sorted(
        {code for s in service_types if (t := catalogue.service_types.get(s)) for code in t.legal_basis}
    )


# What an edit may change on a service row (the provider is chosen separately).
SERVICE_COLUMNS = (
    "service_code",
    "outcome",
    "scope_kind",
    "hours_per_month",
    "frame_min_hours",
    "frame_max_hours",
    "refusal_reason",
    "measures",
)


def apply(decision: Decision, content: DecisionContent, catalogue: Catalogue) -> None:
    """Set the given fields (only those the caller sent) on the decision."""
    sent = content.model_fields_set
    for name in (
        "justification",
        "purpose",
        "user_goal",
        "start_date",
        "end_date",
        "evaluation_date",
        "household_income_g",
    ):
        if name in sent:
            setattr(decision, name, getattr(content, name))
    if "services" in sent and content.services is not None:
        # Update services in place (a replaced row would be inserted before the old one is
        # deleted, breaking the one-row-per-service rule); keep a provider chosen earlier.
        existing = {s.service_type: s for s in decision.services}
        updated = []
        for body in content.services:
            fresh = service_row(body, decision.organisation_model, catalogue, None)
            row = existing.get(body.service_type)
            if row is None:
                updated.append(fresh)
                continue
            for column in SERVICE_COLUMNS:
                setattr(row, column, getattr(fresh, column))
            row.provider_org = body.provider_org or row.provider_org
            updated.append(row)
        decision.services = updated
    if "legal_basis" in sent and content.legal_basis is not None:
        decision.legal_basis = list(dict.fromkeys(content.legal_basis))
    elif not decision.legal_basis:
        decision.legal_basis = legal_basis_of(catalogue, (s.service_type for s in decision.services))


def draft(
    content: DecisionContent,
    catalogue: Catalogue,
    *,
    person_id: uuid.UUID,
    district: str,
    organisation_model: str | None,
    by: str,
    now: datetime,
    application_id: uuid.UUID | None = None,
    assessment_id: uuid.UUID | None = None,
    supersedes_id: uuid.UUID | None = None,
) -> Decision:
    """A new draft (version 1) as stored and read back: services by type, measures by position."""
    decision = Decision(
        id=uuid.uuid4(),
        version=1,
        person_id=person_id,
        district=district,
        status=Status.draft.value,
        application_id=application_id,
        assessment_id=assessment_id,
        supersedes_id=supersedes_id,
        organisation_model=organisation_model,
        purpose=DEFAULT_PURPOSE,
        legal_basis=[],
        services=[],
        created_by=by,
        created_at=now,
        updated_at=now,
    )
    apply(decision, content, catalogue)
    decision.services = sorted(decision.services, key=lambda s: s.service_type)
    return decision


def service_copayment(
    catalogue: Catalogue,
    service_type: str,
    outcome: str,
    hours_per_month: Decimal,
    income_g: Decimal | None,
    on: date,
) -> dict[str, Any]:
    """A service's co-payment per month as the decision states it."""
    info = catalogue.service_types.get(service_type)
    result = copayment(
        chargeable=bool(info and info.chargeable) and outcome != Outcome.refused.value,
        hours_per_month=hours_per_month,
        income_g=income_g,
        bands=catalogue.bands,
        on=on,
    )
    return {
        "chargeable": result.chargeable,
        "monthly_ore": result.monthly_ore,
        "statement": result.statement_nb,
    }


def price(decision: Decision, catalogue: Catalogue, today: date) -> None:
    """Co-payment per service, fixed when the decision is made or amended: the rates valid on
    its start date (today, Norway's date, if it has none)."""
    on = decision.start_date or today
    decision.copayment = {
        s.service_type: service_copayment(
            catalogue, s.service_type, s.outcome, Decimal(s.hours_per_month), decision.household_income_g, on
        )
        for s in decision.services
    }


def appeal_text(municipality: MunicipalityInfo | None, case_office: str | None) -> str:
    weeks = municipality.appeal_weeks if municipality else 4
    body = municipality.appeal_body if municipality else "Statsforvalteren"
    office = case_office or "kommunen"
    return (
        f"Du kan klage på vedtaket. Klagefristen er {weeks} uker fra du fikk vite om vedtaket "
        f"(pasient- og brukerrettighetsloven §§ 7-2 og 7-5). Send klagen til {office}. Hvis kommunen ikke "
        f"gir deg medhold, sender vi klagen videre til {body}. Du har rett til å se dokumentene i saken din "
        f"(forvaltningsloven § 18). Ta kontakt med {office} hvis du har spørsmål."
    )


def mark_made(
    decision: Decision,
    catalogue: Catalogue,
    *,
    by: str,
    now: datetime,
    today: date,
    case_office: str | None,
) -> None:
    """Make a complete draft: the next version, dated today, with its appeal text and priced."""
    decision.status = Status.made.value
    decision.decision_date = today
    decision.made_by = by
    decision.made_at = now
    decision.updated_at = now
    decision.version += 1
    decision.appeal_text = appeal_text(catalogue.municipality, case_office)
    price(decision, catalogue, today)


# --- versions and events ------------------------------------------------------------------


def version_row(
    out: DecisionOut,
    action: str,
    changes: list[dict[str, Any]],
    after: dict[str, Any],
    *,
    by: str,
    at: datetime,
) -> dict[str, Any]:
    """The version row of a change: `after` is `snapshot(out)`, `changes` the field-level diff."""
    return {
        "id": uuid.uuid4(),
        "decision_id": out.id,
        "version": out.version,
        "status": out.status.value,
        "action": action,
        "changes": changes,
        "snapshot": after,
        "changed_by": by,
        "changed_at": at,
    }


def made_event(out: DecisionOut, band: AgeBand | None, decided: list[DecidedService]) -> Event:
    """`decision.made` as (type, data, subject)."""
    assert out.decision_date is not None
    assert out.start_date is not None
    assert out.made_at is not None
    return (
        DECISION_MADE,
        DecisionMade(
            decision_id=out.id,
            version=out.version,
            person_id=out.person_id,
            district=out.district,
            decision_date=out.decision_date,
            start_date=out.start_date,
            end_date=out.end_date,
            evaluation_date=out.evaluation_date,
            services=decided,
            made_at=out.made_at,
            application_id=out.application_id,
            supersedes_id=out.supersedes_id,
            legal_basis=out.legal_basis,
            age_band=band,
        ),
        str(out.id),
    )


def made_events(
    out: DecisionOut,
    to: OrderRecipient,
    band: AgeBand | None,
    *,
    case_office: str | None,
    issued_at: datetime,
) -> list[Event]:
    """What making a decision tells: `decision.made`, then a `new` order per provider."""
    decided = orders.decided_services(out)  # once, for decision.made and the orders
    return [
        made_event(out, band, decided),
        *orders.orders(out, to, kind="new", case_office=case_office, issued_at=issued_at, decided=decided),
    ]


def amended_event(
    out: DecisionOut,
    changed: list[str],
    band: AgeBand | None,
    *,
    at: datetime,
    decided: list[DecidedService] | None = None,
) -> Event:
    """`decision.amended` as (type, data, subject); `changed`: the fields that changed."""
    assert out.start_date is not None
    return (
        DECISION_AMENDED,
        DecisionAmended(
            decision_id=out.id,
            version=out.version,
            person_id=out.person_id,
            district=out.district,
            start_date=out.start_date,
            end_date=out.end_date,
            evaluation_date=out.evaluation_date,
            services=decided if decided is not None else orders.decided_services(out),
            changes=changed,
            amended_at=at,
            age_band=band,
        ),
        str(out.id),
    )


def recipient(person: PersonOut) -> OrderRecipient:
    """Who an order is for: the personal details one provider needs."""
    return orders.recipient(person.identity_number, person.name, person.address, person.phone)
