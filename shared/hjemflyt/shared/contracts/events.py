"""Event payloads of hjemflyt, one model per event type, and their registration.

Payloads carry a pseudonymous `person_id`, never identity numbers or names, except the
provider order (`order.issued`), which carries exactly what that one provider needs, sealed
(contracts/sealed.py), and is consumed only by the notifications service.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializationInfo,
    ValidationInfo,
    WithJsonSchema,
    field_serializer,
    field_validator,
)

from hjemflyt.shared.contracts.registry import EventType, register
from hjemflyt.shared.contracts.sealed import sealer_of


class EventData(BaseModel):
    # Consumers ignore fields they do not know, so producers may add optional fields.
    model_config = ConfigDict(extra="ignore", frozen=True)


# The age bands KOSTRA compares users per 1000 inhabitants by (DOMAIN § 6).
AgeBand = Literal["0-66", "67-79", "80+"]


class ProviderKind(StrEnum):
    municipal = "municipal"
    private = "private"


# --- notifications -------------------------------------------------------------------


class ProviderRegistered(EventData):
    provider_org: str = Field(pattern=r"^\d{9}$", description="organisasjonsnummer")
    name: str
    kind: ProviderKind
    service_codes: list[str] = Field(description="IPLOS service codes the provider may deliver")
    districts: list[str]
    version: int = Field(ge=1, description="Increases with every change of the provider")
    # Added with the registry's framework-agreement fields; optional so older events still read.
    service_types: list[str] = Field(
        default_factory=list, description="The municipality's service type codes under the agreement"
    )
    contract_prices_ore_per_hour: dict[str, int] = Field(
        default_factory=dict, description="Contract price per hour in øre, by service type code"
    )
    agreement_valid_from: date | None = None
    agreement_valid_to: date | None = Field(default=None, description="Last day of the agreement")
    contact_roles: list[str] = Field(
        default_factory=list, description="Roles the provider has named contacts for (no personal details)"
    )


class OrderCreated(EventData):
    order_id: UUID
    decision_id: UUID
    decision_version: int
    person_id: UUID
    provider_org: str
    created_at: datetime


# --- assessment ----------------------------------------------------------------------


class OrderedMeasure(EventData):
    """One measure of a decided service: what is done, how often and, where the district
    writes minutes (purchaser-provider), for how long each time."""

    code: str | None = Field(default=None, description="The municipality's measure catalogue code, if coded")
    description: str = Field(description="What is done, in the decision's words")
    times: int = Field(ge=1, description="How many times per `per`")
    per: str = Field(description="day | week | month | quarter | year")
    minutes: int | None = Field(default=None, ge=1, description="Minutes each time (purchaser-provider)")


class DecidedService(EventData):
    service_code: str = Field(description="IPLOS service code, e.g. 15 = health services at home")
    service_name: str
    hours_per_month: Decimal = Field(ge=0, description="Decided hours; the frame's maximum for a frame")
    provider_org: str | None = Field(default=None, pattern=r"^\d{9}$", description="None until chosen")
    service_type: str | None = Field(default=None, description="The municipality's catalogue code")
    outcome: str = Field(default="granted", description="granted | partly_granted | refused")
    scope_kind: str = Field(
        default="hours_per_month", description="hours_per_month | frame | minutes_per_measure"
    )
    # Added with the structured order (issue 12); optional so older events still read.
    frame_min_hours: Decimal | None = Field(default=None, description="Frame minimum (scope_kind frame)")
    frame_max_hours: Decimal | None = Field(default=None, description="Frame maximum (scope_kind frame)")
    measures: list[OrderedMeasure] = Field(default_factory=list, description="In the decision's order")


class DecisionMade(EventData):
    decision_id: UUID
    version: int = Field(ge=1)
    person_id: UUID
    district: str
    decision_date: date
    start_date: date
    end_date: date | None = None
    evaluation_date: date | None = None
    services: list[DecidedService]
    made_at: datetime
    application_id: UUID | None = None
    supersedes_id: UUID | None = None
    legal_basis: list[str] = Field(default_factory=list)
    # Optional so older events still read; None when the identity number gives no birth date.
    age_band: AgeBand | None = Field(
        default=None, description="The person's KOSTRA age band at the decision date: 0-66 | 67-79 | 80+"
    )


class DecisionAmended(EventData):
    """A running decision changed in the person's favour (a reduction needs a new decision)."""

    decision_id: UUID
    version: int
    person_id: UUID
    district: str
    start_date: date
    end_date: date | None = None
    evaluation_date: date | None = None
    services: list[DecidedService]
    changes: list[str] = Field(
        description="Which fields changed, e.g. services[home-nursing].hours_per_month"
    )
    amended_at: datetime
    age_band: AgeBand | None = Field(
        default=None, description="The person's KOSTRA age band at the decision date: 0-66 | 67-79 | 80+"
    )


