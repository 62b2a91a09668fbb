"""An imported decision as it will be stored: built with the decision builder (as a decision
made through the API is), compared with what is stored by what the case system decides, and
its rows for the set-based writes."""

from __future__ import annotations

import uuid
from datetime import datetime, time
from decimal import Decimal
from typing import Any

from hjemflyt.assessment.decisions import builder
from hjemflyt.assessment.decisions.builder import DEFAULT_PURPOSE
from hjemflyt.assessment.decisions.catalogue import Catalogue
from hjemflyt.assessment.decisions.models import Decision
from hjemflyt.assessment.decisions.rules import Status
from hjemflyt.assessment.decisions.schemas import DecisionOut, ServiceOut
from hjemflyt.assessment.districts.models import District
from hjemflyt.assessment.imports.schemas import DecisionImportIn
from hjemflyt.shared.platform.auth import Principal
from hjemflyt.shared.platform.clock import OSLO

CENT = Decimal("0.01")

# Columns of a decision that an amendment by import rewrites.
AMENDED_COLUMNS = (
    "version",
    "district",
    "organisation_model",
    "justification",
    "purpose",
    "user_goal",
    "legal_basis",
    "start_date",
    "end_date",
    "evaluation_date",
    "household_income_g",
    "copayment",
    "decision_date",
    "updated_at",
)
# What the case system says about a decision; the rest of the snapshot is hjemflyt's own
# bookkeeping (timestamps, derived names and prices) and does not make a change.
_BOOKKEEPING = frozenset(
    {
        "id",
        "status",
        "organisation_model",
        "application_id",
        "assessment_id",
        "supersedes_id",
        "appeal_text",
        "appeal_deadline",
        "made_by",
        "made_at",
        "sent_at",
        "activated_at",
        "ended_at",
        "end_reason",
    }
)
_SERVICE_BOOKKEEPING = frozenset({"service_name", "service_code", "copayment"})


def cents(value: Decimal | None) -> Decimal | None:
    """As PostgreSQL's numeric(6, 2) gives it back, so a replay compares equal."""
    return None if value is None else value.quantize(CENT)


# --- what a decision will say -------------------------------------------------------------


def proposed(
    body: DecisionImportIn,
    prior: Decision | None,
    person_id: uuid.UUID,
    district: District,
    catalogue: Catalogue,
    principal: Principal,
    now: datetime,
) -> DecisionOut:
    """The decision as it will be stored, built as `decisions.service` builds one (default
    scope by the district's organisation model, decided hours, legal basis from the services,
    co-payment) so that a decision reads the same however it came in."""
    # As an amendment through the API does: a provider chosen earlier stays unless replaced.
    chosen = {s.service_type: s.provider_org for s in prior.services} if prior is not None else {}
    services: list[ServiceOut] = []
    for s in body.services:
        kind, resolved, hours = builder.scope(s, district.organisation_model, catalogue)
        service_type = catalogue.service_types.get(s.service_type)
        services.append(
            ServiceOut(
                service_type=s.service_type,
                service_name=catalogue.name(s.service_type),
                service_code=service_type.iplos_code if service_type else "",
                outcome=s.outcome,
                scope_kind=kind,
                hours_per_month=hours.quantize(CENT),
                frame_min_hours=cents(s.frame_min_hours),
                frame_max_hours=cents(s.frame_max_hours),
                refusal_reason=s.refusal_reason,
                provider_org=s.provider_org or chosen.get(s.service_type),
                measures=resolved,
                copayment=builder.service_copayment(
                    catalogue, s.service_type, s.outcome, hours, body.household_income_g, body.start_date
                ),
            )
        )
    services.sort(key=lambda s: s.service_type)
    if body.legal_basis is not None:
        legal_basis = list(dict.fromkeys(body.legal_basis))
    else:
        legal_basis = builder.legal_basis_of(catalogue, (s.service_type for s in body.services))
    made_at = datetime.combine(body.decision_date, time(0), OSLO)
    return DecisionOut(
        id=prior.id if prior is not None else uuid.uuid4(),
        version=prior.version if prior is not None else 1,
        status=Status(prior.status) if prior is not None else Status.active,
        person_id=person_id,
        district=district.code,
        organisation_model=district.organisation_model,
        application_id=prior.application_id if prior is not None else None,
        assessment_id=prior.assessment_id if prior is not None else None,
        supersedes_id=prior.supersedes_id if prior is not None else None,
        justification=body.justification,
        purpose=body.purpose if body.purpose is not None else DEFAULT_PURPOSE,
        user_goal=body.user_goal,
        legal_basis=legal_basis,
        start_date=body.start_date,
        end_date=body.end_date,
        evaluation_date=body.evaluation_date,
        household_income_g=cents(body.household_income_g),
        appeal_text=prior.appeal_text if prior is not None else None,
        appeal_deadline=prior.appeal_deadline if prior is not None else None,
        decision_date=body.decision_date,
        made_by=prior.made_by if prior is not None else principal.subject,
        made_at=prior.made_at if prior is not None else made_at,
        sent_at=prior.sent_at if prior is not None else None,
        activated_at=prior.activated_at if prior is not None else now,
        ended_at=None,
        end_reason=None,
        services=services,
    )


