"""Pure rules of referrals (henvendelser) and applications (søknader), no IO: who may send
what, which services may be asked for, the case-handling deadline (forvaltningsloven § 11 a),
the application's states, and when a preliminary reply is due.

Checks return every broken rule at once, so a case officer fixes them in one go.
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from hjemflyt.shared.identity import InvalidOrganisationNumber, parse_organisation_number

# forvaltningsloven § 11 a: a case not answered within one month gets a preliminary reply.
# The municipality may configure a stricter or looser internal deadline (config/models.py).
DEFAULT_CASE_DEADLINE_MONTHS = 1


class Source(StrEnum):
    """Who the referral comes from ("one door in", DOMAIN § 3)."""

    person = "person"
    next_of_kin = "next_of_kin"
    gp = "gp"
    hospital = "hospital"
    emergency_gp = "emergency_gp"


# Health services identify themselves with a HER-id and an organisation number.
HEALTH_SERVICE_SOURCES = frozenset({Source.gp, Source.hospital, Source.emergency_gp})


class ReferralStatus(StrEnum):
    received = "received"
    application = "application"  # an application was registered from it
    closed = "closed"


class ApplicationStatus(StrEnum):
    received = "received"
    assessing = "assessing"
    decided = "decided"
    withdrawn = "withdrawn"


OPEN_APPLICATION_STATUSES = frozenset({ApplicationStatus.received, ApplicationStatus.assessing})


class Task(StrEnum):
    """What the overdue worklist asks of the case officer for an application."""

    preliminary_reply_due = "preliminary_reply_due"  # past the deadline, no preliminary reply
    new_preliminary_reply_due = "new_preliminary_reply_due"  # the promised date has passed too
    replied = "replied"  # past the deadline, the preliminary reply still holds


@dataclass(frozen=True)
class Violation:
    rule: str
    message: str
    field: str | None = None

    def as_dict(self) -> dict[str, str | None]:
        return {"rule": self.rule, "message": self.message, "field": self.field}


# --- dates -----------------------------------------------------------------------------


def add_months(day: date, months: int) -> date:
    """The same day `months` later; the month's last day where that day does not exist
    (31 January + 1 month = 28 or 29 February), as Norwegian deadlines in months are read."""
    if months < 0:
        raise ValueError("months must not be negative")
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def deadline_date(received: date, months: int | None) -> date:
    """The last day to decide before a preliminary reply is due."""
    return add_months(received, DEFAULT_CASE_DEADLINE_MONTHS if months is None else months)


def preliminary_reply_task(
    *,
    status: str,
    deadline: date,
    reply_date: date | None,
    expected_decision_date: date | None,
    today: date,
) -> Task | None:
    """The worklist task for an application today, or None if there is nothing to do.

    Overdue means the deadline day has passed without a decision. A preliminary reply
    settles it until the date it promised; after that, a new reply is due.
    """
    if status not in OPEN_APPLICATION_STATUSES or deadline >= today:
        return None
    if reply_date is None:
        return Task.preliminary_reply_due
    if expected_decision_date is not None and expected_decision_date < today:
        return Task.new_preliminary_reply_due
    return Task.replied


# --- states ----------------------------------------------------------------------------


def is_open(status: str) -> bool:
    """Received or being assessed: a preliminary reply, a withdrawal or a decision may follow."""
    return status in OPEN_APPLICATION_STATUSES


def may_register_application_from(referral_status: str) -> bool:
    return referral_status == ReferralStatus.received


# --- checks ----------------------------------------------------------------------------


def check_sender(
    source: Source,
    *,
    sender_name: str | None,
    sender_her_id: str | None,
    sender_organisation: str | None,
) -> tuple[list[Violation], str | None]:
    """Broken rules, and the organisation number in its 9-digit form.

    A GP, hospital or emergency GP names itself; a next of kin gives their name; HER-id and
    organisation number belong to health services only, and the person asks for themselves.
    """
    problems: list[Violation] = []
    organisation: str | None = None
    if source in HEALTH_SERVICE_SOURCES or source == Source.next_of_kin:
        if not sender_name:
            problems.append(
                Violation(
                    "sender-required", f"A referral from {source.value} names the sender.", "sender_name"
                )
            )
    elif sender_name is not None:
        problems.append(
            Violation(
                "sender-not-applicable",
                "A referral from the person has no other sender.",
                "sender_name",
            )
        )
    if source not in HEALTH_SERVICE_SOURCES:
        for field, value in (("sender_her_id", sender_her_id), ("sender_organisation", sender_organisation)):
            if value is not None:
                problems.append(
                    Violation(
                        "sender-not-applicable",
                        "HER-id and organisation number belong to a GP, hospital or emergency GP.",
                        field,
                    )
                )
    elif sender_organisation is not None:
        try:
            organisation = parse_organisation_number(sender_organisation)
        except InvalidOrganisationNumber as exc:
            problems.append(
                Violation(
                    "invalid-organisation-number",
                    f"The organisation number is not valid: {exc} ({exc.reason}).",
                    "sender_organisation",
                )
            )
    return problems, organisation


def check_services(
    requested: Sequence[str], catalogue: Mapping[str, bool], *, field: str, required: bool
) -> list[Violation]:
    """Every code is in the municipality's catalogue (`catalogue`: code → active), once."""
    problems: list[Violation] = []
    if required and not requested:
        problems.append(Violation("no-services", "Name at least one service applied for.", field))
    seen: set[str] = set()
    for i, code in enumerate(requested):
        where = f"{field}[{i}]"
        if code in seen:
            problems.append(Violation("duplicate-service-type", f"Service {code!r} is named twice.", where))
            continue
        seen.add(code)
        active = catalogue.get(code)
        if active is None:
            problems.append(
                Violation("unknown-service-type", f"{code!r} is not in the service catalogue.", where)
            )
        elif not active:
            problems.append(Violation("inactive-service-type", f"{code!r} is no longer offered.", where))
    return problems


def check_received_at(received_at: datetime, now: datetime) -> list[Violation]:
    if received_at > now:
        return [
            Violation("received-in-future", "A referral cannot be received in the future.", "received_at")
        ]
    return []


def check_received_date(received: date, today: date) -> list[Violation]:
    if received > today:
        return [
            Violation(
                "received-date-in-future", "An application cannot be received in the future.", "received_date"
            )
        ]
    return []


def check_expected_decision_date(expected: date, today: date) -> list[Violation]:
    if expected <= today:
        return [
            Violation(
                "expected-decision-date-not-in-future",
                "The expected decision date must be after today.",
                "expected_decision_date",
            )
        ]
    return []


@dataclass(frozen=True)
class CatalogueEntry:
    code: str
    name: str
    iplos_code: str
    active: bool


def map_requested_services(
    requested: Sequence[tuple[str | None, str | None]], catalogue: Sequence[CatalogueEntry]
) -> list[str]:
    """Catalogue codes for services a PLO message asks for as (IPLOS code, name).

    An IPLOS code that one active service type carries maps to it. Where several carry it
    (IPLOS 15 is both home nursing and reablement), the one whose name contains the
    message's name is taken; otherwise the case officer decides from the summary.
    """
    codes: list[str] = []
    for iplos_code, name in requested:
        matches = [e for e in catalogue if e.active and iplos_code and e.iplos_code == iplos_code]
        if len(matches) > 1 and name:
            wanted = name.casefold()
            matches = [e for e in matches if wanted in e.name.casefold()]
        if len(matches) == 1 and matches[0].code not in codes:
            codes.append(matches[0].code)
    return codes