class DecisionEnded(EventData):
    decision_id: UUID
    version: int
    person_id: UUID
    district: str
    end_date: date
    reason: str = Field(description="ended | superseded | expired | deceased | moved | masters_daily_life")
    superseded_by: UUID | None = None
    ended_at: datetime


class ReferralReceived(EventData):
    referral_id: UUID
    person_id: UUID
    district: str
    source: str = Field(description="person | next_of_kin | gp | hospital | emergency_gp")
    requested_services: list[str]
    received_at: datetime


class ApplicationRegistered(EventData):
    application_id: UUID
    person_id: UUID
    district: str
    referral_id: UUID | None = None
    services: list[str]
    received_date: date
    deadline_date: date = Field(
        description="After this, a preliminary reply is due (forvaltningsloven § 11 a)"
    )


class AssessmentCompleted(EventData):
    assessment_id: UUID
    person_id: UUID
    district: str
    application_id: UUID | None = None
    visit_date: date | None = None
    iplos_version: str
    scores: dict[str, int] = Field(description="IPLOS function scores by variable: 1-5, or 9 not relevant")
    goals: int = Field(ge=0, description="How many goals the person set")
    completed_at: datetime


class ProviderChosen(EventData):
    decision_id: UUID
    person_id: UUID
    district: str
    service_type: str
    service_code: str
    provider_org: str | None = Field(default=None, description="None: informed, not yet chosen")
    informed_date: date
    chosen_date: date | None = None


class AppealReceived(EventData):
    appeal_id: UUID
    decision_id: UUID
    person_id: UUID
    district: str
    received_date: date
    late: bool


class AppealDecided(EventData):
    appeal_id: UUID
    decision_id: UUID
    person_id: UUID
    district: str
    stage: str = Field(description="municipality | county_governor")
    outcome: str = Field(description="upheld | changed | reversed | returned")
    decided_date: date
    forwarded: bool = Field(description="True when the municipality upheld it and sent it on")
    new_decision_id: UUID | None = None


class OrderRecipient(EventData):
    """Personal details one provider needs to deliver to the person."""

    identity_number: str
    name: str
    address: str
    phone: str | None = None


