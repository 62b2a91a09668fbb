"""The timeline as a table: which entry each consumed event becomes.

Every step of a person's case is an entry: from assessment, the case (referral to appeal)
and the person's stays; from notifications, every order step, the provider's reports,
clarifications, urgent requests and case-office tasks; from pathway itself, pathways and
their deadline tasks; from budget, a month's delivery flagged against the decision
(budget's other events concern units, not persons). Details hold what a case officer needs
to follow the case and nothing the event does not carry: the assessment's function scores
stay in assessment, free text (a rejection's reason, a task's resolution) with
notifications. What a row cannot say is code in `events.py`.
"""

from __future__ import annotations

from hjemflyt.pathway.timeline.rules import Entry, EntryKind, moment, on_day
from hjemflyt.shared.contracts.assignments import ASSIGNMENT_ENDED, ASSIGNMENT_ISSUED
from hjemflyt.shared.contracts.budget import DELIVERY_FLAGGED
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
)
from hjemflyt.shared.contracts.orders import (
    ADJUSTMENT_OVERRULED,
    ORDER_ACKNOWLEDGED,
    ORDER_ADJUSTED,
    ORDER_CHANGED,
    ORDER_ENDED,
    ORDER_PAUSED,
    ORDER_RESUMED,
)
from hjemflyt.shared.contracts.pathway import PATHWAY_CLOSED, PATHWAY_OPENED, PATHWAY_TASK_OPENED
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
)

_ORDER = ("order_id", "provider_org")  # the order a report, request or task is about
_DECISION_ORDER = ("decision_id", "decision_version", "provider_org")  # an order step's decision
_VERSION = {"decision_version": "version"}

