"""Consumed: every step of a person's case becomes a timeline entry.

From assessment: referral, application, assessment, decision (made, amended, ended),
pathway assignment (issued, ended), provider choice, appeal (received, decided), admission
and discharge; from notifications: every order step (created, changed, acknowledged,
paused, resumed, ended), the provider's reports (start, visits, deviations, change of
need, masters daily life), clarifications, urgent requests and case-office tasks; from
pathway itself: pathways opened and closed and their deadline tasks; from budget: a month's
delivery flagged against the decision (budget's other events concern units, not persons).

Details hold what a case officer needs to follow the case and nothing the event does not
carry; the assessment's function scores stay in assessment (pathway does not need them),
and free text (a rejection's reason, a task's resolution) stays with notifications.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from hjemflyt.pathway.assignments.repository import AssignmentRepository
from hjemflyt.pathway.decisions.repository import DecisionRepository
from hjemflyt.pathway.timeline.repository import TimelineRepository
from hjemflyt.pathway.timeline.rules import EntryKind, moment
from hjemflyt.shared.contracts.assignments import (
    ASSIGNMENT_ENDED,
    ASSIGNMENT_ISSUED,
    AssignmentEnded,
    AssignmentIssued,
)
from hjemflyt.shared.contracts.budget import DELIVERY_FLAGGED, DeliveryFlagged
from hjemflyt.shared.contracts.envelope import CloudEvent
from hjemflyt.shared.contracts.events import (
    ADMISSION_CANCELLED,
    ADMISSION_REOPENED,
    APPEAL_DECIDED,
    APPEAL_RECEIVED,
    APPLICATION_REGISTERED,
    ASSESSMENT_COMPLETED,
    DECISION_ACTIVATED,
    DECISION_AMENDED,
    DECISION_ENDED,
    DECISION_MADE,
    ORDER_CREATED,
    PERSON_ADMITTED,
    PERSON_DISCHARGED,
    PROVIDER_CHOSEN,
    REFERRAL_RECEIVED,
    TASK_CLOSED,
    TASK_OPENED,
    AdmissionCancelled,
    AdmissionReopened,
    AppealDecided,
    AppealReceived,
    ApplicationRegistered,
    AssessmentCompleted,
    DecidedService,
    DecisionActivated,
    DecisionAmended,
    DecisionEnded,
    DecisionMade,
    OrderCreated,
    PersonAdmitted,
    PersonDischarged,
    ProviderChosen,
    ReferralReceived,
    TaskClosed,
    TaskOpened,
)
from hjemflyt.shared.contracts.orders import (
    ADJUSTMENT_OVERRULED,
    ORDER_ACKNOWLEDGED,
    ORDER_ADJUSTED,
    ORDER_CHANGED,
    ORDER_ENDED,
    ORDER_PAUSED,
    ORDER_RESUMED,
    AdjustmentOverruled,
    OrderAcknowledged,
    OrderAdjusted,
    OrderChanged,
    OrderEnded,
    OrderPaused,
    OrderResumed,
)
from hjemflyt.shared.contracts.pathway import (
    PATHWAY_CLOSED,
    PATHWAY_OPENED,
    PATHWAY_TASK_OPENED,
    PathwayClosed,
    PathwayOpened,
    PathwayTaskOpened,
)
from hjemflyt.shared.contracts.reports import (
    CHANGE_OF_NEED_ANSWERED,
    CHANGE_OF_NEED_REPORTED,
    CLARIFICATION_ANSWERED,
    CLARIFICATION_OVERDUE,
    CLARIFICATION_REQUESTED,
    DEVIATION_REPORTED,
    MASTERS_DAILY_LIFE_REPORTED,
    START_CONFIRMED,
    URGENT_REQUEST_ANSWERED,
    URGENT_REQUEST_ESCALATED,
    URGENT_REQUEST_SENT,
    VISITS_REPORTED,
    ChangeOfNeedAnswered,
    ChangeOfNeedReported,
    ClarificationAnswered,
    ClarificationOverdue,
    ClarificationRequested,
    DeviationReported,
    MastersDailyLifeReported,
    StartConfirmed,
    UrgentRequestAnswered,
    UrgentRequestEscalated,
    UrgentRequestSent,
    VisitsReported,
)
from hjemflyt.shared.platform.consumer import Subscription


async def _add(
    session: AsyncSession,
    event: CloudEvent,
    *,
    person_id: uuid.UUID,
    district: str | None,
    kind: EntryKind,
    occurred_at: datetime,
    source: str,
    reference: uuid.UUID,
    details: dict[str, Any],
) -> None:
    await TimelineRepository(session).add(
        {
            "event_id": event.id,
            "person_id": person_id,
            "district": district,
            "kind": kind.value,
            "occurred_at": occurred_at,
            "source": source,
            "reference": str(reference),
            "details": details,
        }
    )


def _iso(value: object | None) -> str | None:
    return None if value is None else str(value)


def _services(services: list[DecidedService]) -> list[dict[str, Any]]:
    # Only the contract's fields: fields a later producer adds are not copied unseen.
    return [s.model_dump(mode="json") for s in services]


async def on_referral_received(session: AsyncSession, event: CloudEvent, data: ReferralReceived) -> None:
    await _add(
        session,
        event,
        person_id=data.person_id,
        district=data.district,
        kind=EntryKind.referral_received,
        occurred_at=data.received_at,
        source="assessment",
        reference=data.referral_id,
        details={"from": data.source, "requested_services": data.requested_services},
    )


async def on_application_registered(
    session: AsyncSession, event: CloudEvent, data: ApplicationRegistered
) -> None:
    await _add(
        session,
        event,
        person_id=data.person_id,
        district=data.district,
        kind=EntryKind.application_registered,
        occurred_at=moment(data.received_date, event.time),
        source="assessment",
        reference=data.application_id,
        details={
            "referral_id": _iso(data.referral_id),
            "services": data.services,
            "received_date": data.received_date.isoformat(),
            "deadline_date": data.deadline_date.isoformat(),
        },
    )


async def on_assessment_completed(
    session: AsyncSession, event: CloudEvent, data: AssessmentCompleted
) -> None:
    await _add(
        session,
        event,
        person_id=data.person_id,
        district=data.district,
        kind=EntryKind.assessment_completed,
        occurred_at=data.completed_at,
        source="assessment",
        reference=data.assessment_id,
        details={
            "application_id": _iso(data.application_id),
            "visit_date": _iso(data.visit_date),
            "iplos_version": data.iplos_version,
            "goals": data.goals,
        },
    )


async def on_decision_made(session: AsyncSession, event: CloudEvent, data: DecisionMade) -> None:
    await _add(
        session,
        event,
        person_id=data.person_id,
        district=data.district,
        kind=EntryKind.decision_made,
        occurred_at=data.made_at,
        source="assessment",
        reference=data.decision_id,
        details={
            "decision_version": data.version,
            "decision_date": data.decision_date.isoformat(),
            "start_date": data.start_date.isoformat(),
            "end_date": _iso(data.end_date),
            "evaluation_date": _iso(data.evaluation_date),
            "application_id": _iso(data.application_id),
            "supersedes_id": _iso(data.supersedes_id),
            "legal_basis": data.legal_basis,
            "services": _services(data.services),
        },
    )
    await TimelineRepository(session).fill_district(data.person_id, data.decision_id, data.district)


async def on_decision_amended(session: AsyncSession, event: CloudEvent, data: DecisionAmended) -> None:
    await _add(
        session,
        event,
        person_id=data.person_id,
        district=data.district,
        kind=EntryKind.decision_amended,
        occurred_at=data.amended_at,
        source="assessment",
        reference=data.decision_id,
        details={
            "decision_version": data.version,
            "changes": data.changes,
            "start_date": data.start_date.isoformat(),
            "end_date": _iso(data.end_date),
            "evaluation_date": _iso(data.evaluation_date),
            "services": _services(data.services),
        },
    )
    await TimelineRepository(session).fill_district(data.person_id, data.decision_id, data.district)


async def on_decision_activated(session: AsyncSession, event: CloudEvent, data: DecisionActivated) -> None:
    await _add(
        session,
        event,
        person_id=data.person_id,
        district=data.district,
        kind=EntryKind.decision_activated,
        occurred_at=data.activated_at,
        source="assessment",
        reference=data.decision_id,
        details={"decision_version": data.version, "start_date": data.start_date.isoformat()},
    )


async def on_decision_ended(session: AsyncSession, event: CloudEvent, data: DecisionEnded) -> None:
    await _add(
        session,
        event,
        person_id=data.person_id,
        district=data.district,
        kind=EntryKind.decision_ended,
        occurred_at=data.ended_at,
        source="assessment",
        reference=data.decision_id,
        details={
            "decision_version": data.version,
            "end_date": data.end_date.isoformat(),
            "reason": data.reason,
            "superseded_by": _iso(data.superseded_by),
        },
    )


async def on_assignment_issued(session: AsyncSession, event: CloudEvent, data: AssignmentIssued) -> None:
    await _add(
        session,
        event,
        person_id=data.person_id,
        district=data.district,
        kind=EntryKind.assignment_issued,
        occurred_at=data.issued_at,
        source="assessment",
        reference=data.assignment_id,
        details={
            "provider_org": data.provider_org,
            "pathway_id": _iso(data.pathway_id),
            "start_date": data.start_date.isoformat(),
            "end_date": data.end_date.isoformat(),
            "services": _services(data.services),
        },
    )
    # Its order's entries name the assignment as their decision_id.
    await TimelineRepository(session).fill_district(data.person_id, data.assignment_id, data.district)


async def on_assignment_ended(session: AsyncSession, event: CloudEvent, data: AssignmentEnded) -> None:
    await _add(
        session,
        event,
        person_id=data.person_id,
        district=data.district,
        kind=EntryKind.assignment_ended,
        occurred_at=data.ended_at,
        source="assessment",
        reference=data.assignment_id,
        details={
            "provider_org": data.provider_org,
            "pathway_id": _iso(data.pathway_id),
            "end_date": data.end_date.isoformat(),
            "reason": data.reason,
            "superseded_by": _iso(data.superseded_by),
        },
    )


async def on_provider_chosen(session: AsyncSession, event: CloudEvent, data: ProviderChosen) -> None:
    await _add(
        session,
        event,
        person_id=data.person_id,
        district=data.district,
        kind=EntryKind.provider_chosen,
        occurred_at=moment(data.chosen_date or data.informed_date, event.time),
        source="assessment",
        reference=data.decision_id,
        details={
            "decision_id": str(data.decision_id),
            "service_type": data.service_type,
            "service_code": data.service_code,
            "provider_org": data.provider_org,
            "informed_date": data.informed_date.isoformat(),
            "chosen_date": _iso(data.chosen_date),
        },
    )


async def on_appeal_received(session: AsyncSession, event: CloudEvent, data: AppealReceived) -> None:
    await _add(
        session,
        event,
        person_id=data.person_id,
        district=data.district,
        kind=EntryKind.appeal_received,
        occurred_at=moment(data.received_date, event.time),
        source="assessment",
        reference=data.appeal_id,
        details={
            "decision_id": str(data.decision_id),
            "received_date": data.received_date.isoformat(),
            "late": data.late,
        },
    )


async def on_appeal_decided(session: AsyncSession, event: CloudEvent, data: AppealDecided) -> None:
    await _add(
        session,
        event,
        person_id=data.person_id,
        district=data.district,
        kind=EntryKind.appeal_decided,
        occurred_at=moment(data.decided_date, event.time),
        source="assessment",
        reference=data.appeal_id,
        details={
            "decision_id": str(data.decision_id),
            "stage": data.stage,
            "outcome": data.outcome,
            "decided_date": data.decided_date.isoformat(),
            "forwarded": data.forwarded,
            "new_decision_id": _iso(data.new_decision_id),
        },
    )


async def on_order_created(session: AsyncSession, event: CloudEvent, data: OrderCreated) -> None:
    # The order carries no district; its decision's (or assignment's), when pathway knows it already.
    district = await DecisionRepository(session).district_of(data.decision_id)
    district = district or await AssignmentRepository(session).district_of(data.decision_id)
    await _add(
        session,
        event,
        person_id=data.person_id,
        district=district,
        kind=EntryKind.order_created,
        occurred_at=data.created_at,
        source="notifications",
        reference=data.order_id,
        details={
            "decision_id": str(data.decision_id),
            "decision_version": data.decision_version,
            "provider_org": data.provider_org,
        },
    )


async def on_person_admitted(session: AsyncSession, event: CloudEvent, data: PersonAdmitted) -> None:
    await _add(
        session,
        event,
        person_id=data.person_id,
        district=data.district,
        kind=EntryKind.person_admitted,
        occurred_at=data.admitted_at,
        source="assessment",
        reference=data.admission_id,
        details={
            "institution_kind": data.institution_kind,
            "expected_discharge_date": _iso(data.expected_discharge_date),
        },
    )


async def on_person_discharged(session: AsyncSession, event: CloudEvent, data: PersonDischarged) -> None:
    await _add(
        session,
        event,
        person_id=data.person_id,
        district=data.district,
        kind=EntryKind.person_discharged,
        occurred_at=data.discharged_at,
        source="assessment",
        reference=data.admission_id,
        details={"admitted_at": data.admitted_at.isoformat()},
    )


async def on_admission_cancelled(session: AsyncSession, event: CloudEvent, data: AdmissionCancelled) -> None:
    await _add(
        session,
        event,
        person_id=data.person_id,
        district=data.district,
        kind=EntryKind.admission_cancelled,
        occurred_at=data.cancelled_at,
        source="assessment",
        reference=data.admission_id,
        details={"admitted_at": data.admitted_at.isoformat()},
    )


async def on_admission_reopened(session: AsyncSession, event: CloudEvent, data: AdmissionReopened) -> None:
    await _add(
        session,
        event,
        person_id=data.person_id,
        district=data.district,
        kind=EntryKind.admission_reopened,
        occurred_at=data.reopened_at,
        source="assessment",
        reference=data.admission_id,
        details={"admitted_at": data.admitted_at.isoformat(), "institution_kind": data.institution_kind},
    )


# --- notifications: orders ------------------------------------------------------------


async def on_order_changed(session: AsyncSession, event: CloudEvent, data: OrderChanged) -> None:
    await _add(
        session,
        event,
        person_id=data.person_id,
        district=data.district,
        kind=EntryKind.order_changed,
        occurred_at=data.changed_at,
        source="notifications",
        reference=data.order_id,
        details={
            "decision_id": str(data.decision_id),
            "decision_version": data.decision_version,
            "provider_org": data.provider_org,
            "changed": data.changed,
        },
    )


async def on_order_acknowledged(session: AsyncSession, event: CloudEvent, data: OrderAcknowledged) -> None:
    await _add(
        session,
        event,
        person_id=data.person_id,
        district=data.district,
        kind=EntryKind.order_acknowledged,
        occurred_at=data.acknowledged_at,
        source="notifications",
        reference=data.order_id,
        details={
            "decision_id": str(data.decision_id),
            "decision_version": data.decision_version,
            "provider_org": data.provider_org,
            "accepted": data.accepted,
            "late": data.late,
        },
    )


async def on_order_adjusted(session: AsyncSession, event: CloudEvent, data: OrderAdjusted) -> None:
    hours_before, hours_after = data.planned_hours_before, data.planned_hours_after
    await _add(
        session,
        event,
        person_id=data.person_id,
        district=data.district,
        kind=EntryKind.order_adjusted,
        occurred_at=data.adjusted_at,
        source="notifications",
        reference=data.adjustment_id,
        details={
            "order_id": str(data.order_id),
            "decision_id": str(data.decision_id),
            "decision_version": data.decision_version,
            "provider_org": data.provider_org,
            "service_type": data.service_type,
            "measure_code": data.measure_code,
            "measure_description": data.measure_description,
            "new_measure": data.new_measure,
            "change": data.change.model_dump(mode="json"),
            "planned_hours_before": None if hours_before is None else str(hours_before),
            "planned_hours_after": None if hours_after is None else str(hours_after),
            "reason": data.reason,
        },
    )


async def on_adjustment_overruled(
    session: AsyncSession, event: CloudEvent, data: AdjustmentOverruled
) -> None:
    await _add(
        session,
        event,
        person_id=data.person_id,
        district=data.district,
        kind=EntryKind.adjustment_overruled,
        occurred_at=data.overruled_at,
        source="notifications",
        reference=data.adjustment_id,
        details={
            "order_id": str(data.order_id),
            "decision_id": str(data.decision_id),
            "provider_org": data.provider_org,
            "service_type": data.service_type,
            "measure_code": data.measure_code,
            "measure_description": data.measure_description,
            "decided_by": data.decided_by,
            "escalation_path": list(data.escalation_path),
        },
    )


async def on_order_paused(session: AsyncSession, event: CloudEvent, data: OrderPaused) -> None:
    await _add(
        session,
        event,
        person_id=data.person_id,
        district=data.district,
        kind=EntryKind.order_paused,
        occurred_at=data.paused_at,
        source="notifications",
        reference=data.order_id,
        details={"provider_org": data.provider_org, "admission_id": str(data.admission_id)},
    )


async def on_order_resumed(session: AsyncSession, event: CloudEvent, data: OrderResumed) -> None:
    await _add(
        session,
        event,
        person_id=data.person_id,
        district=data.district,
        kind=EntryKind.order_resumed,
        occurred_at=data.resumed_at,
        source="notifications",
        reference=data.order_id,
        details={"provider_org": data.provider_org, "admission_id": str(data.admission_id)},
    )


async def on_order_ended(session: AsyncSession, event: CloudEvent, data: OrderEnded) -> None:
    await _add(
        session,
        event,
        person_id=data.person_id,
        district=data.district,
        kind=EntryKind.order_ended,
        occurred_at=data.ended_at,
        source="notifications",
        reference=data.order_id,
        details={
            "decision_id": str(data.decision_id),
            "decision_version": data.decision_version,
            "provider_org": data.provider_org,
            "end_date": _iso(data.end_date),
        },
    )


# --- notifications: the provider's reports --------------------------------------------


async def on_start_confirmed(session: AsyncSession, event: CloudEvent, data: StartConfirmed) -> None:
    await _add(
        session,
        event,
        person_id=data.person_id,
        district=data.district,
        kind=EntryKind.start_confirmed,
        occurred_at=data.confirmed_at,
        source="notifications",
        reference=data.order_id,
        details={
            "order_version": data.order_version,
            "provider_org": data.provider_org,
            "started_on": data.started_on.isoformat(),
            "primary_contact_staff_id": data.primary_contact_staff_id,
        },
    )


async def on_visits_reported(session: AsyncSession, event: CloudEvent, data: VisitsReported) -> None:
    # One event holds many persons' visits: one entry for each person, with their visits.
    by_person: dict[uuid.UUID, list[dict[str, Any]]] = {}
    districts: dict[uuid.UUID, str] = {}
    for visit in data.visits:
        by_person.setdefault(visit.person_id, []).append(
            visit.model_dump(mode="json", exclude={"person_id", "district"})
        )
        districts.setdefault(visit.person_id, visit.district)
    await TimelineRepository(session).add_many(
        [
            {
                "event_id": event.id,
                "person_id": person_id,
                "district": districts[person_id],
                "kind": EntryKind.visits_reported.value,
                "occurred_at": data.reported_at,
                "source": "notifications",
                "reference": data.batch_id,
                "details": {
                    "provider_org": data.provider_org,
                    "batch_id": data.batch_id,
                    "chunk": data.chunk,
                    "chunks": data.chunks,
                    "visits": visits,
                },
            }
            for person_id, visits in by_person.items()
        ]
    )


async def on_deviation_reported(session: AsyncSession, event: CloudEvent, data: DeviationReported) -> None:
    await _add(
        session,
        event,
        person_id=data.person_id,
        district=data.district,
        kind=EntryKind.deviation_reported,
        occurred_at=data.reported_at,
        source="notifications",
        reference=data.deviation_id,
        details={
            "order_id": str(data.order_id),
            "provider_org": data.provider_org,
            "severity": data.severity,
            "category": data.category,
            "occurred_at": data.occurred_at.isoformat(),
        },
    )


async def on_change_of_need_reported(
    session: AsyncSession, event: CloudEvent, data: ChangeOfNeedReported
) -> None:
    hours = data.proposed_hours_per_month
    await _add(
        session,
        event,
        person_id=data.person_id,
        district=data.district,
        kind=EntryKind.change_of_need_reported,
        occurred_at=data.reported_at,
        source="notifications",
        reference=data.change_of_need_id,
        details={
            "order_id": str(data.order_id),
            "provider_org": data.provider_org,
            "proposed_hours_per_month": None if hours is None else str(hours),
        },
    )


async def on_change_of_need_answered(
    session: AsyncSession, event: CloudEvent, data: ChangeOfNeedAnswered
) -> None:
    await _add(
        session,
        event,
        person_id=data.person_id,
        district=data.district,
        kind=EntryKind.change_of_need_answered,
        occurred_at=data.answered_at,
        source="notifications",
        reference=data.change_of_need_id,
        details={"order_id": str(data.order_id), "provider_org": data.provider_org, "outcome": data.outcome},
    )


async def on_masters_daily_life_reported(
    session: AsyncSession, event: CloudEvent, data: MastersDailyLifeReported
) -> None:
    await _add(
        session,
        event,
        person_id=data.person_id,
        district=data.district,
        kind=EntryKind.masters_daily_life_reported,
        occurred_at=data.reported_at,
        source="notifications",
        reference=data.report_id,
        details={
            "order_id": str(data.order_id),
            "provider_org": data.provider_org,
            "observed_on": data.observed_on.isoformat(),
        },
    )


# --- notifications: clarifications, urgent requests, tasks ---------------------------


async def on_clarification_requested(
    session: AsyncSession, event: CloudEvent, data: ClarificationRequested
) -> None:
    await _add(
        session,
        event,
        person_id=data.person_id,
        district=data.district,
        kind=EntryKind.clarification_requested,
        occurred_at=data.requested_at,
        source="notifications",
        reference=data.clarification_id,
        details={
            "direction": data.direction,
            "order_id": str(data.order_id),
            "provider_org": data.provider_org,
            "due_date": data.due_date.isoformat(),
        },
    )


async def on_clarification_answered(
    session: AsyncSession, event: CloudEvent, data: ClarificationAnswered
) -> None:
    await _add(
        session,
        event,
        person_id=data.person_id,
        district=data.district,
        kind=EntryKind.clarification_answered,
        occurred_at=data.answered_at,
        source="notifications",
        reference=data.clarification_id,
        details={
            "direction": data.direction,
            "order_id": str(data.order_id),
            "provider_org": data.provider_org,
            "late": data.late,
        },
    )


async def on_clarification_overdue(
    session: AsyncSession, event: CloudEvent, data: ClarificationOverdue
) -> None:
    await _add(
        session,
        event,
        person_id=data.person_id,
        district=data.district,
        kind=EntryKind.clarification_overdue,
        occurred_at=data.overdue_at,
        source="notifications",
        reference=data.clarification_id,
        details={
            "direction": data.direction,
            "order_id": str(data.order_id),
            "provider_org": data.provider_org,
            "due_date": data.due_date.isoformat(),
        },
    )


async def on_urgent_request_sent(session: AsyncSession, event: CloudEvent, data: UrgentRequestSent) -> None:
    await _add(
        session,
        event,
        person_id=data.person_id,
        district=data.district,
        kind=EntryKind.urgent_request_sent,
        occurred_at=data.sent_at,
        source="notifications",
        reference=data.urgent_request_id,
        details={
            "order_id": str(data.order_id),
            "provider_org": data.provider_org,
            "urgency": data.urgency,
            "respond_by": data.respond_by.isoformat(),
        },
    )


async def on_urgent_request_answered(
    session: AsyncSession, event: CloudEvent, data: UrgentRequestAnswered
) -> None:
    await _add(
        session,
        event,
        person_id=data.person_id,
        district=data.district,
        kind=EntryKind.urgent_request_answered,
        occurred_at=data.answered_at,
        source="notifications",
        reference=data.urgent_request_id,
        details={
            "order_id": str(data.order_id),
            "provider_org": data.provider_org,
            "accepted": data.accepted,
            "late": data.late,
        },
    )


async def on_urgent_request_escalated(
    session: AsyncSession, event: CloudEvent, data: UrgentRequestEscalated
) -> None:
    await _add(
        session,
        event,
        person_id=data.person_id,
        district=data.district,
        kind=EntryKind.urgent_request_escalated,
        occurred_at=data.escalated_at,
        source="notifications",
        reference=data.urgent_request_id,
        details={"order_id": str(data.order_id), "provider_org": data.provider_org, "reason": data.reason},
    )


async def on_task_opened(session: AsyncSession, event: CloudEvent, data: TaskOpened) -> None:
    if data.person_id is None:
        return  # a task about a routine or a provider, not about a person
    await _add(
        session,
        event,
        person_id=data.person_id,
        district=data.district,
        kind=EntryKind.task_opened,
        occurred_at=data.opened_at,
        source="notifications",
        reference=data.task_id,
        details={
            "task_kind": data.kind,
            "reference_id": str(data.reference_id),
            "order_id": _iso(data.order_id),
            "provider_org": data.provider_org,
            "due_date": _iso(data.due_date),
        },
    )


async def on_task_closed(session: AsyncSession, event: CloudEvent, data: TaskClosed) -> None:
    if data.person_id is None:
        return
    await _add(
        session,
        event,
        person_id=data.person_id,
        district=data.district,
        kind=EntryKind.task_closed,
        occurred_at=data.closed_at,
        source="notifications",
        reference=data.task_id,
        details={"task_kind": data.kind, "reference_id": str(data.reference_id)},
    )


# --- pathway's own events ------------------------------------------------------------


async def on_pathway_opened(session: AsyncSession, event: CloudEvent, data: PathwayOpened) -> None:
    await _add(
        session,
        event,
        person_id=data.person_id,
        district=data.district,
        kind=EntryKind.pathway_opened,
        # On its opening date, not when pathway recorded it: a pathway opened late from an
        # event of an earlier day (a consumer catching up) belongs among that day's steps, and
        # must not make its district look like the person's latest.
        occurred_at=moment(data.opened_on, data.opened_at),
        source="pathway",
        reference=data.pathway_id,
        details={
            "pathway_kind": data.kind,
            "opened_on": data.opened_on.isoformat(),
            "planned_end": _iso(data.planned_end),
            "from": data.source,
        },
    )


async def on_pathway_closed(session: AsyncSession, event: CloudEvent, data: PathwayClosed) -> None:
    await _add(
        session,
        event,
        person_id=data.person_id,
        district=data.district,
        kind=EntryKind.pathway_closed,
        occurred_at=moment(data.closed_on, data.closed_at),
        source="pathway",
        reference=data.pathway_id,
        details={
            "pathway_kind": data.kind,
            "opened_on": data.opened_on.isoformat(),
            "planned_end": _iso(data.planned_end),
            "closed_on": data.closed_on.isoformat(),
            "outcome": data.outcome,
            "overdue": data.overdue,
        },
    )


async def on_pathway_task_opened(session: AsyncSession, event: CloudEvent, data: PathwayTaskOpened) -> None:
    await _add(
        session,
        event,
        person_id=data.person_id,
        district=data.district,
        kind=EntryKind.pathway_task_opened,
        occurred_at=data.opened_at,
        source="pathway",
        reference=data.task_id,
        details={
            "task_kind": data.kind,
            "pathway_id": str(data.pathway_id),
            "pathway_kind": data.pathway_kind,
            "due_date": data.due_date.isoformat(),
        },
    )


ASSESSMENT: list[Subscription[Any]] = [
    Subscription(REFERRAL_RECEIVED, on_referral_received),
    Subscription(APPLICATION_REGISTERED, on_application_registered),
    Subscription(ASSESSMENT_COMPLETED, on_assessment_completed),
    Subscription(DECISION_MADE, on_decision_made),
    Subscription(DECISION_AMENDED, on_decision_amended),
    Subscription(DECISION_ACTIVATED, on_decision_activated),
    Subscription(DECISION_ENDED, on_decision_ended),
    Subscription(ASSIGNMENT_ISSUED, on_assignment_issued),
    Subscription(ASSIGNMENT_ENDED, on_assignment_ended),
    Subscription(PROVIDER_CHOSEN, on_provider_chosen),
    Subscription(APPEAL_RECEIVED, on_appeal_received),
    Subscription(APPEAL_DECIDED, on_appeal_decided),
    Subscription(PERSON_ADMITTED, on_person_admitted),
    Subscription(PERSON_DISCHARGED, on_person_discharged),
    Subscription(ADMISSION_CANCELLED, on_admission_cancelled),
    Subscription(ADMISSION_REOPENED, on_admission_reopened),
]
NOTIFICATIONS: list[Subscription[Any]] = [
    Subscription(ORDER_CREATED, on_order_created),
    Subscription(ORDER_CHANGED, on_order_changed),
    Subscription(ORDER_ACKNOWLEDGED, on_order_acknowledged),
    Subscription(ORDER_PAUSED, on_order_paused),
    Subscription(ORDER_RESUMED, on_order_resumed),
    Subscription(ORDER_ENDED, on_order_ended),
    Subscription(ORDER_ADJUSTED, on_order_adjusted),
    Subscription(ADJUSTMENT_OVERRULED, on_adjustment_overruled),
    Subscription(START_CONFIRMED, on_start_confirmed),
    Subscription(VISITS_REPORTED, on_visits_reported),
    Subscription(DEVIATION_REPORTED, on_deviation_reported),
    Subscription(CHANGE_OF_NEED_REPORTED, on_change_of_need_reported),
    Subscription(CHANGE_OF_NEED_ANSWERED, on_change_of_need_answered),
    Subscription(MASTERS_DAILY_LIFE_REPORTED, on_masters_daily_life_reported),
    Subscription(CLARIFICATION_REQUESTED, on_clarification_requested),
    Subscription(CLARIFICATION_ANSWERED, on_clarification_answered),
    Subscription(CLARIFICATION_OVERDUE, on_clarification_overdue),
    Subscription(URGENT_REQUEST_SENT, on_urgent_request_sent),
    Subscription(URGENT_REQUEST_ANSWERED, on_urgent_request_answered),
    Subscription(URGENT_REQUEST_ESCALATED, on_urgent_request_escalated),
    Subscription(TASK_OPENED, on_task_opened),
    Subscription(TASK_CLOSED, on_task_closed),
]


async def on_delivery_flagged(session: AsyncSession, event: CloudEvent, data: DeliveryFlagged) -> None:
    # Keyed by the flag, not the event: a flag is one fact however often it is published.
    await _add(
        session,
        event.model_copy(update={"id": data.flag_id}),
        person_id=data.person_id,
        district=data.district,
        kind=EntryKind.delivery_flagged,
        occurred_at=data.flagged_at,
        source="budget",
        reference=data.flag_id,
        details={
            "flag": data.kind,
            "provider_org": data.provider_org,
            "month": data.month,
            "decided_hours": str(data.decided_hours),
            "frame_min_hours": _iso(data.frame_min_hours),
            "frame_max_hours": _iso(data.frame_max_hours),
            "delivered_hours": str(data.delivered_hours),
        },
    )


BUDGET: list[Subscription[Any]] = [Subscription(DELIVERY_FLAGGED, on_delivery_flagged)]
PATHWAY: list[Subscription[Any]] = [
    Subscription(PATHWAY_OPENED, on_pathway_opened),
    Subscription(PATHWAY_CLOSED, on_pathway_closed),
    Subscription(PATHWAY_TASK_OPENED, on_pathway_task_opened),
]