def content_of(snap: dict[str, Any]) -> dict[str, Any]:
    """What the case system decides, from a snapshot: equal content means no change."""
    content = {k: v for k, v in snap.items() if k not in _BOOKKEEPING}
    content["services"] = {
        t: {k: v for k, v in s.items() if k not in _SERVICE_BOOKKEEPING} for t, s in snap["services"].items()
    }
    return content


# --- rows ---------------------------------------------------------------------------------


def decision_row(
    out: DecisionOut, source_system: str, external_id: str, principal: Principal, now: datetime
) -> dict[str, Any]:
    return {
        "id": out.id,
        "version": out.version,
        "person_id": out.person_id,
        "district": out.district,
        "status": out.status.value,
        "application_id": None,
        "assessment_id": None,
        "supersedes_id": None,
        "organisation_model": out.organisation_model,
        "justification": out.justification,
        "purpose": out.purpose,
        "user_goal": out.user_goal,
        "legal_basis": out.legal_basis,
        "start_date": out.start_date,
        "end_date": out.end_date,
        "evaluation_date": out.evaluation_date,
        "household_income_g": out.household_income_g,
        "copayment": {s.service_type: s.copayment for s in out.services},
        "appeal_text": None,
        "appeal_deadline": None,
        "decision_date": out.decision_date,
        "made_by": out.made_by,
        "made_at": out.made_at,
        "sent_at": None,
        "activated_at": out.activated_at,
        "ended_at": None,
        "end_reason": None,
        "source_system": source_system,
        "external_id": external_id,
        "created_by": principal.subject,
        "created_at": now,
        "updated_at": now,
    }


def service_rows(out: DecisionOut) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The service and measure rows of a decision as built (new ids: an amendment replaces them)."""
    services: list[dict[str, Any]] = []
    measures: list[dict[str, Any]] = []
    for s in out.services:
        service_id = uuid.uuid4()
        services.append(
            {
                "id": service_id,
                "decision_id": out.id,
                "service_type": s.service_type,
                "service_code": s.service_code,
                "outcome": s.outcome.value,
                "scope_kind": s.scope_kind.value,
                "hours_per_month": s.hours_per_month,
                "frame_min_hours": s.frame_min_hours,
                "frame_max_hours": s.frame_max_hours,
                "refusal_reason": s.refusal_reason,
                "provider_org": s.provider_org,
            }
        )
        measures.extend(
            {
                "id": uuid.uuid4(),
                "decision_service_id": service_id,
                "position": i,
                "code": m.code,
                "description": m.description,
                "times": m.times,
                "per": m.per,
                "minutes": m.minutes,
            }
            for i, m in enumerate(s.measures)
        )
    return services, measures
