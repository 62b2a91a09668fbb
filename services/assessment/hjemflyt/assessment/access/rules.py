"""Snooping review: which reads of a person's data fall outside the reader's remit (Normen:
access is reviewed, snooping is forbidden). Pure rules; the facts come from
`repository.remits` and the access-log rows of every service.

A read is flagged, for a person to review, never refused: the rules cannot know every good
reason (a colleague's sick leave, a call from the emergency ward), and refusing would stop
care. They are judged when the log is reviewed, not when the read is made, so a lookup
on the day a referral arrives is inside the case the referral opens a day later.

- `outside-districts`: a case officer or service lead whose districts (as their token stated
  them at the time) do not include any of the person's districts, and who has never worked
  on the person's cases (their caseload).
- `no-open-case`: nobody but the person, an auditor or the case system reads a person who
  has no case open at the time (referral, application, assessment, decision in force,
  appeal, assignment), allowing a week before a case opens and a month after it closes
  (letters, follow-up, the archive).
- `not-their-recipient`: a provider that was never chosen or assigned for the person.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from hjemflyt.shared.platform.auth import Role

GRACE_BEFORE = timedelta(days=7)
GRACE_AFTER = timedelta(days=30)
REVIEWED_ACTIONS = frozenset({"read", "lookup"})
# Not reviewed: the person themselves, the auditor (whose reads are logged and reviewable by
# another auditor) and the case system's account, which reads on behalf of users the case
# system logs itself.
NOT_REVIEWED = frozenset({Role.citizen.value, Role.auditor.value, Role.integration.value})
DISTRICT_ROLES = frozenset({Role.case_officer.value, Role.service_lead.value})


class Flag(StrEnum):
    outside_districts = "outside-districts"
    no_open_case = "no-open-case"
    not_their_recipient = "not-their-recipient"


@dataclass(frozen=True)
class CasePeriod:
    start: datetime
    end: datetime | None  # None: still open

    def covers(self, at: datetime) -> bool:
        if at < self.start - GRACE_BEFORE:
            return False
        return self.end is None or at <= self.end + GRACE_AFTER


@dataclass(frozen=True)
class Remit:
    """What makes a read of one person legitimate."""

    districts: frozenset[str] = frozenset()
    handlers: frozenset[str] = frozenset()  # subjects who worked on the person's cases
    providers: frozenset[str] = frozenset()  # organisations chosen or assigned
    periods: tuple[CasePeriod, ...] = field(default_factory=tuple)

    def open_at(self, at: datetime) -> bool:
        return any(p.covers(at) for p in self.periods)


@dataclass(frozen=True)
class Read:
    at: datetime
    actor: str
    role: str
    action: str
    organisation: str | None = None
    reader_districts: Iterable[str] | None = None


def flags(read: Read, remit: Remit) -> list[Flag]:
    if read.action not in REVIEWED_ACTIONS or read.role in NOT_REVIEWED:
        return []
    found: list[Flag] = []
    if read.role in DISTRICT_ROLES and read.reader_districts is not None:
        scope = set(read.reader_districts)
        if "*" not in scope and not scope & remit.districts and read.actor not in remit.handlers:
            found.append(Flag.outside_districts)
    if read.role == Role.provider.value and read.organisation not in remit.providers:
        found.append(Flag.not_their_recipient)
    if not remit.open_at(read.at):
        found.append(Flag.no_open_case)
    return found
