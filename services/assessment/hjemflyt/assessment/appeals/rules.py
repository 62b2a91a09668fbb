"""Pure rules of the appeal (klage), no IO: the deadline, lateness, the lifecycle and the
dates each step must respect (DOMAIN § 4; pasient- og brukerrettighetsloven §§ 7-2, 7-5,
forvaltningsloven §§ 31-34).

received → reassessing → closed      (the municipality gives the person what they asked)
                       → forwarded   (the municipality upholds its decision: on to the appeal body)
forwarded → closed                   (the appeal body's outcome is recorded)

A late appeal is flagged, never refused: the municipality may still consider it
(forvaltningsloven § 31).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

DEFAULT_WEEKS = 4


class AppealStatus(StrEnum):
    received = "received"
    reassessing = "reassessing"
    forwarded = "forwarded"
    closed = "closed"


class MunicipalityOutcome(StrEnum):
    upheld = "upheld"  # the decision stands: the appeal goes to the appeal body
    changed = "changed"  # the person is given part of what they asked
    reversed = "reversed"  # the person is given what they asked


class FinalOutcome(StrEnum):
    upheld = "upheld"
    changed = "changed"
    reversed = "reversed"
    returned = "returned"  # sent back to the municipality for a new assessment


class Awaiting(StrEnum):
    """What an open appeal waits for."""

    reassess = "reassess"  # the case officer must start the re-assessment
    decide = "decide"  # the municipality must decide: give the person what they asked, or uphold
    appeal_body = "appeal_body"  # Statsforvalteren's answer


class Step(StrEnum):
    reassess = "reassess"
    municipality_decision = "municipality_decision"
    final_outcome = "final_outcome"


# Decisions that exist for the person: a draft is not yet a decision.
APPEALABLE_DECISION_STATUSES = frozenset({"made", "sent", "active", "ended"})

# Which step may be taken from which status.
STEPS: dict[Step, AppealStatus] = {
    Step.reassess: AppealStatus.received,
    Step.municipality_decision: AppealStatus.reassessing,
    Step.final_outcome: AppealStatus.forwarded,
}

AWAITING: dict[AppealStatus, Awaiting | None] = {
    AppealStatus.received: Awaiting.reassess,
    AppealStatus.reassessing: Awaiting.decide,
    AppealStatus.forwarded: Awaiting.appeal_body,
    AppealStatus.closed: None,
}


@dataclass(frozen=True)
class Violation:
    rule: str
    message: str
    field: str | None = None

    def as_dict(self) -> dict[str, str | None]:
        return {"rule": self.rule, "message": self.message, "field": self.field}


def can_take(step: Step, status: AppealStatus) -> bool:
    return STEPS[step] == status


def after_municipality(outcome: MunicipalityOutcome) -> AppealStatus:
    """Upheld: forwarded to the appeal body. Changed or reversed: the person got what they asked."""
    return AppealStatus.forwarded if outcome == MunicipalityOutcome.upheld else AppealStatus.closed


def deadline(
    *, appeal_deadline: date | None, decision_date: date | None, weeks: int = DEFAULT_WEEKS
) -> date | None:
    """The deadline set when the letter was sent; if it was not sent, the decision date plus the
    municipality's weeks (the earliest the person can have learned of it)."""
    if appeal_deadline is not None:
        return appeal_deadline
    if decision_date is not None:
        return decision_date + timedelta(weeks=weeks)
    return None


def is_late(received: date, deadline_date: date | None) -> bool:
    return deadline_date is not None and received > deadline_date


def check_received(received: date, *, today: date, decision_date: date | None) -> list[Violation]:
    found: list[Violation] = []
    if received > today:
        found.append(
            Violation(
                "received-date-in-future", "The received date cannot be in the future.", "received_date"
            )
        )
    if decision_date is not None and received < decision_date:
        found.append(
            Violation(
                "received-before-decision",
                f"The appeal cannot be received before the decision was made ({decision_date}).",
                "received_date",
            )
        )
    return found


def check_decided(decided: date, *, today: date, not_before: date | None, since: str) -> list[Violation]:
    """A decided date is a legal date: not in the future and not before the step it answers."""
    found: list[Violation] = []
    if decided > today:
        found.append(
            Violation("decided-date-in-future", "The decided date cannot be in the future.", "decided_date")
        )
    if not_before is not None and decided < not_before:
        found.append(
            Violation(
                f"decided-before-{since}",
                f"The decided date cannot be before the {since.replace('-', ' ')} date ({not_before}).",
                "decided_date",
            )
        )
    return found


def answered(*, status: AppealStatus, municipality_decided: date | None, final: date | None) -> date | None:
    """When the appeal was answered (IPLOS): the final outcome's date, or the municipality's if it
    closed the appeal itself."""
    if status != AppealStatus.closed:
        return None
    return final or municipality_decided