class OrderIssued(EventData):
    kind: str = Field(default="new", description="new | changed | ended")
    decision_id: UUID = Field(description="The decision, or for an assignment the assignment's id")
    decision_version: int
    person_id: UUID
    district: str
    provider_org: str
    recipient: Annotated[
        OrderRecipient,
        WithJsonSchema(
            {
                "type": "string",
                "description": "The OrderRecipient (identity number, name, address, phone) as JSON, sealed "
                "with AES-256-GCM under the bus key HJEMFLYT_BUS_PII_KEY (url-safe base64 of nonce and "
                "ciphertext): only assessment and notifications can read it.",
            }
        ),
    ]
    services: list[DecidedService]
    start_date: date
    end_date: date | None = None
    case_office_contact: str | None = None
    issued_at: datetime
    # Added with the structured order (issue 12); optional so older events still read.
    basis: str = Field(
        default="decision", description="decision | assignment (pathway 1: sent before any decision)"
    )
    organisation_model: str | None = Field(
        default=None, description="purchaser_provider | trust_model | professional_freedom"
    )
    decision_date: date | None = None
    evaluation_date: date | None = None
    purpose: str | None = Field(default=None, description="What the services are for")
    user_goal: str | None = Field(default=None, description="The person's goal, in their own words")
    end_reason: str | None = Field(default=None, description="Why it ends (kind ended)")

    @field_serializer("recipient")
    def _seal(self, recipient: OrderRecipient, info: SerializationInfo) -> Any:
        sealer = sealer_of(info.context)
        if sealer is None:
            return recipient.model_dump(mode=info.mode)
        return sealer.seal(recipient.model_dump_json())

    @field_validator("recipient", mode="before")
    @classmethod
    def _open(cls, value: Any, info: ValidationInfo) -> Any:
        if not isinstance(value, str):
            return value
        sealer = sealer_of(info.context)
        if sealer is None:
            raise ValueError("the recipient is sealed and this process holds no bus key")
        try:
            return json.loads(sealer.open(value))
        except Exception as exc:  # a wrong key, or a token that is not ours
            raise ValueError("the sealed recipient cannot be opened with this bus key") from exc


class DecisionActivated(EventData):
    """A made and sent decision reached its start date (the sweep on the service clock)."""

    decision_id: UUID
    version: int
    person_id: UUID
    district: str
    start_date: date
    activated_at: datetime


PROVIDER_REGISTERED = register(
    EventType(
        "notifications",
        "provider",
        "registered",
        1,
        ProviderRegistered,
        "A provider was registered or changed: what it may deliver and where.",
    )
)
ORDER_CREATED = register(
    EventType(
        "notifications",
        "order",
        "created",
        1,
        OrderCreated,
        "An order for a provider was created from a decision and placed in its inbox.",
    )
)
DECISION_MADE = register(
    EventType(
        "assessment",
        "decision",
        "made",
        1,
        DecisionMade,
        "A decision (vedtak) was made: the services granted, their scope and chosen providers.",
    )
)
ORDER_ISSUED = register(
    EventType(
        "assessment",
        "order",
        "issued",
        1,
        OrderIssued,
        "What one provider needs to deliver a decision, personal details included. "
        "Only the notifications service consumes it.",
        personal_data=True,
    )
)

DECISION_AMENDED = register(
    EventType(
        "assessment",
        "decision",
        "amended",
        1,
        DecisionAmended,
        "A running decision was changed in the person's favour; a new version.",
    )
)
DECISION_ACTIVATED = register(
    EventType(
        "assessment",
        "decision",
        "activated",
        1,
        DecisionActivated,
        "A made and sent decision became active on its start date.",
    )
)
DECISION_ENDED = register(
    EventType("assessment", "decision", "ended", 1, DecisionEnded, "A decision ended, or was superseded.")
)
REFERRAL_RECEIVED = register(
    EventType(
        "assessment",
        "referral",
        "received",
        1,
        ReferralReceived,
        "A request for help arrived (from the person, next of kin, GP, hospital or emergency GP).",
    )
)
APPLICATION_REGISTERED = register(
    EventType(
        "assessment",
        "application",
        "registered",
        1,
        ApplicationRegistered,
        "An application was registered; the case-handling clock started.",
    )
)
ASSESSMENT_COMPLETED = register(
    EventType(
        "assessment",
        "assessment",
        "completed",
        1,
        AssessmentCompleted,
        "An assessment (kartlegging) was completed with IPLOS scores and the person's goals.",
    )
)
PROVIDER_CHOSEN = register(
    EventType(
        "assessment",
        "provider",
        "chosen",
        1,
        ProviderChosen,
        "The person was informed of provider choice and, if made, what they chose.",
    )
)
APPEAL_RECEIVED = register(
    EventType("assessment", "appeal", "received", 1, AppealReceived, "An appeal against a decision arrived.")
)
APPEAL_DECIDED = register(
    EventType(
        "assessment",
        "appeal",
        "decided",
        1,
        AppealDecided,
        "The municipality or Statsforvalteren decided an appeal.",
    )
)


