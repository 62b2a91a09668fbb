"""Routine registry rules (pure): the version lifecycle, whom a publication concerns, and
the effective set of a district (templates merged with its overrides)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import TypeVar

from hjemflyt.shared.platform.clock import OSLO
from hjemflyt.shared.platform.errors import Conflict, RuleViolation


class RoutineKind(StrEnum):
    routine = "routine"
    contacts = "contacts"
    on_call = "on_call"
    pathway = "pathway"
    services = "services"


class VersionStatus(StrEnum):
    draft = "draft"
    comment = "comment"
    published = "published"
    superseded = "superseded"


OPEN = frozenset({VersionStatus.draft, VersionStatus.comment})
PUBLISHED = frozenset({VersionStatus.published, VersionStatus.superseded})


def check_editable(status: str) -> None:
    if status in PUBLISHED:
        raise Conflict(
            "A published version cannot change; start a new draft instead.", slug="routine-version-published"
        )


def check_comment_period(status: str, until: date, today: date) -> None:
    if status != VersionStatus.draft:
        raise Conflict(
            "Only a draft can be opened for comments.", slug="routine-version-not-draft", status_now=status
        )
    if until <= today:
        raise RuleViolation("The comment period must end after today.", slug="comment-period-in-past")


def check_commentable(status: str, until: date | None, today: date) -> None:
    if status != VersionStatus.comment or until is None or today > until:
        raise Conflict(
            "This version is not open for comments.",
            slug="comment-period-closed",
            comment_until=until.isoformat() if until else None,
        )


def check_publishable(status: str, until: date | None, today: date) -> None:
    if status in PUBLISHED:
        raise Conflict("This version is already published.", slug="routine-version-published")
    if status == VersionStatus.comment and until is not None and today <= until:
        raise Conflict(
            "The comment period is still open.", slug="comment-period-open", comment_until=until.isoformat()
        )


def ack_deadline(published_at: datetime, days: int) -> datetime:
    """The acknowledgement deadline `days` days after a publication: the same time of day in
    Norway that many calendar days later. (Days of 24 hours would move it an hour when
    daylight saving time starts or ends in between, across midnight for a late publication.)"""
    return (published_at.astimezone(OSLO) + timedelta(days=days)).astimezone(UTC)


def concerned_districts(
    routine_district: str | None, provider_districts: Iterable[str], overridden: set[str]
) -> list[str]:
    """The provider's districts a routine applies to: an override, its district; a
    template, the districts that have no (published) override of that key."""
    districts = set(provider_districts)
    if routine_district is not None:
        return [routine_district] if routine_district in districts else []
    return sorted(districts - overridden)


V = TypeVar("V")


def effective(district: str, latest: Mapping[tuple[str, str | None], V]) -> dict[str, V]:
    """Per key, the district's override if it has a published version, else the template's.
    `latest` maps (key, district or None) to the latest published version."""
    chosen: dict[str, V] = {}
    for (key, where), version in latest.items():
        if where == district or (where is None and key not in chosen):
            chosen[key] = version
    return chosen
