"""Pure rules of the assessment (kartlegging), no IO: what a draft may hold, what must be in
place before it is completed, and how a merge patch and an If-Match header are read.

Every broken rule is returned at once, so a case officer fixes them in one go.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from hjemflyt.shared.contracts.iplos import VERSIONS, validate_scores

DRAFT = "draft"
COMPLETED = "completed"


@dataclass(frozen=True)
class Violation:
    rule: str
    field: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"rule": self.rule, "field": self.field, "message": self.message}


@dataclass(frozen=True)
class Goal:
    text: str
    follow_up_date: date | None


@dataclass(frozen=True)
class Draft:
    """What completion looks at."""

    iplos_version: str
    visit_date: date | None
    participants: int
    what_matters: str | None
    scores: Mapping[str, int]
    goals: Sequence[Goal]


def check_scores(iplos_version: str, scores: Mapping[str, object]) -> list[Violation]:
    """The code list version is known, and every score is 1-5 or 9 for one of its variables."""
    version = VERSIONS.get(iplos_version)
    if version is None:
        known = ", ".join(sorted(VERSIONS))
        return [
            Violation(
                "unknown-iplos-version",
                "iplos_version",
                f"Unknown IPLOS code list version {iplos_version!r}; known: {known}.",
            )
        ]
    return [Violation(p.rule, f"scores.{p.variable}", p.message) for p in validate_scores(scores, version)]


def merge_scores(current: Mapping[str, int], patch: Mapping[str, int | None]) -> dict[str, int]:
    """JSON merge patch of scores: a value sets the variable's score, null removes it."""
    merged = dict(current)
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged


def blank(text: str | None) -> bool:
    return text is None or not text.strip()


def missing_for_completion(draft: Draft, today: date) -> list[Violation]:
    """Everything that keeps the draft from being completed, in the order of the form."""
    missing: list[Violation] = []
    if draft.visit_date is None:
        missing.append(
            Violation("visit-date-missing", "visit_date", "The date of the home visit is missing.")
        )
    elif draft.visit_date > today:
        missing.append(
            Violation(
                "visit-date-in-future",
                "visit_date",
                "The home visit is in the future; complete the assessment after the visit.",
            )
        )
    if draft.participants == 0:
        missing.append(
            Violation("participants-missing", "participants", "Record who took part in the home visit.")
        )
    if blank(draft.what_matters):
        missing.append(
            Violation(
                "what-matters-missing",
                "what_matters",
                'The person\'s answer to "Hva er viktig for deg?" is missing.',
            )
        )
    version = VERSIONS.get(draft.iplos_version)
    if version is not None:
        missing += [
            Violation(
                "variable-not-scored",
                f"scores.{v.key}",
                f"{v.name_nb} ({v.key}) has no score; use 9 if it is not relevant.",
            )
            for v in version.variables
            if v.key not in draft.scores
        ]
    # Stored scores were checked when written; this catches a code list version withdrawn since.
    missing += check_scores(draft.iplos_version, draft.scores)
    if not any(g.follow_up_date is not None for g in draft.goals):
        missing.append(
            Violation(
                "goal-with-follow-up-missing",
                "goals",
                "Record at least one goal in the person's own words with a follow-up date.",
            )
        )
    if draft.visit_date is not None:
        for i, goal in enumerate(draft.goals):
            if goal.follow_up_date is not None and goal.follow_up_date < draft.visit_date:
                missing.append(
                    Violation(
                        "follow-up-before-visit",
                        f"goals[{i}].follow_up_date",
                        "A goal is followed up on or after the home visit, not before it.",
                    )
                )
    return missing


# --- If-Match ------------------------------------------------------------------------------


def etag(version: int) -> str:
    return f'"{version}"'


def if_match_versions(header: str) -> frozenset[int] | None:
    """The versions an If-Match header names: `"3"` or `"3", "4"`. None for `*`, which this
    API does not take: a change is made to the version the caller has read. A weak tag
    (W/"3") never matches (RFC 9110 compares strongly); what cannot be read matches nothing."""
    tags = [t.strip() for t in header.split(",") if t.strip()]
    if "*" in tags:
        return None
    versions: set[int] = set()
    for tag in tags:
        inner = tag[1:-1]
        if len(tag) >= 3 and tag[0] == tag[-1] == '"' and inner.isascii() and inner.isdigit():
            versions.add(int(inner))
    return frozenset(versions)