class PersonAdmitted(EventData):
    """The person was admitted to a hospital or an institution: home services pause."""

    admission_id: UUID
    person_id: UUID
    district: str
    admitted_at: datetime
    institution_kind: str = Field(description="hospital | nursing_home | short_term_stay | other")
    expected_discharge_date: date | None = None


class PersonDischarged(EventData):
    """The person came home: paused home services resume."""

    admission_id: UUID
    person_id: UUID
    district: str
    admitted_at: datetime
    discharged_at: datetime


class AdmissionCancelled(EventData):
    """The hospital cancelled its admission message: the stay did not happen. Orders it
    paused resume, the stay leaves the budget; the admission is kept, marked cancelled."""

    admission_id: UUID
    person_id: UUID
    district: str
    admitted_at: datetime
    cancelled_at: datetime


class AdmissionReopened(EventData):
    """The hospital cancelled its discharge message: the person is still in hospital. The
    stay is open again (same admission); home services pause again."""

    admission_id: UUID
    person_id: UUID
    district: str
    admitted_at: datetime
    institution_kind: str = Field(description="hospital | nursing_home | short_term_stay | other")
    reopened_at: datetime


class TaskOpened(EventData):
    """A task for the case office arose from provider messaging (pathway's worklists)."""

    task_id: UUID
    kind: str = Field(
        description="order_unacknowledged | order_rejected | delivery_failed | change_of_need | ..."
    )
    reference_id: UUID = Field(description="The order, message or report the task is about")
    district: str | None = None
    person_id: UUID | None = None
    provider_org: str | None = None
    order_id: UUID | None = None
    due_date: date | None = None
    opened_at: datetime


class TaskClosed(EventData):
    task_id: UUID
    kind: str
    reference_id: UUID
    district: str | None = None
    person_id: UUID | None = None
    resolution: str
    closed_at: datetime


PERSON_ADMITTED = register(
    EventType(
        "assessment",
        "person",
        "admitted",
        1,
        PersonAdmitted,
        "The person was admitted to hospital or an institution; home services pause.",
    )
)
PERSON_DISCHARGED = register(
    EventType(
        "assessment",
        "person",
        "discharged",
        1,
        PersonDischarged,
        "The person was discharged home; paused home services resume.",
    )
)
ADMISSION_CANCELLED = register(
    EventType(
        "assessment",
        "admission",
        "cancelled",
        1,
        AdmissionCancelled,
        "An admission was cancelled (the hospital withdrew its message): the stay did not happen; "
        "orders it paused resume.",
    )
)
ADMISSION_REOPENED = register(
    EventType(
        "assessment",
        "admission",
        "reopened",
        1,
        AdmissionReopened,
        "A discharge was cancelled (the hospital withdrew its message): the stay is open again; "
        "home services pause again.",
    )
)
TASK_OPENED = register(
    EventType(
        "notifications",
        "task",
        "opened",
        1,
        TaskOpened,
        "A task for the case office: an order unacknowledged or rejected, a message undeliverable, "
        "a change-of-need report, a clarification or urgent request needing action.",
    )
)
TASK_CLOSED = register(
    EventType("notifications", "task", "closed", 1, TaskClosed, "A case-office task was done.")
)

# The notifications service's message events live in modules of their own; importing
# them here registers them wherever the contracts are used.
from hjemflyt.shared.contracts import assignments, budget, orders, pathway, reports, routines  # noqa: E402, F401