TABLE: tuple[Entry, ...] = (
    # --- assessment: the case ---------------------------------------------------------
    Entry(
        REFERRAL_RECEIVED,
        EntryKind.referral_received,
        at="received_at",
        reference="referral_id",
        details=("requested_services",),
        renamed={"from": "source"},
    ),
    Entry(
        APPLICATION_REGISTERED,
        EntryKind.application_registered,
        at=on_day("received_date"),
        reference="application_id",
        details=("referral_id", "services", "received_date", "deadline_date"),
    ),
    Entry(
        ASSESSMENT_COMPLETED,
        EntryKind.assessment_completed,
        at="completed_at",
        reference="assessment_id",
        details=("application_id", "visit_date", "iplos_version", "goals"),
    ),
    Entry(
        DECISION_MADE,
        EntryKind.decision_made,
        at="made_at",
        reference="decision_id",
        details=(
            "decision_date",
            "start_date",
            "end_date",
            "evaluation_date",
            "application_id",
            "supersedes_id",
            "legal_basis",
            "services",
        ),
        renamed=_VERSION,
        fills_district=True,
    ),
    Entry(
        DECISION_AMENDED,
        EntryKind.decision_amended,
        at="amended_at",
        reference="decision_id",
        details=("changes", "start_date", "end_date", "evaluation_date", "services"),
        renamed=_VERSION,
        fills_district=True,
    ),
    Entry(
        DECISION_ACTIVATED,
        EntryKind.decision_activated,
        at="activated_at",
        reference="decision_id",
        details=("start_date",),
        renamed=_VERSION,
    ),
    Entry(
        DECISION_ENDED,
        EntryKind.decision_ended,
        at="ended_at",
        reference="decision_id",
        details=("end_date", "reason", "superseded_by"),
        renamed=_VERSION,
    ),
    Entry(
        ASSIGNMENT_ISSUED,
        EntryKind.assignment_issued,
        at="issued_at",
        reference="assignment_id",
        details=("provider_org", "pathway_id", "start_date", "end_date", "services"),
        fills_district=True,  # its order's entries name the assignment as their decision_id
    ),
    Entry(
        ASSIGNMENT_ENDED,
        EntryKind.assignment_ended,
        at="ended_at",
        reference="assignment_id",
        details=("provider_org", "pathway_id", "end_date", "reason", "superseded_by"),
    ),
    Entry(
        PROVIDER_CHOSEN,
        EntryKind.provider_chosen,
        at=lambda data, event: moment(data.chosen_date or data.informed_date, event.time),
        reference="decision_id",
        details=(
            "decision_id",
            "service_type",
            "service_code",
            "provider_org",
            "informed_date",
            "chosen_date",
        ),
    ),
    Entry(
        APPEAL_RECEIVED,
        EntryKind.appeal_received,
        at=on_day("received_date"),
        reference="appeal_id",
        details=("decision_id", "received_date", "late"),
    ),
    Entry(
        APPEAL_DECIDED,
        EntryKind.appeal_decided,
        at=on_day("decided_date"),
        reference="appeal_id",
        details=("decision_id", "stage", "outcome", "decided_date", "forwarded", "new_decision_id"),
    ),
    # --- assessment: the person's stays -------------------------------------------------
    Entry(
        PERSON_ADMITTED,
        EntryKind.person_admitted,
        at="admitted_at",
        reference="admission_id",
        details=("institution_kind", "expected_discharge_date"),
    ),
    Entry(
        PERSON_DISCHARGED,
        EntryKind.person_discharged,
        at="discharged_at",
        reference="admission_id",
        details=("admitted_at",),
    ),
    Entry(
        ADMISSION_CANCELLED,
        EntryKind.admission_cancelled,
        at="cancelled_at",
        reference="admission_id",
        details=("admitted_at",),
    ),
    Entry(
        ADMISSION_REOPENED,
        EntryKind.admission_reopened,
        at="reopened_at",
        reference="admission_id",
        details=("admitted_at", "institution_kind"),
    ),
    # --- notifications: orders (created: its district is looked up) ----------------------
    Entry(
        ORDER_CREATED, EntryKind.order_created, at="created_at", reference="order_id", details=_DECISION_ORDER
    ),
    Entry(
        ORDER_CHANGED,
        EntryKind.order_changed,
        at="changed_at",
        reference="order_id",
        details=(*_DECISION_ORDER, "changed"),
    ),
    Entry(
        ORDER_ACKNOWLEDGED,
        EntryKind.order_acknowledged,
        at="acknowledged_at",
        reference="order_id",
        details=(*_DECISION_ORDER, "accepted", "late"),
    ),
    Entry(
        ORDER_PAUSED,
        EntryKind.order_paused,
        at="paused_at",
        reference="order_id",
        details=("provider_org", "admission_id"),
    ),
    Entry(
        ORDER_RESUMED,
        EntryKind.order_resumed,
        at="resumed_at",
        reference="order_id",
        details=("provider_org", "admission_id"),
    ),
    Entry(
        ORDER_ENDED,
        EntryKind.order_ended,
        at="ended_at",
        reference="order_id",
        details=(*_DECISION_ORDER, "end_date"),
    ),
    Entry(
        ORDER_ADJUSTED,
        EntryKind.order_adjusted,
        at="adjusted_at",
        reference="adjustment_id",
        details=(
            "order_id",
            *_DECISION_ORDER,
            "service_type",
            "measure_code",
            "measure_description",
            "new_measure",
            "change",
            "planned_hours_before",
            "planned_hours_after",
            "reason",
        ),
    ),
    Entry(
        ADJUSTMENT_OVERRULED,
        EntryKind.adjustment_overruled,
        at="overruled_at",
        reference="adjustment_id",
        details=(
            *_ORDER,
            "decision_id",
            "service_type",
            "measure_code",
            "measure_description",
            "decided_by",
            "escalation_path",
        ),
    ),
    # --- notifications: the provider's reports (visits: one entry for each person) -----
    Entry(
        START_CONFIRMED,
        EntryKind.start_confirmed,
        at="confirmed_at",
        reference="order_id",
        details=("order_version", "provider_org", "started_on", "primary_contact_staff_id"),
    ),
    Entry(
        VISITS_REPORTED,
        EntryKind.visits_reported,
        at="reported_at",
        reference="batch_id",
        details=("provider_org", "batch_id", "chunk", "chunks"),
    ),
    Entry(
        DEVIATION_REPORTED,
        EntryKind.deviation_reported,
        at="reported_at",
        reference="deviation_id",
        details=(*_ORDER, "severity", "category", "occurred_at"),
    ),
    Entry(
        CHANGE_OF_NEED_REPORTED,
        EntryKind.change_of_need_reported,
        at="reported_at",
        reference="change_of_need_id",
        details=(*_ORDER, "proposed_hours_per_month"),
    ),
    Entry(
        CHANGE_OF_NEED_ANSWERED,
        EntryKind.change_of_need_answered,
        at="answered_at",
        reference="change_of_need_id",
        details=(*_ORDER, "outcome"),
    ),
    Entry(
        MASTERS_DAILY_LIFE_REPORTED,
        EntryKind.masters_daily_life_reported,
        at="reported_at",
        reference="report_id",
        details=(*_ORDER, "observed_on"),
    ),
    # --- notifications: clarifications, urgent requests, tasks --------------------------
    Entry(
        CLARIFICATION_REQUESTED,
        EntryKind.clarification_requested,
        at="requested_at",
        reference="clarification_id",
        details=("direction", *_ORDER, "due_date"),
    ),
    Entry(
        CLARIFICATION_ANSWERED,
        EntryKind.clarification_answered,
        at="answered_at",
        reference="clarification_id",
        details=("direction", *_ORDER, "late"),
    ),
    Entry(
        CLARIFICATION_OVERDUE,
        EntryKind.clarification_overdue,
        at="overdue_at",
        reference="clarification_id",
        details=("direction", *_ORDER, "due_date"),
    ),
    Entry(
        URGENT_REQUEST_SENT,
        EntryKind.urgent_request_sent,
        at="sent_at",
        reference="urgent_request_id",
        details=(*_ORDER, "urgency", "respond_by"),
    ),
    Entry(
        URGENT_REQUEST_ANSWERED,
        EntryKind.urgent_request_answered,
        at="answered_at",
        reference="urgent_request_id",
        details=(*_ORDER, "accepted", "late"),
    ),
    Entry(
        URGENT_REQUEST_ESCALATED,
        EntryKind.urgent_request_escalated,
        at="escalated_at",
        reference="urgent_request_id",
        details=(*_ORDER, "reason"),
    ),
    # A task about a routine or a provider (no person) has no entry.
    Entry(
        TASK_OPENED,
        EntryKind.task_opened,
        at="opened_at",
        reference="task_id",
        details=("reference_id", *_ORDER, "due_date"),
        renamed={"task_kind": "kind"},
    ),
    Entry(
        TASK_CLOSED,
        EntryKind.task_closed,
        at="closed_at",
        reference="task_id",
        details=("reference_id",),
        renamed={"task_kind": "kind"},
    ),
    # --- pathway's own events -----------------------------------------------------------
    Entry(
        PATHWAY_OPENED,
        EntryKind.pathway_opened,
        # On its opening date, not when pathway recorded it: a pathway opened late from an
        # event of an earlier day (a consumer catching up) belongs among that day's steps, and
        # must not make its district look like the person's latest.
        at=on_day("opened_on", recorded="opened_at"),
        reference="pathway_id",
        details=("opened_on", "planned_end"),
        renamed={"pathway_kind": "kind", "from": "source"},
    ),
    Entry(
        PATHWAY_CLOSED,
        EntryKind.pathway_closed,
        at=on_day("closed_on", recorded="closed_at"),
        reference="pathway_id",
        details=("opened_on", "planned_end", "closed_on", "outcome", "overdue"),
        renamed={"pathway_kind": "kind"},
    ),
    Entry(
        PATHWAY_TASK_OPENED,
        EntryKind.pathway_task_opened,
        at="opened_at",
        reference="task_id",
        details=("pathway_id", "pathway_kind", "due_date"),
        renamed={"task_kind": "kind"},
    ),
    # --- budget (keyed by the flag, not the event) ---------------------------------------
    Entry(
        DELIVERY_FLAGGED,
        EntryKind.delivery_flagged,
        at="flagged_at",
        reference="flag_id",
        details=(
            "provider_org",
            "month",
            "decided_hours",
            "frame_min_hours",
            "frame_max_hours",
            "delivered_hours",
        ),
        renamed={"flag": "kind"},
    ),
)

ENTRIES: dict[str, Entry] = {entry.event_type.name: entry for entry in TABLE}
if len(ENTRIES) != len(TABLE):
    raise ValueError("an event type has two rows in the timeline's table")
