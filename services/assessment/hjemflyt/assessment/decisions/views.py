"""A decision as it reads: the API's `DecisionOut` of a stored (or just built) decision,
its `snapshot` (what version rows store and diff), and the `facts` the rules check."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from hjemflyt.assessment.decisions import rules
from hjemflyt.assessment.decisions.catalogue import Catalogue
from hjemflyt.assessment.decisions.models import Decision
from hjemflyt.assessment.decisions.rules import Outcome, ScopeKind, Status
from hjemflyt.assessment.decisions.schemas import DecisionOut, MeasureOut, ServiceOut


def _cents(value: Decimal | None) -> Decimal | None:
    return None if value is None else Decimal(value).quantize(Decimal("0.01"))


def to_out(decision: Decision, catalogue: Catalogue) -> DecisionOut:
    copay = decision.copayment or {}
    return DecisionOut(
        id=decision.id,
        version=decision.version,
        status=Status(decision.status),
        person_id=decision.person_id,
        district=decision.district,
        organisation_model=decision.organisation_model,
        application_id=decision.application_id,
        assessment_id=decision.assessment_id,
        supersedes_id=decision.supersedes_id,
        justification=decision.justification,
        purpose=decision.purpose,
        user_goal=decision.user_goal,
        legal_basis=list(decision.legal_basis or []),
        start_date=decision.start_date,
        end_date=decision.end_date,
        evaluation_date=decision.evaluation_date,
        household_income_g=decision.household_income_g,
        appeal_text=decision.appeal_text,
        appeal_deadline=decision.appeal_deadline,
        decision_date=decision.decision_date,
        made_by=decision.made_by,
        made_at=decision.made_at,
        sent_at=decision.sent_at,
        activated_at=decision.activated_at,
        ended_at=decision.ended_at,
        end_reason=decision.end_reason,
        services=[
            ServiceOut(
                service_type=s.service_type,
                service_name=catalogue.name(s.service_type),
                service_code=s.service_code,
                outcome=Outcome(s.outcome),
                scope_kind=ScopeKind(s.scope_kind),
                hours_per_month=Decimal(s.hours_per_month).quantize(Decimal("0.01")),
                # As stored (numeric(6,2)), so a decision made at once reads as one read back.
                frame_min_hours=_cents(s.frame_min_hours),
                frame_max_hours=_cents(s.frame_max_hours),
                refusal_reason=s.refusal_reason,
                provider_org=s.provider_org,
                measures=[
                    MeasureOut(
                        code=m.code, description=m.description, times=m.times, per=m.per, minutes=m.minutes
                    )
                    for m in s.measures
                ],
                copayment=copay.get(s.service_type),
            )
            for s in sorted(decision.services, key=lambda s: s.service_type)
        ],
    )


def facts(decision: Decision | DecisionOut) -> rules.DecisionFacts:
    """What the rules check, of a stored decision or of one built in memory."""
    return rules.DecisionFacts(
        organisation_model=decision.organisation_model or "",
        justification=decision.justification,
        purpose=decision.purpose,
        user_goal=decision.user_goal,
        legal_basis=tuple(decision.legal_basis or ()),
        start_date=decision.start_date,
        end_date=decision.end_date,
        evaluation_date=decision.evaluation_date,
        services=tuple(
            rules.ServiceFacts(
                service_type=s.service_type,
                outcome=Outcome(s.outcome),
                scope_kind=ScopeKind(s.scope_kind),
                hours_per_month=s.hours_per_month,
                frame_min_hours=s.frame_min_hours,
                frame_max_hours=s.frame_max_hours,
                refusal_reason=s.refusal_reason,
                provider_org=s.provider_org,
                measures=tuple(
                    rules.MeasureFacts(m.description, m.times, m.per, m.minutes, m.code) for m in s.measures
                ),
            )
            for s in decision.services
        ),
    )


def snapshot(out: DecisionOut) -> dict[str, Any]:
    """What the decision says, keyed so that version diffs name the service that changed."""
    data = out.model_dump(mode="json", exclude={"version"})
    data["services"] = {s["service_type"]: s for s in data["services"]}
    return data
